package integration

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/policy"
	"github.com/scopegate/scopegate/internal/preload"
	"github.com/scopegate/scopegate/internal/repo"
)

func repoPtr[T any](v T) *T { return &v }

// repoPolicyCase is one mutation on one kind of target. prepare seeds the
// target for the actor (under the system scope) and returns the call.
type repoPolicyCase struct {
	action  string
	target  string
	prepare func(t *testing.T, w *repoWorld, actor *ent.User) func(ctx context.Context) error
	want    map[string]repoWant
}

// repoSkip marks an actor a case does not apply to.
var repoSkip = repoWant{class: "skip"}

// repoByRole spells out the expected outcome for the four roles of tenant A
// and for the banned user of each role.
func repoByRole(admin, manager, member, client, banned repoWant) map[string]repoWant {
	return map[string]repoWant{
		actAdmin: admin, actManager: manager, actMember: member, actClient: client,
		actBannedAdmin: banned, actBannedManager: banned, actBannedMember: banned, actBannedClient: banned,
	}
}

func repoPolicyCases() []repoPolicyCase {
	ok, nf, noAllow, banned := wantOK, wantNotFound, wantNoAllow, wantDenyBanned

	jobUpdate := func(seed func(t *testing.T, w *repoWorld, actor *ent.User) *ent.Job) func(*testing.T, *repoWorld, *ent.User) func(context.Context) error {
		return func(t *testing.T, w *repoWorld, actor *ent.User) func(context.Context) error {
			j := seed(t, w, actor)
			return func(ctx context.Context) error {
				_, _, err := w.r.Jobs.Update(ctx, j.ID, repo.JobPatch{Title: repoPtr("changed title")})
				return err
			}
		}
	}
	jobDelete := func(seed func(t *testing.T, w *repoWorld, actor *ent.User) *ent.Job) func(*testing.T, *repoWorld, *ent.User) func(context.Context) error {
		return func(t *testing.T, w *repoWorld, actor *ent.User) func(context.Context) error {
			j := seed(t, w, actor)
			return func(ctx context.Context) error { return w.r.Jobs.Delete(ctx, j.ID) }
		}
	}
	noteCreate := func(seed func(t *testing.T, w *repoWorld, actor *ent.User) *ent.Job) func(*testing.T, *repoWorld, *ent.User) func(context.Context) error {
		return func(t *testing.T, w *repoWorld, actor *ent.User) func(context.Context) error {
			j := seed(t, w, actor)
			return func(ctx context.Context) error {
				_, _, err := w.r.Notes.Create(ctx, j.ID, repo.NoteInput{Body: "a public note"})
				return err
			}
		}
	}
	noteUpdate := func(seed func(t *testing.T, w *repoWorld, actor *ent.User) *ent.Note) func(*testing.T, *repoWorld, *ent.User) func(context.Context) error {
		return func(t *testing.T, w *repoWorld, actor *ent.User) func(context.Context) error {
			n := seed(t, w, actor)
			return func(ctx context.Context) error {
				_, _, err := w.r.Notes.Update(ctx, n.ID, repo.NotePatch{Body: repoPtr("edited")})
				return err
			}
		}
	}
	noteDelete := func(seed func(t *testing.T, w *repoWorld, actor *ent.User) *ent.Note) func(*testing.T, *repoWorld, *ent.User) func(context.Context) error {
		return func(t *testing.T, w *repoWorld, actor *ent.User) func(context.Context) error {
			n := seed(t, w, actor)
			return func(ctx context.Context) error { return w.r.Notes.Delete(ctx, n.ID) }
		}
	}
	userUpdate := func(seed func(t *testing.T, w *repoWorld, actor *ent.User) *ent.User) func(*testing.T, *repoWorld, *ent.User) func(context.Context) error {
		return func(t *testing.T, w *repoWorld, actor *ent.User) func(context.Context) error {
			u := seed(t, w, actor)
			return func(ctx context.Context) error {
				_, _, err := w.r.Users.Update(ctx, u.ID, repo.UserPatch{Name: repoPtr("New Name"), Phone: repoPtr("555-1234")})
				return err
			}
		}
	}
	userDelete := func(seed func(t *testing.T, w *repoWorld, actor *ent.User) *ent.User) func(*testing.T, *repoWorld, *ent.User) func(context.Context) error {
		return func(t *testing.T, w *repoWorld, actor *ent.User) func(context.Context) error {
			u := seed(t, w, actor)
			return func(ctx context.Context) error { return w.r.Users.Delete(ctx, u.ID) }
		}
	}
	companyUpdate := func(seed func(t *testing.T, w *repoWorld) *ent.Company) func(*testing.T, *repoWorld, *ent.User) func(context.Context) error {
		return func(t *testing.T, w *repoWorld, _ *ent.User) func(context.Context) error {
			c := seed(t, w)
			name := fmt.Sprintf("renamed %d", w.seed.Next())
			return func(ctx context.Context) error {
				_, _, err := w.r.Companies.Update(ctx, c.ID, repo.CompanyPatch{Name: &name})
				return err
			}
		}
	}
	companyDelete := func(seed func(t *testing.T, w *repoWorld) *ent.Company) func(*testing.T, *repoWorld, *ent.User) func(context.Context) error {
		return func(t *testing.T, w *repoWorld, _ *ent.User) func(context.Context) error {
			c := seed(t, w)
			return func(ctx context.Context) error { return w.r.Companies.Delete(ctx, c.ID) }
		}
	}
	publishedManagedBy := func(who func(w *repoWorld, actor *ent.User) *ent.User) func(*testing.T, *repoWorld, *ent.User) *ent.Job {
		return func(t *testing.T, w *repoWorld, actor *ent.User) *ent.Job {
			return w.seedJob(t, w.c1, job.StatusPublished, who(w, actor))
		}
	}
	theManager := func(w *repoWorld, _ *ent.User) *ent.User { return w.actors[actManager] }
	theActor := func(_ *repoWorld, actor *ent.User) *ent.User { return actor }
	published := func(t *testing.T, w *repoWorld, _ *ent.User) *ent.Job {
		return w.seedJob(t, w.c1, job.StatusPublished)
	}
	draft := func(t *testing.T, w *repoWorld, _ *ent.User) *ent.Job { return w.seedJob(t, w.c1, job.StatusDraft) }
	draftOfActor := func(t *testing.T, w *repoWorld, actor *ent.User) *ent.Job {
		return w.seedJob(t, w.c1, job.StatusDraft, actor)
	}
	ownNote := func(t *testing.T, w *repoWorld, actor *ent.User) *ent.Note {
		return w.seed.Note(t, w.seedJob(t, w.c1, job.StatusPublished), actor, false)
	}
	othersNote := func(internal bool) func(*testing.T, *repoWorld, *ent.User) *ent.Note {
		return func(t *testing.T, w *repoWorld, _ *ent.User) *ent.Note {
			return w.seed.Note(t, w.seedJob(t, w.c1, job.StatusPublished), w.admin2, internal)
		}
	}
	freshMember := func(t *testing.T, w *repoWorld, _ *ent.User) *ent.User {
		return w.seed.User(t, w.orgA.ID, user.RoleMember, nil)
	}
	freshMemberWithSession := func(t *testing.T, w *repoWorld, _ *ent.User) *ent.User {
		u := w.seed.User(t, w.orgA.ID, user.RoleMember, nil)
		w.seed.Session(t, u)
		return u
	}
	managerOfClientsJob := func(t *testing.T, w *repoWorld, _ *ent.User) *ent.User {
		m := w.seed.User(t, w.orgA.ID, user.RoleManager, nil)
		w.seedJob(t, w.c1, job.StatusPublished, m)
		return m
	}
	self := func(_ *testing.T, _ *repoWorld, actor *ent.User) *ent.User { return actor }

	return []repoPolicyCase{
		{"job.create", "a job of the client's company", func(t *testing.T, w *repoWorld, _ *ent.User) func(context.Context) error {
			return func(ctx context.Context) error {
				_, _, err := w.r.Jobs.Create(ctx, repo.JobInput{Title: "new job", CompanyID: w.c1.ID})
				return err
			}
		}, repoByRole(ok, ok, noAllow, noAllow, banned)},
		{"job.update", "a published job the manager manages", jobUpdate(publishedManagedBy(theManager)),
			repoByRole(ok, ok, noAllow, noAllow, nf)},
		{"job.update", "a published job nobody of them manages", jobUpdate(published),
			repoByRole(ok, noAllow, noAllow, noAllow, nf)},
		{"job.update", "a draft job nobody of them manages", jobUpdate(draft),
			repoByRole(ok, nf, nf, nf, nf)},
		{"job.update", "a draft job the actor manages", jobUpdate(draftOfActor),
			repoByRole(ok, ok, noAllow, nf, nf)},
		{"job.update", "a published job of another company", jobUpdate(func(t *testing.T, w *repoWorld, _ *ent.User) *ent.Job {
			return w.seedJob(t, w.c2, job.StatusPublished)
		}), repoByRole(ok, noAllow, noAllow, nf, nf)},
		{"job.delete", "a published job the actor manages, with a note", jobDelete(func(t *testing.T, w *repoWorld, actor *ent.User) *ent.Job {
			j := w.seedJob(t, w.c1, job.StatusPublished, actor)
			w.seed.Note(t, j, w.admin2, false)
			return j
		}), repoByRole(ok, noAllow, noAllow, noAllow, nf)},
		{"job.delete", "a draft job nobody of them manages", jobDelete(draft),
			repoByRole(ok, nf, nf, nf, nf)},
		{"company.create", "a new company", func(t *testing.T, w *repoWorld, _ *ent.User) func(context.Context) error {
			name := fmt.Sprintf("new company %d", w.seed.Next())
			return func(ctx context.Context) error {
				_, _, err := w.r.Companies.Create(ctx, repo.CompanyInput{Name: name})
				return err
			}
		}, repoByRole(ok, noAllow, noAllow, noAllow, banned)},
		{"company.update", "the client's own company", companyUpdate(func(_ *testing.T, w *repoWorld) *ent.Company { return w.c1 }),
			repoByRole(ok, noAllow, noAllow, noAllow, nf)},
		{"company.update", "another company", companyUpdate(func(t *testing.T, w *repoWorld) *ent.Company { return w.seed.Company(t, w.orgA.ID) }),
			repoByRole(ok, noAllow, noAllow, nf, nf)},
		{"company.delete", "an empty company", companyDelete(func(t *testing.T, w *repoWorld) *ent.Company { return w.seed.Company(t, w.orgA.ID) }),
			repoByRole(ok, noAllow, noAllow, nf, nf)},
		{"company.delete", "the client's own company, which has jobs and clients", companyDelete(func(_ *testing.T, w *repoWorld) *ent.Company { return w.c1 }),
			repoByRole(wantConflict, noAllow, noAllow, noAllow, nf)},
		{"note.create", "on a published job", noteCreate(published),
			repoByRole(ok, ok, ok, noAllow, nf)},
		{"note.create", "on a draft job nobody of them manages", noteCreate(draft),
			repoByRole(ok, nf, nf, nf, nf)},
		{"note.create", "on a draft job the actor manages", noteCreate(draftOfActor),
			repoByRole(ok, ok, ok, nf, nf)},
		{"note.update", "their own note", noteUpdate(ownNote),
			repoByRole(ok, ok, ok, ok, nf)},
		{"note.update", "another user's public note", noteUpdate(othersNote(false)),
			repoByRole(ok, noAllow, noAllow, noAllow, nf)},
		{"note.update", "another user's internal note", noteUpdate(othersNote(true)),
			repoByRole(ok, noAllow, nf, nf, nf)},
		{"note.delete", "their own note", noteDelete(ownNote),
			repoByRole(ok, ok, ok, ok, nf)},
		{"note.delete", "another user's public note", noteDelete(othersNote(false)),
			repoByRole(ok, noAllow, noAllow, noAllow, nf)},
		{"user.create", "a member", func(t *testing.T, w *repoWorld, _ *ent.User) func(context.Context) error {
			email := fmt.Sprintf("created%d@a.test", w.seed.Next())
			return func(ctx context.Context) error {
				_, _, err := w.r.Users.Create(ctx, repo.UserInput{Email: email, Name: "Created", Role: "member", Password: "long enough password"})
				return err
			}
		}, repoByRole(ok, noAllow, noAllow, noAllow, banned)},
		{"user.update", "their own name and phone", userUpdate(self),
			repoByRole(ok, ok, ok, ok, banned)},
		{"user.update", "another member", userUpdate(freshMember),
			repoByRole(ok, noAllow, noAllow, nf, nf)},
		{"user.update", "a manager of a job the client sees", userUpdate(managerOfClientsJob),
			repoByRole(ok, noAllow, noAllow, noAllow, nf)},
		{"user.delete", "another member with a session", userDelete(freshMemberWithSession),
			repoByRole(ok, noAllow, noAllow, nf, nf)},
		{"user.delete", "a manager of a job the client sees", userDelete(managerOfClientsJob),
			repoByRole(ok, noAllow, noAllow, noAllow, nf)},
		// An admin deleting themself is TestRepoLastAdmin's business.
		{"user.delete", "themself", userDelete(self),
			repoByRole(repoSkip, noAllow, noAllow, noAllow, banned)},
		{"job.update", "a published job the actor manages (seeded as manager of it)", jobUpdate(publishedManagedBy(theActor)),
			repoByRole(ok, ok, noAllow, noAllow, nf)},
	}
}

// TestRepoPolicyMatrix: every role of docs/design.md section 5, banned users of every
// role included, against every mutation of every repository. A call either
// succeeds and writes, or fails and writes nothing: ErrForbidden carrying
// the *policy.Error whose DecidedBy names the denying check, for a row the
// caller can see; ErrNotFound, with no trace of a policy decision, for a row
// the caller cannot see.
func TestRepoPolicyMatrix(t *testing.T) {
	t.Parallel()
	w := newRepoWorld(t)
	for _, c := range repoPolicyCases() {
		t.Run(c.action+"/"+c.target, func(t *testing.T) {
			for _, actor := range repoActors {
				want := c.want[actor]
				require.NotEmpty(t, want.class, "no expectation for %s", actor)
				if want == repoSkip {
					continue
				}
				t.Run(actor+" gets "+want.String(), func(t *testing.T) {
					call := c.prepare(t, w, w.actors[actor])
					before := w.db.Sums(t)
					err := call(w.as(t, actor))
					repoAssertOutcome(t, err, want)
					if want.class == repoOK {
						w.db.AssertChanged(t, before, c.action)
					} else {
						w.db.AssertUnchanged(t, before, c.action)
					}
				})
			}
		})
	}
}

// TestRepoPolicyDetails: the behaviours the brief names one by one, and the
// rules around internal notes.
func TestRepoPolicyDetails(t *testing.T) {
	t.Parallel()
	w := newRepoWorld(t)
	member, manager := w.actors[actMember], w.actors[actManager]

	t.Run("MemberUpdatingADraftJobTheyDoNotManageGetsNotFound", func(t *testing.T) {
		j := w.seedJob(t, w.c1, job.StatusDraft, manager)
		_, _, err := w.r.Jobs.Update(w.as(t, actMember), j.ID, repo.JobPatch{Title: repoPtr("x")})
		repoAssertOutcome(t, err, wantNotFound)
		_, _, missing := w.r.Jobs.Update(w.as(t, actMember), pgtest.MissingID, repo.JobPatch{Title: repoPtr("x")})
		assert.Equal(t, repoErrClass(missing), repoErrClass(err), "hidden and missing differ")
	})
	t.Run("MemberUpdatingAPublishedJobIsForbidden", func(t *testing.T) {
		j := w.seedJob(t, w.c1, job.StatusPublished, manager)
		_, _, err := w.r.Jobs.Update(w.as(t, actMember), j.ID, repo.JobPatch{Title: repoPtr("x")})
		repoAssertOutcome(t, err, wantNoAllow)
		var pe *policy.Error
		require.True(t, errors.As(err, &pe))
		assert.Equal(t, policy.JobUpdate, pe.Decision.Action)
	})
	t.Run("MemberWritingAnInternalNoteIsForbidden", func(t *testing.T) {
		j := w.seedJob(t, w.c1, job.StatusPublished)
		before := w.db.Sums(t)
		_, _, err := w.r.Notes.Create(w.as(t, actMember), j.ID, repo.NoteInput{Body: "secret", Internal: true})
		assert.Equal(t, repoForbidden, repoErrClass(err), "error: %v", err)
		w.db.AssertUnchanged(t, before, "internal note by a member")
	})
	t.Run("MemberTurningTheirNoteInternalIsForbidden", func(t *testing.T) {
		n := w.seed.Note(t, w.seedJob(t, w.c1, job.StatusPublished), member, false)
		before := w.db.Sums(t)
		_, _, err := w.r.Notes.Update(w.as(t, actMember), n.ID, repo.NotePatch{Internal: repoPtr(true)})
		assert.Equal(t, repoForbidden, repoErrClass(err), "error: %v", err)
		w.db.AssertUnchanged(t, before, "note made internal by a member")
	})
	t.Run("ManagerWritesAnInternalNote", func(t *testing.T) {
		j := w.seedJob(t, w.c1, job.StatusPublished)
		n, _, err := w.r.Notes.Create(w.as(t, actManager), j.ID, repo.NoteInput{Body: "secret", Internal: true})
		require.NoError(t, err)
		assert.True(t, n.Internal)
	})
	t.Run("ManagerHandsTheirDraftJobToAnotherManager", func(t *testing.T) {
		// Allowed: they manage the job when they change it, even if the
		// change hides it from them afterwards.
		other := w.seed.User(t, w.orgA.ID, user.RoleManager, nil)
		j := w.seedJob(t, w.c1, job.StatusDraft, manager)
		_, _, err := w.r.Jobs.Update(w.as(t, actManager), j.ID, repo.JobPatch{ManagerIDs: &[]int{other.ID}})
		require.NoError(t, err)
		got, err := w.db.Client.Job.Query().Where(job.ID(j.ID)).QueryManagers().IDs(pgtest.SystemContext(t))
		require.NoError(t, err)
		assert.Equal(t, []int{other.ID}, got)
	})
	t.Run("DeletedJobTakesItsNotesAndManagerLinks", func(t *testing.T) {
		j := w.seedJob(t, w.c1, job.StatusPublished, manager, member)
		w.seed.Note(t, j, member, false)
		require.NoError(t, w.r.Jobs.Delete(w.as(t, actAdmin), j.ID))
		var n int
		require.NoError(t, w.db.Raw.QueryRow(`SELECT (SELECT count(*) FROM notes WHERE job_id = $1) + (SELECT count(*) FROM job_managers WHERE job_id = $1)`, j.ID).Scan(&n))
		assert.Zero(t, n)
	})
}

// repoAttack is one write aimed at tenant B from a scope of tenant A.
// prepare seeds what the call needs in tenant A and returns the call, taking
// the id under attack, and B's id; the same call is made with pgtest.MissingID.
type repoAttack struct {
	name    string
	prepare func(t *testing.T, w *repoWorld, actor *ent.User) (call func(ctx context.Context, id int) error, foreign int)
	want    map[string]repoWant
}

func repoAttacks() []repoAttack {
	nf, forb := wantNotFound, repoWant{class: repoForbidden}
	allNF := repoByRole(nf, nf, nf, nf, nf)
	// Creates authorize first: roles that may not create are refused
	// before any id is looked at, foreign and missing alike.
	jobCreators := repoByRole(nf, nf, forb, forb, forb)
	userCreators := repoByRole(nf, forb, forb, forb, forb)
	// Updates of a published job of c1 that the manager manages: admins
	// and the manager reach the link check; members and clients see the
	// job but may not change it; banned users do not see it.
	jobUpdaters := repoByRole(nf, nf, forb, forb, nf)
	updatableJob := func(t *testing.T, w *repoWorld) *ent.Job {
		return w.seedJob(t, w.c1, job.StatusPublished, w.actors[actManager])
	}
	byID := func(name string, foreign func(w *repoWorld) int, call func(w *repoWorld, ctx context.Context, id int) error) repoAttack {
		return repoAttack{name: name, want: allNF,
			prepare: func(_ *testing.T, w *repoWorld, _ *ent.User) (func(context.Context, int) error, int) {
				return func(ctx context.Context, id int) error { return call(w, ctx, id) }, foreign(w)
			}}
	}
	return []repoAttack{
		{name: "Jobs.Create with B's company", want: jobCreators,
			prepare: func(_ *testing.T, w *repoWorld, _ *ent.User) (func(context.Context, int) error, int) {
				return func(ctx context.Context, id int) error {
					_, _, err := w.r.Jobs.Create(ctx, repo.JobInput{Title: "attack", CompanyID: id})
					return err
				}, w.bCompany.ID
			}},
		{name: "Jobs.Create with a B user among the managers", want: jobCreators,
			prepare: func(_ *testing.T, w *repoWorld, _ *ent.User) (func(context.Context, int) error, int) {
				return func(ctx context.Context, id int) error {
					_, _, err := w.r.Jobs.Create(ctx, repo.JobInput{Title: "attack", CompanyID: w.c1.ID,
						ManagerIDs: []int{w.actors[actManager].ID, id}})
					return err
				}, w.bManager.ID
			}},
		{name: "Jobs.Update setting CompanyID to B's company", want: jobUpdaters,
			prepare: func(t *testing.T, w *repoWorld, _ *ent.User) (func(context.Context, int) error, int) {
				j := updatableJob(t, w)
				return func(ctx context.Context, id int) error {
					_, _, err := w.r.Jobs.Update(ctx, j.ID, repo.JobPatch{CompanyID: &id})
					return err
				}, w.bCompany.ID
			}},
		{name: "Jobs.Update setting ManagerIDs to B's users", want: jobUpdaters,
			prepare: func(t *testing.T, w *repoWorld, _ *ent.User) (func(context.Context, int) error, int) {
				j := updatableJob(t, w)
				return func(ctx context.Context, id int) error {
					ids := []int{id}
					if id != pgtest.MissingID {
						ids = []int{w.bManager.ID, w.bMember.ID}
					}
					_, _, err := w.r.Jobs.Update(ctx, j.ID, repo.JobPatch{ManagerIDs: &ids})
					return err
				}, w.bManager.ID
			}},
		{name: "Jobs.Update adding a B user to the managers", want: jobUpdaters,
			prepare: func(t *testing.T, w *repoWorld, _ *ent.User) (func(context.Context, int) error, int) {
				j := updatableJob(t, w)
				return func(ctx context.Context, id int) error {
					ids := []int{w.actors[actManager].ID, id}
					_, _, err := w.r.Jobs.Update(ctx, j.ID, repo.JobPatch{ManagerIDs: &ids})
					return err
				}, w.bAdmin.ID
			}},
		byID("Notes.Create on B's job", func(w *repoWorld) int { return w.bJob.ID }, func(w *repoWorld, ctx context.Context, id int) error {
			_, _, err := w.r.Notes.Create(ctx, id, repo.NoteInput{Body: "attack"})
			return err
		}),
		{name: "Users.Create with B's company", want: userCreators,
			prepare: func(_ *testing.T, w *repoWorld, _ *ent.User) (func(context.Context, int) error, int) {
				return func(ctx context.Context, id int) error {
					_, _, err := w.r.Users.Create(ctx, repo.UserInput{Email: fmt.Sprintf("attack%d@a.test", w.seed.Next()), Name: "X",
						Role: "client", Password: "long enough password", CompanyID: &id})
					return err
				}, w.bCompany.ID
			}},
		{name: "Users.Update setting CompanyID to B's company", want: repoByRole(nf, forb, forb, nf, nf),
			prepare: func(t *testing.T, w *repoWorld, _ *ent.User) (func(context.Context, int) error, int) {
				u := w.seed.User(t, w.orgA.ID, user.RoleClient, w.c2)
				return func(ctx context.Context, id int) error {
					_, _, err := w.r.Users.Update(ctx, u.ID, repo.UserPatch{CompanyID: &id})
					return err
				}, w.bCompany.ID
			}},
		byID("Jobs.Update of B's job", func(w *repoWorld) int { return w.bJob.ID }, func(w *repoWorld, ctx context.Context, id int) error {
			_, _, err := w.r.Jobs.Update(ctx, id, repo.JobPatch{Title: repoPtr("attack")})
			return err
		}),
		byID("Jobs.Update of B's draft job", func(w *repoWorld) int { return w.bDraft.ID }, func(w *repoWorld, ctx context.Context, id int) error {
			_, _, err := w.r.Jobs.Update(ctx, id, repo.JobPatch{Status: repoPtr("published")})
			return err
		}),
		byID("Jobs.Delete of B's job", func(w *repoWorld) int { return w.bJob.ID }, func(w *repoWorld, ctx context.Context, id int) error {
			return w.r.Jobs.Delete(ctx, id)
		}),
		byID("Companies.Update of B's company", func(w *repoWorld) int { return w.bCompany.ID }, func(w *repoWorld, ctx context.Context, id int) error {
			_, _, err := w.r.Companies.Update(ctx, id, repo.CompanyPatch{Archived: repoPtr(true)})
			return err
		}),
		byID("Companies.Delete of B's empty company", func(w *repoWorld) int { return w.bCompany2.ID }, func(w *repoWorld, ctx context.Context, id int) error {
			return w.r.Companies.Delete(ctx, id)
		}),
		byID("Notes.Update of B's note", func(w *repoWorld) int { return w.bNote.ID }, func(w *repoWorld, ctx context.Context, id int) error {
			_, _, err := w.r.Notes.Update(ctx, id, repo.NotePatch{Body: repoPtr("attack")})
			return err
		}),
		byID("Notes.Delete of B's note", func(w *repoWorld) int { return w.bNote.ID }, func(w *repoWorld, ctx context.Context, id int) error {
			return w.r.Notes.Delete(ctx, id)
		}),
		byID("Users.Update of B's admin", func(w *repoWorld) int { return w.bAdmin.ID }, func(w *repoWorld, ctx context.Context, id int) error {
			_, _, err := w.r.Users.Update(ctx, id, repo.UserPatch{Banned: repoPtr(true)})
			return err
		}),
		byID("Users.Update of B's member's name", func(w *repoWorld) int { return w.bMember.ID }, func(w *repoWorld, ctx context.Context, id int) error {
			_, _, err := w.r.Users.Update(ctx, id, repo.UserPatch{Name: repoPtr("attack")})
			return err
		}),
		byID("Users.Delete of B's client", func(w *repoWorld) int { return w.bClient.ID }, func(w *repoWorld, ctx context.Context, id int) error {
			return w.r.Users.Delete(ctx, id)
		}),
	}
}

// TestRepoCrossTenantWrites: every write of tenant A's scopes that names a
// row of tenant B, by id or in a foreign-key field, fails exactly as the
// same call with an id that does not exist, and changes no row of any
// table.
func TestRepoCrossTenantWrites(t *testing.T) {
	t.Parallel()
	w := newRepoWorld(t)
	for _, a := range repoAttacks() {
		t.Run(a.name, func(t *testing.T) {
			for _, actor := range repoActors {
				want := a.want[actor]
				t.Run(actor+" gets "+want.class+" like a missing id", func(t *testing.T) {
					call, foreign := a.prepare(t, w, w.actors[actor])
					ctx := w.as(t, actor)
					before := w.db.Sums(t)
					errForeign := call(ctx, foreign)
					errMissing := call(ctx, pgtest.MissingID)
					w.db.AssertUnchanged(t, before, a.name)
					require.Error(t, errForeign)
					require.Error(t, errMissing)
					assert.Equal(t, repoErrClass(errMissing), repoErrClass(errForeign), "foreign: %v; missing: %v", errForeign, errMissing)
					assert.Equal(t, want.class, repoErrClass(errForeign), "error: %v", errForeign)
					// The message says nothing the missing id's does not.
					assert.Equal(t, errMissing.Error(), errForeign.Error(), "a foreign id is told apart from a missing one")
					if want.class == repoNotFound {
						repoAssertOutcome(t, errForeign, wantNotFound)
					}
				})
			}
		})
	}
}

// TestRepoMassAssignment: what the scope decides is never taken from input.
func TestRepoMassAssignment(t *testing.T) {
	t.Parallel()
	w := newRepoWorld(t)
	sys := pgtest.SystemContext(t)

	t.Run("InputsHaveNoFieldsTheScopeDecides", func(t *testing.T) {
		forbidden := []string{"OrgID", "Org", "CreatedByID", "CreatedBy", "AuthorID", "Author", "PasswordHash"}
		for _, in := range []any{repo.JobInput{}, repo.JobPatch{}, repo.CompanyInput{}, repo.CompanyPatch{},
			repo.NoteInput{}, repo.NotePatch{}, repo.UserInput{}, repo.UserPatch{}} {
			typ := reflect.TypeOf(in)
			for i := 0; i < typ.NumField(); i++ {
				assert.NotContains(t, forbidden, typ.Field(i).Name, "%s has a field the scope decides", typ)
			}
		}
	})
	t.Run("CreatedJobTakesOrgAndCreatorFromTheScope", func(t *testing.T) {
		for _, actor := range []string{actAdmin, actManager} {
			u := w.actors[actor]
			j, _, err := w.r.Jobs.Create(w.as(t, actor), repo.JobInput{Title: "mine", CompanyID: w.c2.ID, ManagerIDs: []int{w.admin2.ID}})
			require.NoError(t, err, actor)
			stored, err := w.db.Client.Job.Get(sys, j.ID)
			require.NoError(t, err)
			for _, got := range []*ent.Job{j, stored} {
				assert.Equal(t, w.orgA.ID, got.OrgID, actor)
				assert.Equal(t, u.ID, got.CreatedByID, actor)
				assert.Equal(t, job.StatusDraft, got.Status, "default status")
			}
		}
	})
	t.Run("CreatedNoteIsAuthoredByTheScopesUser", func(t *testing.T) {
		j := w.seedJob(t, w.c1, job.StatusPublished)
		for _, actor := range []string{actAdmin, actManager, actMember} {
			n, _, err := w.r.Notes.Create(w.as(t, actor), j.ID, repo.NoteInput{Body: "by " + actor})
			require.NoError(t, err, actor)
			stored, err := w.db.Client.Note.Get(sys, n.ID)
			require.NoError(t, err)
			assert.Equal(t, w.actors[actor].ID, stored.AuthorID, actor)
			assert.Equal(t, w.orgA.ID, stored.OrgID, actor)
			assert.Equal(t, j.ID, stored.JobID, actor)
		}
	})
	t.Run("CreatedUserLandsInTheScopesOrgWithAHashedPassword", func(t *testing.T) {
		u, _, err := w.r.Users.Create(w.as(t, actAdmin), repo.UserInput{Email: " New@A.test ", Name: "New", Role: "client",
			Password: "long enough password", CompanyID: &w.c2.ID})
		require.NoError(t, err)
		stored, err := w.db.Client.User.Get(sys, u.ID)
		require.NoError(t, err)
		assert.Equal(t, w.orgA.ID, stored.OrgID)
		assert.Equal(t, "new@a.test", stored.Email)
		assert.NotEmpty(t, stored.PasswordHash)
		assert.NotEqual(t, "long enough password", stored.PasswordHash)
	})
	t.Run("UsersCannotChangeTheirOwnRoleBanActiveOrCompany", func(t *testing.T) {
		patches := map[string]repo.UserPatch{
			"role":               {Role: repoPtr("admin")},
			"banned":             {Banned: repoPtr(false)},
			"active":             {Active: repoPtr(true)},
			"company_id":         {CompanyID: &w.c2.ID},
			"name and role":      {Name: repoPtr("Sneaky"), Role: repoPtr("admin")},
			"phone and company":  {Phone: repoPtr("1"), CompanyID: &w.c1.ID},
			"name, phone, admin": {Name: repoPtr("Sneaky"), Phone: repoPtr("1"), Role: repoPtr("admin"), Active: repoPtr(true)},
		}
		for _, actor := range []string{actManager, actMember, actClient} {
			for what, p := range patches {
				t.Run(actor+" changing "+what+" is forbidden", func(t *testing.T) {
					before := w.db.Sums(t)
					_, _, err := w.r.Users.Update(w.as(t, actor), w.actors[actor].ID, p)
					repoAssertOutcome(t, err, wantNoAllow)
					w.db.AssertUnchanged(t, before, what)
				})
			}
			t.Run(actor+" changes their own name and phone", func(t *testing.T) {
				u, _, err := w.r.Users.Update(w.as(t, actor), w.actors[actor].ID, repo.UserPatch{Name: repoPtr(actor + " renamed"), Phone: repoPtr("555-9999")})
				require.NoError(t, err)
				assert.Equal(t, actor+" renamed", u.Name)
				stored, err := w.db.Client.User.Get(sys, w.actors[actor].ID)
				require.NoError(t, err)
				assert.Equal(t, actor+" renamed", stored.Name)
				assert.Equal(t, "555-9999", stored.Phone)
				assert.Equal(t, w.actors[actor].Role, stored.Role)
			})
		}
	})
	t.Run("AdminChangesAnotherUsersRoleBanActiveAndCompany", func(t *testing.T) {
		u := w.seed.User(t, w.orgA.ID, user.RoleMember, nil)
		ctx := w.as(t, actAdmin)
		got, _, err := w.r.Users.Update(ctx, u.ID, repo.UserPatch{Role: repoPtr("client"), CompanyID: &w.c2.ID})
		require.NoError(t, err)
		assert.Equal(t, user.RoleClient, got.Role)
		require.NotNil(t, got.CompanyID)
		assert.Equal(t, w.c2.ID, *got.CompanyID)
		got, _, err = w.r.Users.Update(ctx, u.ID, repo.UserPatch{Banned: repoPtr(true), Active: repoPtr(false)})
		require.NoError(t, err)
		assert.True(t, got.Banned)
		assert.False(t, got.Active)
		got, _, err = w.r.Users.Update(ctx, u.ID, repo.UserPatch{Role: repoPtr("manager")})
		require.NoError(t, err)
		assert.Equal(t, user.RoleManager, got.Role)
		assert.Nil(t, got.CompanyID, "leaving the client role leaves the company")
		stored, err := w.db.Client.User.Get(sys, u.ID)
		require.NoError(t, err)
		assert.Equal(t, user.RoleManager, stored.Role)
		assert.Nil(t, stored.CompanyID)
		assert.True(t, stored.Banned)
		assert.False(t, stored.Active)
	})
}

// TestRepoLastAdmin: an organization always keeps an active, unbanned admin.
func TestRepoLastAdmin(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	r := repo.New(db.Client)
	sys := pgtest.SystemContext(t)
	var org *ent.Organization
	var admin *ent.User
	var co *ent.Company
	pgtest.MustTx(t, sys, db.Client, func(tx *ent.Tx) error {
		org = tx.Organization.Create().SetName("L").SetSlug("l").SaveX(sys)
		co = tx.Company.Create().SetOrgID(org.ID).SetName("Co").SaveX(sys)
		admin = tx.User.Create().SetOrgID(org.ID).SetEmail("admin@l.test").SetName("A").SetRole(user.RoleAdmin).SaveX(sys)
		// Neither a banned nor an inactive admin counts as another admin.
		tx.User.Create().SetOrgID(org.ID).SetEmail("banned@l.test").SetName("B").SetRole(user.RoleAdmin).SetBanned(true).SaveX(sys)
		tx.User.Create().SetOrgID(org.ID).SetEmail("inactive@l.test").SetName("I").SetRole(user.RoleAdmin).SetActive(false).SaveX(sys)
		return nil
	})
	ctx := pgtest.UserContext(t, admin)
	lastAdminRefusals := func(t *testing.T) {
		t.Helper()
		for what, p := range map[string]repo.UserPatch{
			"demote":           {Role: repoPtr("manager")},
			"ban":              {Banned: repoPtr(true)},
			"deactivate":       {Active: repoPtr(false)},
			"demote to client": {Role: repoPtr("client"), CompanyID: &co.ID},
			"ban and demote":   {Role: repoPtr("member"), Banned: repoPtr(true)},
		} {
			before := db.Sums(t)
			_, _, err := r.Users.Update(ctx, admin.ID, p)
			assert.ErrorIs(t, err, repo.ErrConflict, what)
			assert.Equal(t, repoConflict, repoErrClass(err), what)
			db.AssertUnchanged(t, before, what)
		}
		before := db.Sums(t)
		err := r.Users.Delete(ctx, admin.ID)
		assert.ErrorIs(t, err, repo.ErrConflict, "delete")
		assert.Equal(t, repoConflict, repoErrClass(err), "delete")
		db.AssertUnchanged(t, before, "delete")
	}
	t.Run("LastAdminCannotDemoteBanDeactivateOrDeleteThemself", lastAdminRefusals)
	t.Run("LastAdminMayStillChangeTheirNameAndStayAdmin", func(t *testing.T) {
		_, _, err := r.Users.Update(ctx, admin.ID, repo.UserPatch{Name: repoPtr("Still Admin"), Role: repoPtr("admin"), Active: repoPtr(true), Banned: repoPtr(false)})
		require.NoError(t, err)
	})
	t.Run("WithTwoAdminsOneDemotesTheOther", func(t *testing.T) {
		var second *ent.User
		pgtest.MustTx(t, sys, db.Client, func(tx *ent.Tx) error {
			second = tx.User.Create().SetOrgID(org.ID).SetEmail("second@l.test").SetName("S").SetRole(user.RoleAdmin).SaveX(sys)
			return nil
		})
		got, _, err := r.Users.Update(ctx, second.ID, repo.UserPatch{Role: repoPtr("member")})
		require.NoError(t, err)
		assert.Equal(t, user.RoleMember, got.Role)
		t.Run("AndIsThenTheLastAdminAgain", lastAdminRefusals)
	})
	t.Run("AnAdminDemotesThemselfWhileAnotherAdminRemains", func(t *testing.T) {
		var third *ent.User
		pgtest.MustTx(t, sys, db.Client, func(tx *ent.Tx) error {
			third = tx.User.Create().SetOrgID(org.ID).SetEmail("third@l.test").SetName("T").SetRole(user.RoleAdmin).SaveX(sys)
			return nil
		})
		got, _, err := r.Users.Update(pgtest.UserContext(t, third), third.ID, repo.UserPatch{Role: repoPtr("manager")})
		require.NoError(t, err)
		assert.Equal(t, user.RoleManager, got.Role)
	})
	t.Run("AnAdminDeletesAnotherAdmin", func(t *testing.T) {
		var other *ent.User
		pgtest.MustTx(t, sys, db.Client, func(tx *ent.Tx) error {
			other = tx.User.Create().SetOrgID(org.ID).SetEmail("fourth@l.test").SetName("F").SetRole(user.RoleAdmin).SaveX(sys)
			return nil
		})
		require.NoError(t, r.Users.Delete(ctx, other.ID))
		t.Run("AndIsThenTheLastAdminAgain", lastAdminRefusals)
	})
}

// TestRepoRedaction: contact fields of users are zeroed for everyone but
// admins and the user themself, a job's salary_max for clients, on direct
// reads and on preloaded rows alike, and Redacted names what was zeroed. The
// stored rows are untouched.
func TestRepoRedaction(t *testing.T) {
	t.Parallel()
	w := newRepoWorld(t)
	manager, member := w.actors[actManager], w.actors[actMember]
	j := w.seedJob(t, w.c1, job.StatusPublished, manager, w.admin2)
	n := w.seed.Note(t, j, manager, false)
	contact := []string{"email", "phone"}

	assertZeroed := func(t *testing.T, red policy.Redacted, u *ent.User) {
		t.Helper()
		assert.Empty(t, u.Email, "email of user %d", u.ID)
		assert.Empty(t, u.Phone, "phone of user %d", u.ID)
		assert.Equal(t, contact, red.Fields(u), "redacted fields of user %d", u.ID)
	}
	assertKept := func(t *testing.T, red policy.Redacted, u *ent.User) {
		t.Helper()
		assert.NotEmpty(t, u.Email, "email of user %d", u.ID)
		assert.NotEmpty(t, u.Phone, "phone of user %d", u.ID)
		assert.Empty(t, red.Fields(u), "redacted fields of user %d", u.ID)
	}

	t.Run("UsersGetZeroesContactForNonAdminsOtherThanSelf", func(t *testing.T) {
		for _, actor := range []string{actManager, actMember} {
			u, red, err := w.r.Users.Get(w.as(t, actor), preload.SurfaceUser, w.admin2.ID, repo.GetOptions{})
			require.NoError(t, err, actor)
			assertZeroed(t, red, u)
		}
		u, red, err := w.r.Users.Get(w.as(t, actClient), preload.SurfaceUser, manager.ID, repo.GetOptions{})
		require.NoError(t, err)
		assertZeroed(t, red, u)
	})
	t.Run("UsersGetKeepsContactForSelfAndAdmins", func(t *testing.T) {
		for _, actor := range []string{actManager, actMember, actClient, actBannedMember} {
			u, red, err := w.r.Users.Get(w.as(t, actor), preload.SurfaceUser, w.actors[actor].ID, repo.GetOptions{})
			require.NoError(t, err, actor)
			assertKept(t, red, u)
		}
		for _, s := range preload.Surfaces {
			u, red, err := w.r.Users.Get(w.as(t, actAdmin), s, member.ID, repo.GetOptions{})
			require.NoError(t, err)
			assertKept(t, red, u)
		}
	})
	t.Run("UsersListZeroesEveryoneButSelfForAMember", func(t *testing.T) {
		page, err := w.r.Users.List(w.as(t, actMember), preload.SurfaceUser, repo.ListOptions{Limit: 200})
		require.NoError(t, err)
		require.NotEmpty(t, page.Items)
		for _, u := range page.Items {
			if u.ID == member.ID {
				assertKept(t, page.Redacted, u)
			} else {
				assertZeroed(t, page.Redacted, u)
			}
		}
	})
	t.Run("UsersListKeepsEveryoneForAnAdmin", func(t *testing.T) {
		page, err := w.r.Users.List(w.as(t, actAdmin), preload.SurfaceAdmin, repo.ListOptions{Limit: 200})
		require.NoError(t, err)
		for _, u := range page.Items {
			assertKept(t, page.Redacted, u)
		}
		assert.Empty(t, page.Redacted)
	})
	t.Run("WritesReturnTheRedactionOfTheirResult", func(t *testing.T) {
		// A write answers what a read of its result answers: the
		// repository redacts it, no caller has to.
		u, red, err := w.r.Users.Update(w.as(t, actMember), member.ID, repo.UserPatch{Name: repoPtr("Member Renamed")})
		require.NoError(t, err)
		require.NotNil(t, red)
		assertKept(t, red, u)
		_, readRed, err := w.r.Users.Get(w.as(t, actMember), preload.SurfaceUser, member.ID, repo.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, readRed.Fields(u), red.Fields(u))

		got, red, err := w.r.Jobs.Update(w.as(t, actManager), j.ID, repo.JobPatch{Title: repoPtr("renamed by its manager")})
		require.NoError(t, err)
		require.NotNil(t, red)
		assert.NotNil(t, got.SalaryMax, "managers read salary_max")
		assert.Empty(t, red.Fields(got))
		note, red, err := w.r.Notes.Update(w.as(t, actManager), n.ID, repo.NotePatch{Body: repoPtr("edited")})
		require.NoError(t, err)
		require.NotNil(t, red)
		assert.Empty(t, red.Fields(note))
	})
	t.Run("JobsGetWithManagersAsMemberZeroesTheManagers", func(t *testing.T) {
		got, red, err := w.r.Jobs.Get(w.as(t, actMember), preload.SurfaceUser, j.ID, repo.GetOptions{Preload: "managers"})
		require.NoError(t, err)
		require.Len(t, got.Edges.Managers, 2)
		for _, m := range got.Edges.Managers {
			assertZeroed(t, red, m)
		}
		assert.NotNil(t, got.SalaryMax, "members read salary_max")
		assert.Empty(t, red.Fields(got))
	})
	t.Run("JobsGetWithManagersKeepsTheViewerWhenTheyManageIt", func(t *testing.T) {
		mine := w.seedJob(t, w.c1, job.StatusDraft, member, manager)
		got, red, err := w.r.Jobs.Get(w.as(t, actMember), preload.SurfaceUser, mine.ID, repo.GetOptions{Preload: "managers"})
		require.NoError(t, err)
		require.Len(t, got.Edges.Managers, 2)
		for _, m := range got.Edges.Managers {
			if m.ID == member.ID {
				assertKept(t, red, m)
			} else {
				assertZeroed(t, red, m)
			}
		}
	})
	t.Run("JobsGetWithManagersAsAdminKeepsEverything", func(t *testing.T) {
		for _, s := range preload.Surfaces {
			got, red, err := w.r.Jobs.Get(w.as(t, actAdmin), s, j.ID, repo.GetOptions{Preload: "managers"})
			require.NoError(t, err)
			require.Len(t, got.Edges.Managers, 2)
			for _, m := range got.Edges.Managers {
				assertKept(t, red, m)
			}
			assert.Empty(t, red)
		}
	})
	t.Run("JobsGetAsClientHidesSalaryAndManagersContact", func(t *testing.T) {
		got, red, err := w.r.Jobs.Get(w.as(t, actClient), preload.SurfaceUser, j.ID, repo.GetOptions{Preload: "managers,company"})
		require.NoError(t, err)
		assert.Nil(t, got.SalaryMax)
		assert.Equal(t, []string{"salary_max"}, red.Fields(got))
		require.Len(t, got.Edges.Managers, 2)
		for _, m := range got.Edges.Managers {
			assertZeroed(t, red, m)
		}
		assert.Empty(t, red.Fields(got.Edges.Company))
	})
	t.Run("JobsListAsClientHidesSalary", func(t *testing.T) {
		page, err := w.r.Jobs.List(w.as(t, actClient), preload.SurfaceUser, repo.JobFilter{}, repo.ListOptions{Preload: "managers"})
		require.NoError(t, err)
		require.NotEmpty(t, page.Items)
		for _, got := range page.Items {
			assert.Nil(t, got.SalaryMax, "job %d", got.ID)
			assert.Equal(t, []string{"salary_max"}, page.Redacted.Fields(got), "job %d", got.ID)
			for _, m := range got.Edges.Managers {
				assertZeroed(t, page.Redacted, m)
			}
		}
	})
	t.Run("JobsListKeepsSalaryForEveryoneButClients", func(t *testing.T) {
		for _, actor := range []string{actAdmin, actManager, actMember} {
			page, err := w.r.Jobs.List(w.as(t, actor), preload.SurfaceUser, repo.JobFilter{}, repo.ListOptions{})
			require.NoError(t, err)
			require.NotEmpty(t, page.Items)
			for _, got := range page.Items {
				assert.NotNil(t, got.SalaryMax, "%s: job %d", actor, got.ID)
				assert.Empty(t, page.Redacted.Fields(got), "%s: job %d", actor, got.ID)
			}
		}
	})
	t.Run("PreloadedAuthorsAndNestedManagersAreRedacted", func(t *testing.T) {
		got, red, err := w.r.Notes.Get(w.as(t, actMember), preload.SurfaceUser, n.ID, repo.GetOptions{Preload: "author"})
		require.NoError(t, err)
		require.NotNil(t, got.Edges.Author)
		assertZeroed(t, red, got.Edges.Author)
		got, red, err = w.r.Notes.Get(w.as(t, actManager), preload.SurfaceUser, n.ID, repo.GetOptions{Preload: "author"})
		require.NoError(t, err)
		assertKept(t, red, got.Edges.Author)

		co, red, err := w.r.Companies.Get(w.as(t, actClient), preload.SurfaceUser, w.c1.ID, repo.GetOptions{Preload: "jobs.managers"})
		require.NoError(t, err)
		require.NotEmpty(t, co.Edges.Jobs)
		for _, cj := range co.Edges.Jobs {
			assert.Nil(t, cj.SalaryMax)
			assert.Equal(t, []string{"salary_max"}, red.Fields(cj))
			for _, m := range cj.Edges.Managers {
				assertZeroed(t, red, m)
			}
		}
		page, err := w.r.Jobs.List(w.as(t, actMember), preload.SurfaceUser, repo.JobFilter{}, repo.ListOptions{Preload: "notes.author"})
		require.NoError(t, err)
		seen := 0
		for _, pj := range page.Items {
			for _, pn := range pj.Edges.Notes {
				assertZeroed(t, page.Redacted, pn.Edges.Author)
				seen++
			}
		}
		assert.NotZero(t, seen, "no preloaded author was checked")
	})
	t.Run("RedactionDoesNotTouchTheStoredRows", func(t *testing.T) {
		stored, err := w.db.Client.User.Get(pgtest.SystemContext(t), manager.ID)
		require.NoError(t, err)
		assert.Equal(t, manager.Email, stored.Email)
		assert.Equal(t, manager.Phone, stored.Phone)
		sj, err := w.db.Client.Job.Get(pgtest.SystemContext(t), j.ID)
		require.NoError(t, err)
		require.NotNil(t, sj.SalaryMax)
	})
}

// TestRepoPagination: keyset pages in ascending id, stable under concurrent
// inserts; cursors bound to their tenant, surface, filter and entity; page
// size limits.
func TestRepoPagination(t *testing.T) {
	t.Parallel()
	w := newRepoWorld(t)
	sys := pgtest.SystemContext(t)
	admin := w.actors[actAdmin]
	const existing = 20
	for i := 0; i < existing; i++ {
		st := job.StatusPublished
		if i%4 == 3 {
			st = job.StatusDraft
		}
		w.seedJob(t, []*ent.Company{w.c1, w.c2}[i%2], st)
	}
	jobsOfA := func(t *testing.T) []int {
		t.Helper()
		ids, err := w.db.Client.Job.Query().Where(job.OrgID(w.orgA.ID)).Order(job.ByID()).IDs(sys)
		require.NoError(t, err)
		return ids
	}
	// walk pages the list from the start and returns each page's ids.
	walk := func(t *testing.T, ctx context.Context, f repo.JobFilter, limit int, between func(page int)) [][]int {
		t.Helper()
		var pages [][]int
		cursor := ""
		for {
			p, err := w.r.Jobs.List(ctx, preload.SurfaceUser, f, repo.ListOptions{Limit: limit, Cursor: cursor})
			require.NoError(t, err)
			require.LessOrEqual(t, len(p.Items), limit)
			pages = append(pages, pgtest.IDs(p.Items...))
			if p.NextCursor == "" {
				return pages
			}
			require.Len(t, p.Items, limit, "a short page with a next cursor")
			require.Less(t, len(pages), 1000, "paging does not end")
			cursor = p.NextCursor
			if between != nil {
				between(len(pages))
			}
		}
	}
	flatten := func(pages [][]int) []int {
		var out []int
		for _, p := range pages {
			out = append(out, p...)
		}
		return out
	}

	t.Run("PagesOfThreeAscendingWithoutDuplicatesOrGaps", func(t *testing.T) {
		all := jobsOfA(t)
		require.Len(t, all, existing)
		pages := walk(t, w.as(t, actAdmin), repo.JobFilter{}, 3, nil)
		require.Len(t, pages, 7)
		for i, p := range pages[:6] {
			assert.Len(t, p, 3, "page %d", i)
		}
		assert.Equal(t, all, flatten(pages), "pages together are every job, in ascending id")
	})
	t.Run("FilteredPagesForAMember", func(t *testing.T) {
		want, err := w.db.Client.Job.Query().Where(job.OrgID(w.orgA.ID), job.StatusEQ(job.StatusPublished)).Order(job.ByID()).IDs(sys)
		require.NoError(t, err)
		got := flatten(walk(t, w.as(t, actMember), repo.JobFilter{Status: "published"}, 3, nil))
		assert.Equal(t, want, got)
	})
	t.Run("ConcurrentInsertsNeitherDropNorRepeatExistingJobs", func(t *testing.T) {
		before := jobsOfA(t)
		const inserts = 12
		start := make(chan struct{})
		tick := make(chan struct{}, inserts)
		done := make(chan error, 1)
		go func() {
			defer close(tick)
			<-start
			for i := 0; i < inserts; i++ {
				err := database.WithTx(sys, w.db.Client, func(tx *ent.Tx) error {
					_, err := tx.Job.Create().SetOrgID(w.orgA.ID).SetCompanyID(w.c1.ID).SetTitle(fmt.Sprintf("concurrent %d", i)).
						SetStatus(job.StatusPublished).SetCreatedByID(w.admin2.ID).Save(sys)
					return err
				})
				if err != nil {
					done <- err
					return
				}
				tick <- struct{}{}
			}
			done <- nil
		}()
		pages := walk(t, w.as(t, actAdmin), repo.JobFilter{}, 3, func(page int) {
			if page == 1 {
				close(start)
			}
			// At least one insert commits between any two of the first
			// pages; the inserter does not wait for the pager.
			<-tick
		})
		require.NoError(t, <-done)
		got := flatten(pages)
		assert.True(t, slices.IsSorted(got), "pages not in ascending id: %v", pages)
		assert.Len(t, got, len(slices.Compact(slices.Clone(got))), "a job was returned twice: %v", pages)
		for _, id := range before {
			assert.Contains(t, got, id, "job %d that existed before paging was skipped", id)
		}
		assert.Len(t, jobsOfA(t), len(before)+inserts)
	})
	t.Run("CursorOfAnotherTenantIsInvalid", func(t *testing.T) {
		for i := 0; i < 3; i++ {
			w.seedJob(t, w.bCompany, job.StatusPublished)
		}
		pb, err := w.r.Jobs.List(pgtest.UserContext(t, w.bAdmin), preload.SurfaceUser, repo.JobFilter{}, repo.ListOptions{Limit: 1})
		require.NoError(t, err)
		require.NotEmpty(t, pb.NextCursor)
		for _, actor := range []string{actAdmin, actMember, actClient} {
			w.db.Counter.Reset()
			_, err := w.r.Jobs.List(w.as(t, actor), preload.SurfaceUser, repo.JobFilter{}, repo.ListOptions{Limit: 1, Cursor: pb.NextCursor})
			assert.Contains(t, repoInvalidFields(t, err), "cursor", actor)
			assert.Zero(t, w.db.Counter.Count(), "an invalid cursor sent SQL")
		}
	})
	t.Run("CursorOfAnotherSurfaceFilterOrListIsInvalid", func(t *testing.T) {
		ctx := w.as(t, actAdmin)
		cursorOf := func(s preload.Surface, f repo.JobFilter) string {
			p, err := w.r.Jobs.List(ctx, s, f, repo.ListOptions{Limit: 1})
			require.NoError(t, err)
			require.NotEmpty(t, p.NextCursor)
			return p.NextCursor
		}
		adminCursor := cursorOf(preload.SurfaceAdmin, repo.JobFilter{})
		userCursor := cursorOf(preload.SurfaceUser, repo.JobFilter{})
		publishedCursor := cursorOf(preload.SurfaceUser, repo.JobFilter{Status: "published"})
		cp, err := w.r.Companies.List(ctx, preload.SurfaceUser, repo.ListOptions{Limit: 1})
		require.NoError(t, err)
		require.NotEmpty(t, cp.NextCursor)
		up, err := w.r.Users.List(ctx, preload.SurfaceUser, repo.ListOptions{Limit: 1})
		require.NoError(t, err)
		require.NotEmpty(t, up.NextCursor)
		noted := w.seedJob(t, w.c1, job.StatusPublished)
		w.seed.Note(t, noted, admin, false)
		w.seed.Note(t, noted, admin, false)
		np, err := w.r.Notes.List(ctx, preload.SurfaceUser, noted.ID, repo.ListOptions{Limit: 1})
		require.NoError(t, err)
		require.NotEmpty(t, np.NextCursor)
		other := w.seedJob(t, w.c1, job.StatusPublished)

		for name, call := range map[string]func() error{
			"admin surface cursor on the user surface": func() error {
				_, err := w.r.Jobs.List(ctx, preload.SurfaceUser, repo.JobFilter{}, repo.ListOptions{Cursor: adminCursor})
				return err
			},
			"user surface cursor on the admin surface": func() error {
				_, err := w.r.Jobs.List(ctx, preload.SurfaceAdmin, repo.JobFilter{}, repo.ListOptions{Cursor: userCursor})
				return err
			},
			"published filter cursor without the filter": func() error {
				_, err := w.r.Jobs.List(ctx, preload.SurfaceUser, repo.JobFilter{}, repo.ListOptions{Cursor: publishedCursor})
				return err
			},
			"published filter cursor with the draft filter": func() error {
				_, err := w.r.Jobs.List(ctx, preload.SurfaceUser, repo.JobFilter{Status: "draft"}, repo.ListOptions{Cursor: publishedCursor})
				return err
			},
			"unfiltered cursor with a filter": func() error {
				_, err := w.r.Jobs.List(ctx, preload.SurfaceUser, repo.JobFilter{Status: "published"}, repo.ListOptions{Cursor: userCursor})
				return err
			},
			"company cursor on jobs": func() error {
				_, err := w.r.Jobs.List(ctx, preload.SurfaceUser, repo.JobFilter{}, repo.ListOptions{Cursor: cp.NextCursor})
				return err
			},
			"job cursor on users": func() error {
				_, err := w.r.Users.List(ctx, preload.SurfaceUser, repo.ListOptions{Cursor: userCursor})
				return err
			},
			"user cursor on companies": func() error {
				_, err := w.r.Companies.List(ctx, preload.SurfaceUser, repo.ListOptions{Cursor: up.NextCursor})
				return err
			},
			"notes cursor of one job on another job": func() error {
				_, err := w.r.Notes.List(ctx, preload.SurfaceUser, other.ID, repo.ListOptions{Cursor: np.NextCursor})
				return err
			},
		} {
			t.Run(name, func(t *testing.T) {
				assert.Contains(t, repoInvalidFields(t, call()), "cursor")
			})
		}
	})
	t.Run("ForgedCursorsAreInvalid", func(t *testing.T) {
		ctx := w.as(t, actAdmin)
		b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
		for name, c := range map[string]string{
			"not base64 json":           "abc",
			"not base64 at all":         "!!!***",
			"base64 of garbage":         base64.RawURLEncoding.EncodeToString([]byte{0xff, 0x00, 0x13, 0x37, 0xde, 0xad}),
			"padded std base64":         base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf(`{"a":1,"o":%d,"s":"user","k":"job"}`, w.orgA.ID))),
			"base64 of an empty object": b64(`{}`),
			"zero position":             b64(fmt.Sprintf(`{"a":0,"o":%d,"s":"user","k":"job"}`, w.orgA.ID)),
			"negative position":         b64(fmt.Sprintf(`{"a":-5,"o":%d,"s":"user","k":"job"}`, w.orgA.ID)),
			"no organization":           b64(`{"a":1,"s":"user","k":"job"}`),
			"tenant B's organization":   b64(fmt.Sprintf(`{"a":1,"o":%d,"s":"user","k":"job"}`, w.orgB.ID)),
			"wrong kind":                b64(fmt.Sprintf(`{"a":1,"o":%d,"s":"user","k":"note"}`, w.orgA.ID)),
			"position as a string":      b64(fmt.Sprintf(`{"a":"1","o":%d,"s":"user","k":"job"}`, w.orgA.ID)),
			"json array":                b64(`[1,2]`),
		} {
			t.Run(name, func(t *testing.T) {
				w.db.Counter.Reset()
				_, err := w.r.Jobs.List(ctx, preload.SurfaceUser, repo.JobFilter{}, repo.ListOptions{Cursor: c})
				assert.Contains(t, repoInvalidFields(t, err), "cursor")
				assert.Zero(t, w.db.Counter.Count(), "an invalid cursor sent SQL")
			})
		}
		t.Run("a well-formed cursor of this list is a position", func(t *testing.T) {
			all := jobsOfA(t)
			c := b64(fmt.Sprintf(`{"a":%d,"o":%d,"s":"user","k":"job"}`, all[4], w.orgA.ID))
			p, err := w.r.Jobs.List(ctx, preload.SurfaceUser, repo.JobFilter{}, repo.ListOptions{Cursor: c, Limit: 5})
			require.NoError(t, err)
			assert.Equal(t, all[5:10], pgtest.IDs(p.Items...))
			p, err = w.r.Jobs.List(ctx, preload.SurfaceUser, repo.JobFilter{}, repo.ListOptions{
				Cursor: b64(fmt.Sprintf(`{"a":1,"o":%d,"s":"user","k":"job"}`, w.orgA.ID)), Limit: 200})
			require.NoError(t, err)
			assert.Equal(t, all, pgtest.IDs(p.Items...))
		})
	})
	t.Run("LimitsOutOfRangeAreInvalid", func(t *testing.T) {
		ctx := w.as(t, actAdmin)
		for _, limit := range []int{repo.MaxLimit + 1, -1, -200, 1 << 20} {
			w.db.Counter.Reset()
			_, err := w.r.Jobs.List(ctx, preload.SurfaceUser, repo.JobFilter{}, repo.ListOptions{Limit: limit})
			assert.Contains(t, repoInvalidFields(t, err), "limit", "limit %d", limit)
			assert.Zero(t, w.db.Counter.Count(), "limit %d sent SQL", limit)
			_, err = w.r.Users.List(ctx, preload.SurfaceUser, repo.ListOptions{Limit: limit})
			assert.Contains(t, repoInvalidFields(t, err), "limit", "users, limit %d", limit)
		}
	})
	t.Run("LimitZeroIsTheDefaultOfFiftyAndTwoHundredIsAllowed", func(t *testing.T) {
		for len(jobsOfA(t)) < repo.MaxLimit+10 {
			w.seedJob(t, w.c1, job.StatusPublished)
		}
		all := jobsOfA(t)
		ctx := w.as(t, actAdmin)
		p, err := w.r.Jobs.List(ctx, preload.SurfaceUser, repo.JobFilter{}, repo.ListOptions{})
		require.NoError(t, err)
		assert.Equal(t, repo.DefaultLimit, 50)
		assert.Equal(t, all[:50], pgtest.IDs(p.Items...))
		assert.NotEmpty(t, p.NextCursor)
		p, err = w.r.Jobs.List(ctx, preload.SurfaceUser, repo.JobFilter{}, repo.ListOptions{Limit: repo.MaxLimit})
		require.NoError(t, err)
		assert.Equal(t, all[:repo.MaxLimit], pgtest.IDs(p.Items...))
		p, err = w.r.Jobs.List(ctx, preload.SurfaceUser, repo.JobFilter{}, repo.ListOptions{Limit: repo.MaxLimit, Cursor: p.NextCursor})
		require.NoError(t, err)
		assert.Equal(t, all[repo.MaxLimit:], pgtest.IDs(p.Items...))
		assert.Empty(t, p.NextCursor, "the last page has no next cursor")
	})
}

// TestRepoExplainVisibility: an admin asks why a row is hidden from a user of
// their organization; the answer names the rule of docs/design.md section 3 and is
// confirmed by the privacy rules.
func TestRepoExplainVisibility(t *testing.T) {
	t.Parallel()
	w := newRepoWorld(t)
	manager, member, client := w.actors[actManager], w.actors[actMember], w.actors[actClient]
	draft := w.seedJob(t, w.c1, job.StatusDraft, manager)
	pub := w.seedJob(t, w.c1, job.StatusPublished, manager)
	pubC2 := w.seedJob(t, w.c2, job.StatusPublished)
	internal := w.seed.Note(t, pub, manager, true)
	public := w.seed.Note(t, pub, manager, false)
	onDraft := w.seed.Note(t, draft, manager, false)
	loneMember := w.seed.User(t, w.orgA.ID, user.RoleMember, nil)

	cases := []struct {
		name    string
		viewer  *ent.User
		object  string
		id      int
		visible bool
		rule    string
	}{
		{"DraftJobTheMemberDoesNotManageIsHidden", member, "job", draft.ID, false, "3.5 manager and member"},
		{"DraftJobIsVisibleToItsManager", manager, "job", draft.ID, true, "3.5 manager and member"},
		{"PublishedJobIsVisibleToAMember", member, "job", pub.ID, true, "3.5 manager and member"},
		{"InternalNoteIsHiddenFromAMember", member, "note", internal.ID, false, "3.5/3.6 internal notes"},
		{"InternalNoteIsVisibleToTheManager", manager, "note", internal.ID, true, "3.5/3.6 notes"},
		{"PublicNoteIsVisibleToAMember", member, "note", public.ID, true, "3.5/3.6 notes"},
		{"NoteOnAHiddenJobIsHidden", member, "note", onDraft.ID, false, "3.5 manager and member"},
		{"AnotherCompanyIsHiddenFromAClient", client, "company", w.c2.ID, false, "3.6 client"},
		{"TheirOwnCompanyIsVisibleToAClient", client, "company", w.c1.ID, true, "3.6 client"},
		{"AnotherCompanysJobIsHiddenFromAClient", client, "job", pubC2.ID, false, "3.6 client"},
		{"DraftOfTheirCompanyIsHiddenFromAClient", client, "job", draft.ID, false, "3.6 client"},
		{"ManagerOfAVisibleJobIsVisibleToAClient", client, "user", manager.ID, true, "3.6 client"},
		{"AMemberIsHiddenFromAClient", client, "user", loneMember.ID, false, "3.6 client"},
		{"EveryUserIsVisibleToAMember", member, "user", loneMember.ID, true, "3.4/3.5"},
		{"BannedViewerSeesNoJob", w.actors[actBannedMember], "job", pub.ID, false, "3.3 banned"},
		{"BannedViewerSeesNoCompany", w.actors[actBannedManager], "company", w.c1.ID, false, "3.3 banned"},
		{"BannedViewerSeesNoOtherUser", w.actors[actBannedClient], "user", manager.ID, false, "3.3 banned"},
		{"BannedViewerSeesThemself", w.actors[actBannedMember], "user", w.actors[actBannedMember].ID, true, "3.3 self"},
		{"AdminViewerSeesEverything", w.admin2, "note", internal.ID, true, "3.4 admin"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := policy.ExplainVisibility(w.as(t, actAdmin), w.db.Client, c.viewer.ID, c.object, c.id)
			require.NoError(t, err)
			assert.Equal(t, c.visible, v.Visible, "visible (%s)", v.Reason)
			assert.Equal(t, c.rule, v.Rule, "rule (%s)", v.Reason)
			assert.NotEmpty(t, v.Reason)
			assert.True(t, v.Confirmed, "the privacy rules disagree with the explanation")
			assert.Equal(t, c.viewer.ID, v.UserID)
			assert.Equal(t, c.object, v.Object)
			assert.Equal(t, c.id, v.ID)
		})
	}
	t.Run("RowsOfAnotherTenantAreNotFoundForAnAdmin", func(t *testing.T) {
		ctx := w.as(t, actAdmin)
		for object, id := range map[string]int{"job": w.bJob.ID, "note": w.bNote.ID, "company": w.bCompany.ID, "user": w.bMember.ID} {
			_, err := policy.ExplainVisibility(ctx, w.db.Client, member.ID, object, id)
			assert.True(t, ent.IsNotFound(err), "%s of B: %v", object, err)
			_, missing := policy.ExplainVisibility(ctx, w.db.Client, member.ID, object, pgtest.MissingID)
			assert.True(t, ent.IsNotFound(missing), "missing %s: %v", object, missing)
		}
		_, err := policy.ExplainVisibility(ctx, w.db.Client, w.bMember.ID, "job", pub.ID)
		assert.True(t, ent.IsNotFound(err), "a viewer of B: %v", err)
	})
	t.Run("OnlyAdminsMayInspect", func(t *testing.T) {
		for _, actor := range []string{actManager, actMember, actClient, actBannedAdmin} {
			before := w.db.Counter.Count()
			_, err := policy.ExplainVisibility(w.as(t, actor), w.db.Client, member.ID, "job", draft.ID)
			assert.ErrorIs(t, err, policy.ErrNotInspector, actor)
			assert.Equal(t, before, w.db.Counter.Count(), "%s: refused after sending SQL", actor)
		}
	})
}

// TestRepoErrors: the error map of the repositories. Uniqueness is
// ErrConflict; malformed input is ErrInvalid with the field named, and
// nothing is written.
func TestRepoErrors(t *testing.T) {
	t.Parallel()
	w := newRepoWorld(t)
	ctx := w.as(t, actAdmin)

	t.Run("DuplicateCompanyNameInTheSameOrgIsConflict", func(t *testing.T) {
		before := w.db.Sums(t)
		_, _, err := w.r.Companies.Create(ctx, repo.CompanyInput{Name: w.c1.Name})
		assert.Equal(t, repoConflict, repoErrClass(err), "error: %v", err)
		var ce *repo.ConflictError
		assert.True(t, errors.As(err, &ce), "no *repo.ConflictError: %v", err)
		w.db.AssertUnchanged(t, before, "duplicate company")
	})
	t.Run("RenamingACompanyToATakenNameIsConflict", func(t *testing.T) {
		before := w.db.Sums(t)
		_, _, err := w.r.Companies.Update(ctx, w.c2.ID, repo.CompanyPatch{Name: &w.c1.Name})
		assert.Equal(t, repoConflict, repoErrClass(err), "error: %v", err)
		w.db.AssertUnchanged(t, before, "rename")
	})
	t.Run("TheSameCompanyNameInAnotherOrgIsFine", func(t *testing.T) {
		// B has a company named BC2; A may have one too.
		_, _, err := w.r.Companies.Create(ctx, repo.CompanyInput{Name: w.bCompany2.Name})
		require.NoError(t, err)
	})
	t.Run("DuplicateEmailIsConflictAcrossOrgs", func(t *testing.T) {
		before := w.db.Sums(t)
		_, _, err := w.r.Users.Create(ctx, repo.UserInput{Email: strings.ToUpper(w.bMember.Email), Name: "Dup", Role: "member", Password: "long enough password"})
		assert.Equal(t, repoConflict, repoErrClass(err), "error: %v", err)
		w.db.AssertUnchanged(t, before, "duplicate email")
	})
	t.Run("DeletingACompanyWithJobsIsConflict", func(t *testing.T) {
		w.seedJob(t, w.c2, job.StatusDraft)
		before := w.db.Sums(t)
		err := w.r.Companies.Delete(ctx, w.c2.ID)
		assert.Equal(t, repoConflict, repoErrClass(err), "error: %v", err)
		w.db.AssertUnchanged(t, before, "company with jobs")
	})
	t.Run("DeletingAUserWhoWroteNotesIsConflict", func(t *testing.T) {
		u := w.seed.User(t, w.orgA.ID, user.RoleMember, nil)
		w.seed.Note(t, w.seedJob(t, w.c1, job.StatusPublished), u, false)
		before := w.db.Sums(t)
		err := w.r.Users.Delete(ctx, u.ID)
		assert.Equal(t, repoConflict, repoErrClass(err), "error: %v", err)
		w.db.AssertUnchanged(t, before, "user with notes")
	})

	t.Run("DeletingACompanyWithClientsOnlyIsConflict", func(t *testing.T) {
		co := w.seed.Company(t, w.orgA.ID)
		w.seed.User(t, w.orgA.ID, user.RoleClient, co)
		before := w.db.Sums(t)
		err := w.r.Companies.Delete(ctx, co.ID)
		assert.Equal(t, repoConflict, repoErrClass(err), "error: %v", err)
		w.db.AssertUnchanged(t, before, "company with clients")
	})
	t.Run("DeletingAUserWhoCreatedJobsIsConflict", func(t *testing.T) {
		// admin2 created every seeded job; another admin remains.
		before := w.db.Sums(t)
		err := w.r.Users.Delete(ctx, w.admin2.ID)
		assert.Equal(t, repoConflict, repoErrClass(err), "error: %v", err)
		w.db.AssertUnchanged(t, before, "user with jobs")
	})

	pub := w.seedJob(t, w.c1, job.StatusPublished)
	member := w.seed.User(t, w.orgA.ID, user.RoleMember, nil)
	long := strings.Repeat("x", 201)
	invalid := []struct {
		name  string
		field string
		call  func() error
	}{
		{"JobWithEmptyTitle", "title", func() error {
			_, _, err := w.r.Jobs.Create(ctx, repo.JobInput{Title: "", CompanyID: w.c1.ID})
			return err
		}},
		{"JobWithTooLongTitle", "title", func() error {
			_, _, err := w.r.Jobs.Create(ctx, repo.JobInput{Title: long, CompanyID: w.c1.ID})
			return err
		}},
		{"JobWithBadStatus", "status", func() error {
			_, _, err := w.r.Jobs.Create(ctx, repo.JobInput{Title: "t", CompanyID: w.c1.ID, Status: "open"})
			return err
		}},
		{"JobWithNegativeSalary", "salary_max", func() error {
			_, _, err := w.r.Jobs.Create(ctx, repo.JobInput{Title: "t", CompanyID: w.c1.ID, SalaryMax: repoPtr(-1)})
			return err
		}},
		{"JobWithoutCompany", "company_id", func() error {
			_, _, err := w.r.Jobs.Create(ctx, repo.JobInput{Title: "t"})
			return err
		}},
		{"JobUpdateToEmptyTitle", "title", func() error {
			_, _, err := w.r.Jobs.Update(ctx, pub.ID, repo.JobPatch{Title: repoPtr("")})
			return err
		}},
		{"JobUpdateToBadStatus", "status", func() error {
			_, _, err := w.r.Jobs.Update(ctx, pub.ID, repo.JobPatch{Status: repoPtr("deleted")})
			return err
		}},
		{"JobUpdateToNegativeSalary", "salary_max", func() error {
			_, _, err := w.r.Jobs.Update(ctx, pub.ID, repo.JobPatch{SalaryMax: repoPtr(-100)})
			return err
		}},
		{"JobListWithBadStatus", "status", func() error {
			_, err := w.r.Jobs.List(ctx, preload.SurfaceUser, repo.JobFilter{Status: "open"}, repo.ListOptions{})
			return err
		}},
		{"CompanyWithEmptyName", "name", func() error {
			_, _, err := w.r.Companies.Create(ctx, repo.CompanyInput{Name: ""})
			return err
		}},
		{"CompanyRenamedToEmpty", "name", func() error {
			_, _, err := w.r.Companies.Update(ctx, w.c1.ID, repo.CompanyPatch{Name: repoPtr("")})
			return err
		}},
		{"NoteWithEmptyBody", "body", func() error {
			_, _, err := w.r.Notes.Create(ctx, pub.ID, repo.NoteInput{Body: ""})
			return err
		}},
		{"UserWithShortPassword", "password", func() error {
			_, _, err := w.r.Users.Create(ctx, repo.UserInput{Email: "short@a.test", Name: "S", Role: "member", Password: "123456789"})
			return err
		}},
		{"UserWithBadRole", "role", func() error {
			_, _, err := w.r.Users.Create(ctx, repo.UserInput{Email: "root@a.test", Name: "R", Role: "root", Password: "long enough password"})
			return err
		}},
		{"ClientWithoutCompany", "company_id", func() error {
			_, _, err := w.r.Users.Create(ctx, repo.UserInput{Email: "nocompany@a.test", Name: "N", Role: "client", Password: "long enough password"})
			return err
		}},
		{"MemberWithCompany", "company_id", func() error {
			_, _, err := w.r.Users.Create(ctx, repo.UserInput{Email: "withcompany@a.test", Name: "N", Role: "member", Password: "long enough password", CompanyID: &w.c1.ID})
			return err
		}},
		{"UserWithBadEmail", "email", func() error {
			_, _, err := w.r.Users.Create(ctx, repo.UserInput{Email: "not-an-email", Name: "N", Role: "member", Password: "long enough password"})
			return err
		}},
		{"UserWithEmptyName", "name", func() error {
			_, _, err := w.r.Users.Create(ctx, repo.UserInput{Email: "noname@a.test", Name: "", Role: "member", Password: "long enough password"})
			return err
		}},
		{"UserUpdateToBadRole", "role", func() error {
			_, _, err := w.r.Users.Update(ctx, member.ID, repo.UserPatch{Role: repoPtr("root")})
			return err
		}},
		{"UserUpdateToClientWithoutCompany", "company_id", func() error {
			_, _, err := w.r.Users.Update(ctx, member.ID, repo.UserPatch{Role: repoPtr("client")})
			return err
		}},
		{"UserUpdateToEmptyName", "name", func() error {
			_, _, err := w.r.Users.Update(ctx, member.ID, repo.UserPatch{Name: repoPtr("")})
			return err
		}},
	}
	for _, c := range invalid {
		t.Run(c.name+"IsInvalid", func(t *testing.T) {
			before := w.db.Sums(t)
			err := c.call()
			assert.Equal(t, repoInvalid, repoErrClass(err), "error: %v", err)
			if err != nil {
				assert.Contains(t, repoInvalidFields(t, err), c.field)
			}
			w.db.AssertUnchanged(t, before, c.name)
		})
	}
}

// TestRepoLastAdminUnderConcurrency: two admins of an organization that has
// no other admin change each other (or themselves) at the same moment. At
// most one change may win; the other is refused as ErrConflict, like the
// same change made one after the other, and an active, unbanned admin is
// left. To make the two transactions meet, a plain SQL transaction holds
// both admins' rows until both calls wait for them.
func TestRepoLastAdminUnderConcurrency(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	r := repo.New(db.Client)
	sys := pgtest.SystemContext(t)
	update := func(id int, p repo.UserPatch) func(context.Context) error {
		return func(ctx context.Context) error { _, _, err := r.Users.Update(ctx, id, p); return err }
	}
	remove := func(id int) func(context.Context) error {
		return func(ctx context.Context) error { return r.Users.Delete(ctx, id) }
	}
	shapes := []struct {
		name  string
		calls func(a, b *ent.User) (aCall, bCall func(context.Context) error)
	}{
		{"EachDemotesTheOther", func(a, b *ent.User) (func(context.Context) error, func(context.Context) error) {
			return update(b.ID, repo.UserPatch{Role: repoPtr("member")}), update(a.ID, repo.UserPatch{Role: repoPtr("member")})
		}},
		{"EachBansTheOther", func(a, b *ent.User) (func(context.Context) error, func(context.Context) error) {
			return update(b.ID, repo.UserPatch{Banned: repoPtr(true)}), update(a.ID, repo.UserPatch{Banned: repoPtr(true)})
		}},
		{"EachDeactivatesThemself", func(a, b *ent.User) (func(context.Context) error, func(context.Context) error) {
			return update(a.ID, repo.UserPatch{Active: repoPtr(false)}), update(b.ID, repo.UserPatch{Active: repoPtr(false)})
		}},
		{"EachDeletesTheOther", func(a, b *ent.User) (func(context.Context) error, func(context.Context) error) {
			return remove(b.ID), remove(a.ID)
		}},
	}
	round := 0
	for _, shape := range shapes {
		t.Run(shape.name, func(t *testing.T) {
			for i := 0; i < 3; i++ {
				round++
				var org *ent.Organization
				var a, b *ent.User
				pgtest.MustTx(t, sys, db.Client, func(tx *ent.Tx) error {
					org = tx.Organization.Create().SetName("C").SetSlug(fmt.Sprintf("c%d", round)).SaveX(sys)
					a = tx.User.Create().SetOrgID(org.ID).SetEmail(fmt.Sprintf("a%d@c.test", round)).SetName("A").SetRole(user.RoleAdmin).SaveX(sys)
					b = tx.User.Create().SetOrgID(org.ID).SetEmail(fmt.Sprintf("b%d@c.test", round)).SetName("B").SetRole(user.RoleAdmin).SaveX(sys)
					return nil
				})
				aCall, bCall := shape.calls(a, b)
				aCtx, bCtx := pgtest.UserContext(t, a), pgtest.UserContext(t, b)

				bg := context.Background()
				blocker, err := db.Raw.BeginTx(bg, nil)
				require.NoError(t, err)
				_, err = blocker.ExecContext(bg, `SELECT id FROM users WHERE id IN ($1, $2) FOR UPDATE`, a.ID, b.ID)
				require.NoError(t, err)
				errs := make(chan error, 2)
				go func() { errs <- aCall(aCtx) }()
				go func() { errs <- bCall(bCtx) }()
				deadline := time.Now().Add(10 * time.Second)
				for {
					var waiting int
					require.NoError(t, db.SQL.QueryRowContext(bg, `SELECT count(*) FROM pg_stat_activity
						WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting))
					if waiting >= 2 || time.Now().After(deadline) {
						break
					}
					time.Sleep(2 * time.Millisecond)
				}
				require.NoError(t, blocker.Rollback())

				got := []error{<-errs, <-errs}
				classes := []string{repoErrClass(got[0]), repoErrClass(got[1])}
				slices.Sort(classes)
				assert.Equal(t, []string{repoConflict, repoOK}, classes, "round %d: the loser must be refused as a conflict: %v", i, got)
				left, err := db.Client.User.Query().Where(user.OrgID(org.ID), user.RoleEQ(user.RoleAdmin),
					user.Active(true), user.Banned(false)).Count(sys)
				require.NoError(t, err)
				assert.Equal(t, 1, left, "round %d: active, unbanned admins left", i)
			}
		})
	}
}
