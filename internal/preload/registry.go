package preload

import (
	"entgo.io/ent/dialect/sql"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/company"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/note"
	"github.com/scopegate/scopegate/ent/user"
)

// Per-parent caps: an eager load returns at most this many rows for each
// parent row, the newest first, so that a page's preloads stay bounded
// however many rows a parent has (a company with 100k jobs still yields 20
// per company). ent's Limit would cap the whole load, not each parent: see
// perParentLimit.
const (
	// NotesPerJob caps the notes loaded per job on the user surface.
	NotesPerJob = 20
	// JobsPerCompany caps the jobs loaded per company (company.jobs), on
	// both surfaces.
	JobsPerCompany = 20
	// ManagedJobsPerUser caps the jobs loaded per manager
	// (user.managed_jobs, admin surface).
	ManagedJobsPerUser = 20
)

// tables is the registry. It is filled by init from registry(), because its
// entries point into the registry itself: each to the table of its target.
var tables map[Entity]map[Surface][]entry

// maxNodes is the most edges one Tree can hold: the longest list of allowed
// paths. Parse never allocates room for more.
var maxNodes int

func init() {
	tables = registry()
	for _, bySurface := range tables {
		for s, entries := range bySurface {
			for i := range entries {
				entries[i].sub = tables[entries[i].Target][s]
			}
		}
	}
	for e := range tables {
		for _, s := range Surfaces {
			maxNodes = max(maxNodes, len(Allowed(e, s)))
		}
	}
}

// find returns the entry of edge in table, nil if it is not listed.
func find(table []entry, edge string) *entry {
	for i := range table {
		if table[i].Edge == edge {
			return &table[i]
		}
	}
	return nil
}

// registry: one table per entity, one row per (surface, edge). What is not
// here cannot be preloaded. Filters and orders narrow what the privacy rules
// already allow; they never widen it.
func registry() map[Entity]map[Surface][]entry {
	return map[Entity]map[Surface][]entry{
		Job: {
			SurfaceUser: {
				jobEdge(SurfaceUser, job.EdgeCompany, Company, "all", "", 0,
					func(q *ent.JobQuery, sub load) { q.WithCompany(func(c *ent.CompanyQuery) { sub(c) }) }),
				jobEdge(SurfaceUser, job.EdgeManagers, User, "active users only", "updated_at newest first", 0,
					func(q *ent.JobQuery, sub load) {
						q.WithManagers(func(u *ent.UserQuery) {
							u.Where(user.Active(true)).Order(managersOrder...)
							sub(u)
						})
					}),
				jobEdge(SurfaceUser, job.EdgeNotes, Note, "public notes only (internal = false)", "newest first", NotesPerJob,
					func(q *ent.JobQuery, sub load) {
						q.WithNotes(func(n *ent.NoteQuery) {
							n.Where(note.Internal(false)).Order(notesOrder...)
							n.Modify(perParentLimit(note.FieldJobID, NotesPerJob, notesOrderSQL...))
							sub(n)
						})
					}),
			},
			SurfaceAdmin: {
				jobEdge(SurfaceAdmin, job.EdgeCompany, Company, "all", "", 0,
					func(q *ent.JobQuery, sub load) { q.WithCompany(func(c *ent.CompanyQuery) { sub(c) }) }),
				jobEdge(SurfaceAdmin, job.EdgeManagers, User, "all", "updated_at newest first", 0,
					func(q *ent.JobQuery, sub load) {
						q.WithManagers(func(u *ent.UserQuery) { u.Order(managersOrder...); sub(u) })
					}),
				jobEdge(SurfaceAdmin, job.EdgeNotes, Note, "all", "newest first", 0,
					func(q *ent.JobQuery, sub load) {
						q.WithNotes(func(n *ent.NoteQuery) { n.Order(notesOrder...); sub(n) })
					}),
				jobEdge(SurfaceAdmin, job.EdgeCreator, User, "all", "", 0,
					func(q *ent.JobQuery, sub load) { q.WithCreator(func(u *ent.UserQuery) { sub(u) }) }),
			},
		},
		Note: {
			SurfaceUser: {
				noteEdge(SurfaceUser, note.EdgeAuthor, User, "all", "",
					func(q *ent.NoteQuery, sub load) { q.WithAuthor(func(u *ent.UserQuery) { sub(u) }) }),
			},
			SurfaceAdmin: {
				noteEdge(SurfaceAdmin, note.EdgeAuthor, User, "all", "",
					func(q *ent.NoteQuery, sub load) { q.WithAuthor(func(u *ent.UserQuery) { sub(u) }) }),
			},
		},
		Company: {
			SurfaceUser: {
				companyEdge(SurfaceUser, company.EdgeJobs, Job, "published jobs only", "newest first", JobsPerCompany,
					func(q *ent.CompanyQuery, sub load) {
						q.WithJobs(func(j *ent.JobQuery) {
							j.Where(job.StatusEQ(job.StatusPublished)).Order(jobsOrder...)
							j.Modify(perParentLimit(job.FieldCompanyID, JobsPerCompany, jobsOrderSQL...))
							sub(j)
						})
					}),
			},
			SurfaceAdmin: {
				companyEdge(SurfaceAdmin, company.EdgeJobs, Job, "all", "newest first", JobsPerCompany,
					func(q *ent.CompanyQuery, sub load) {
						q.WithJobs(func(j *ent.JobQuery) {
							j.Order(jobsOrder...)
							j.Modify(perParentLimit(job.FieldCompanyID, JobsPerCompany, jobsOrderSQL...))
							sub(j)
						})
					}),
			},
		},
		User: {
			SurfaceUser: {
				userEdge(SurfaceUser, user.EdgeCompany, Company, "all", "", 0,
					func(q *ent.UserQuery, sub load) { q.WithCompany(func(c *ent.CompanyQuery) { sub(c) }) }),
			},
			SurfaceAdmin: {
				userEdge(SurfaceAdmin, user.EdgeCompany, Company, "all", "", 0,
					func(q *ent.UserQuery, sub load) { q.WithCompany(func(c *ent.CompanyQuery) { sub(c) }) }),
				// The M2M load selects the join table's user_id first
				// (ent's loadManagedJobs): the rows of one manager are
				// numbered together.
				userEdge(SurfaceAdmin, user.EdgeManagedJobs, Job, "all", "newest first", ManagedJobsPerUser,
					func(q *ent.UserQuery, sub load) {
						q.WithManagedJobs(func(j *ent.JobQuery) {
							j.Order(jobsOrder...)
							j.Modify(perParentLimit(user.ManagedJobsPrimaryKey[1], ManagedJobsPerUser, jobsOrderSQL...))
							sub(j)
						})
					}),
			},
		},
	}
}

// Orders. Every one ends in the id, so equal timestamps still sort the same
// way on every call.
var (
	managersOrder = []user.OrderOption{user.ByUpdatedAt(sql.OrderDesc()), user.ByID(sql.OrderDesc())}
	notesOrder    = []note.OrderOption{note.ByCreatedAt(sql.OrderDesc()), note.ByID(sql.OrderDesc())}
	notesOrderSQL = []string{sql.Desc(note.FieldCreatedAt), sql.Desc(note.FieldID)}
	jobsOrder     = []job.OrderOption{job.ByCreatedAt(sql.OrderDesc()), job.ByID(sql.OrderDesc())}
	jobsOrderSQL  = []string{sql.Desc(job.FieldCreatedAt), sql.Desc(job.FieldID)}
)
