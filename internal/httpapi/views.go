package httpapi

import (
	"time"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/internal/policy"
)

// The JSON views. Each is written out field by field, so a new column never
// reaches a client by accident (password_hash has no view at all). Redacted
// fields were zeroed by the repository; omitempty leaves them out, and the
// object's "redacted" array names them.

type orgView struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
	Slug string `json:"slug"`
}

type userView struct {
	ID        int        `json:"id"`
	OrgID     int        `json:"org_id"`
	Email     string     `json:"email,omitempty"`
	Name      string     `json:"name"`
	Phone     string     `json:"phone,omitempty"`
	Role      string     `json:"role"`
	Banned    bool       `json:"banned"`
	Active    bool       `json:"active"`
	CompanyID *int       `json:"company_id,omitempty"`
	CreatedAt jsonTime   `json:"created_at"`
	UpdatedAt jsonTime   `json:"updated_at"`
	Edges     *userEdges `json:"edges,omitempty"`
	Redacted  []string   `json:"redacted,omitempty"`
}

// jsonTime writes a time as time.Time does (RFC 3339 with nanoseconds),
// through MarshalText: encoding/json re-scans and compacts whatever a
// MarshalJSON returns, which made timestamps a tenth of a list's encoding.
type jsonTime time.Time

func (t jsonTime) MarshalText() ([]byte, error) {
	return time.Time(t).AppendFormat(make([]byte, 0, len(time.RFC3339Nano)+6), time.RFC3339Nano), nil
}

// The edges of each view. Fields are in alphabetical order, as a map's
// keys were written; an edge that was not loaded is nil and left out, one
// loaded empty is an empty slice and written as []. A struct, not a map:
// encoding it costs no map iteration, sorting or interface boxing per row.
type userEdges struct {
	Company     *companyView `json:"company,omitempty"`
	ManagedJobs []jobView    `json:"managed_jobs,omitzero"`
}

type companyEdges struct {
	Jobs []jobView `json:"jobs,omitzero"`
}

type jobEdges struct {
	Company  *companyView `json:"company,omitempty"`
	Creator  *userView    `json:"creator,omitempty"`
	Managers []userView   `json:"managers,omitzero"`
	Notes    []noteView   `json:"notes,omitzero"`
}

type noteEdges struct {
	Author *userView `json:"author,omitempty"`
}

type companyView struct {
	ID        int           `json:"id"`
	OrgID     int           `json:"org_id"`
	Name      string        `json:"name"`
	Archived  bool          `json:"archived"`
	CreatedAt jsonTime      `json:"created_at"`
	UpdatedAt jsonTime      `json:"updated_at"`
	Edges     *companyEdges `json:"edges,omitempty"`
}

type jobView struct {
	ID          int       `json:"id"`
	OrgID       int       `json:"org_id"`
	CompanyID   int       `json:"company_id"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Status      string    `json:"status"`
	SalaryMax   *int      `json:"salary_max,omitempty"`
	CreatedByID int       `json:"created_by_id"`
	CreatedAt   jsonTime  `json:"created_at"`
	UpdatedAt   jsonTime  `json:"updated_at"`
	Edges       *jobEdges `json:"edges,omitempty"`
	Redacted    []string  `json:"redacted,omitempty"`
}

type noteView struct {
	ID        int        `json:"id"`
	OrgID     int        `json:"org_id"`
	JobID     int        `json:"job_id"`
	AuthorID  int        `json:"author_id"`
	Body      string     `json:"body"`
	Internal  bool       `json:"internal"`
	CreatedAt jsonTime   `json:"created_at"`
	UpdatedAt jsonTime   `json:"updated_at"`
	Edges     *noteEdges `json:"edges,omitempty"`
}

// viewOrg takes the redaction like every view, though an organization has
// no field in the redaction table and its view no edges.
func viewOrg(o *ent.Organization, _ policy.Redacted) orgView {
	return orgView{ID: o.ID, Name: o.Name, Slug: o.Slug}
}

func viewUser(u *ent.User, red policy.Redacted) userView {
	v := userView{ID: u.ID, OrgID: u.OrgID, Email: u.Email, Name: u.Name, Phone: u.Phone, Role: string(u.Role),
		Banned: u.Banned, Active: u.Active, CompanyID: u.CompanyID, CreatedAt: jsonTime(u.CreatedAt), UpdatedAt: jsonTime(u.UpdatedAt),
		Redacted: red.Fields(u)}
	if u.Edges.Company != nil || u.Edges.ManagedJobs != nil {
		v.Edges = &userEdges{}
		if u.Edges.ManagedJobs != nil {
			v.Edges.ManagedJobs = viewEach(u.Edges.ManagedJobs, red, viewJob)
		}
		if u.Edges.Company != nil {
			c := viewCompany(u.Edges.Company, red)
			v.Edges.Company = &c
		}
	}
	return v
}

func viewCompany(c *ent.Company, red policy.Redacted) companyView {
	v := companyView{ID: c.ID, OrgID: c.OrgID, Name: c.Name, Archived: c.Archived, CreatedAt: jsonTime(c.CreatedAt), UpdatedAt: jsonTime(c.UpdatedAt)}
	if c.Edges.Jobs != nil {
		v.Edges = &companyEdges{Jobs: viewEach(c.Edges.Jobs, red, viewJob)}
	}
	return v
}

func viewJob(j *ent.Job, red policy.Redacted) jobView {
	v := jobView{ID: j.ID, OrgID: j.OrgID, CompanyID: j.CompanyID, Title: j.Title, Description: j.Description,
		Status: string(j.Status), SalaryMax: j.SalaryMax, CreatedByID: j.CreatedByID, CreatedAt: jsonTime(j.CreatedAt),
		UpdatedAt: jsonTime(j.UpdatedAt), Redacted: red.Fields(j)}
	if j.Edges.Company != nil || j.Edges.Managers != nil || j.Edges.Notes != nil || j.Edges.Creator != nil {
		v.Edges = &jobEdges{}
		if j.Edges.Managers != nil {
			v.Edges.Managers = viewEach(j.Edges.Managers, red, viewUser)
		}
		if j.Edges.Notes != nil {
			v.Edges.Notes = viewEach(j.Edges.Notes, red, viewNote)
		}
		if j.Edges.Company != nil {
			c := viewCompany(j.Edges.Company, red)
			v.Edges.Company = &c
		}
		if j.Edges.Creator != nil {
			u := viewUser(j.Edges.Creator, red)
			v.Edges.Creator = &u
		}
	}
	return v
}

func viewNote(n *ent.Note, red policy.Redacted) noteView {
	v := noteView{ID: n.ID, OrgID: n.OrgID, JobID: n.JobID, AuthorID: n.AuthorID, Body: n.Body, Internal: n.Internal,
		CreatedAt: jsonTime(n.CreatedAt), UpdatedAt: jsonTime(n.UpdatedAt)}
	if n.Edges.Author != nil {
		u := viewUser(n.Edges.Author, red)
		v.Edges = &noteEdges{Author: &u}
	}
	return v
}

// viewEach views every item of a list, or of a loaded edge, with view
// under one redaction.
func viewEach[T, V any](items []T, red policy.Redacted, view func(T, policy.Redacted) V) []V {
	out := make([]V, len(items))
	for i, it := range items {
		out[i] = view(it, red)
	}
	return out
}
