package integration

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/policy"
	"github.com/scopegate/scopegate/internal/repo"
)

// The classes of repository errors.
const (
	repoOK        = "ok"
	repoNotFound  = "not found"
	repoForbidden = "forbidden"
	repoConflict  = "conflict"
	repoInvalid   = "invalid"
)

// repoErrClass names which of the repository's sentinels err matches.
// Matching two of them, or none, is a class of its own that no test wants.
func repoErrClass(err error) string {
	if err == nil {
		return repoOK
	}
	var hits []string
	for _, c := range []struct {
		name string
		err  error
	}{
		{repoNotFound, repo.ErrNotFound},
		{repoForbidden, repo.ErrForbidden},
		{repoConflict, repo.ErrConflict},
		{repoInvalid, repo.ErrInvalid},
	} {
		if errors.Is(err, c.err) {
			hits = append(hits, c.name)
		}
	}
	switch len(hits) {
	case 1:
		return hits[0]
	case 0:
		return fmt.Sprintf("unclassified (%v)", err)
	}
	return fmt.Sprintf("ambiguous %v (%v)", hits, err)
}

// repoWant is the expected outcome of a repository call: its class and, for
// a policy denial, the check that decided it.
type repoWant struct {
	class     string
	decidedBy string
}

func (w repoWant) String() string {
	if w.decidedBy != "" {
		return w.class + " (" + w.decidedBy + ")"
	}
	return w.class
}

var (
	wantOK         = repoWant{class: repoOK}
	wantNotFound   = repoWant{class: repoNotFound}
	wantConflict   = repoWant{class: repoConflict}
	wantDenyBanned = repoWant{class: repoForbidden, decidedBy: "deny: banned"}
	wantNoAllow    = repoWant{class: repoForbidden, decidedBy: "no allow list passed"}
)

// repoAssertOutcome checks err against want: the class, and for a policy
// denial the *policy.Error and the check that decided it. A not-found must
// carry no trace of a policy decision.
func repoAssertOutcome(t *testing.T, err error, want repoWant) {
	t.Helper()
	if !assert.Equal(t, want.class, repoErrClass(err), "error: %v", err) {
		return
	}
	var pe *policy.Error
	switch want.class {
	case repoForbidden:
		if want.decidedBy == "" {
			return
		}
		if assert.True(t, errors.As(err, &pe), "a denial without a *policy.Error: %v", err) {
			assert.Equal(t, want.decidedBy, pe.Decision.DecidedBy, "decided by")
			assert.False(t, pe.Decision.Allowed)
			assert.ErrorIs(t, err, policy.ErrForbidden)
		}
	case repoNotFound:
		assert.False(t, errors.As(err, &pe), "a not-found that reveals a policy decision: %v", err)
		assert.NotErrorIs(t, err, repo.ErrForbidden)
	}
}

// repoInvalidFields returns the per-field problems of an ErrInvalid.
func repoInvalidFields(t *testing.T, err error) map[string]string {
	t.Helper()
	require.ErrorIs(t, err, repo.ErrInvalid)
	var ie *repo.InvalidError
	require.True(t, errors.As(err, &ie), "ErrInvalid without *repo.InvalidError: %v", err)
	return ie.Fields
}

// The actors of tenant A, by the name the tests use for them.
const (
	actAdmin         = "admin"
	actManager       = "manager"
	actMember        = "member"
	actClient        = "client"
	actBannedAdmin   = "banned admin"
	actBannedManager = "banned manager"
	actBannedMember  = "banned member"
	actBannedClient  = "banned client"
)

var repoActors = []string{
	actAdmin, actManager, actMember, actClient,
	actBannedAdmin, actBannedManager, actBannedMember, actBannedClient,
}

// repoWorld is two tenants built under the system scope. Tenant A has a user
// of every role, a banned user of every role, a second admin (so that admins
// may be deleted or demoted) and two companies; clients belong to c1.
// Tenant B has a user of every role, two companies, a published job and
// notes on it. Tests seed the rows they change with the seed methods, so
// that one case's success does not change another's world.
type repoWorld struct {
	db     *pgtest.DB
	r      *repo.Repos
	orgA   *ent.Organization
	orgB   *ent.Organization
	c1, c2 *ent.Company
	admin2 *ent.User
	actors map[string]*ent.User

	bCompany, bCompany2                *ent.Company
	bAdmin, bManager, bMember, bClient *ent.User
	bJob, bDraft                       *ent.Job
	bNote                              *ent.Note
	// seed creates the rows a case changes; its serial names what a
	// case makes up.
	seed *pgtest.Seeder
}

func newRepoWorld(t *testing.T) *repoWorld {
	t.Helper()
	w := &repoWorld{db: pgtest.New(t), actors: map[string]*ent.User{}}
	w.r = repo.New(w.db.Client)
	w.seed = pgtest.NewSeeder(w.db.Client)
	sys := pgtest.SystemContext(t)
	pgtest.MustTx(t, sys, w.db.Client, func(tx *ent.Tx) error {
		w.orgA = tx.Organization.Create().SetName("A").SetSlug("a").SaveX(sys)
		w.orgB = tx.Organization.Create().SetName("B").SetSlug("b").SaveX(sys)
		w.c1 = tx.Company.Create().SetOrgID(w.orgA.ID).SetName("C1").SaveX(sys)
		w.c2 = tx.Company.Create().SetOrgID(w.orgA.ID).SetName("C2").SaveX(sys)
		w.bCompany = tx.Company.Create().SetOrgID(w.orgB.ID).SetName("C1").SaveX(sys)
		w.bCompany2 = tx.Company.Create().SetOrgID(w.orgB.ID).SetName("BC2").SaveX(sys)
		mk := func(org int, email string, role user.Role, co *ent.Company, banned bool) *ent.User {
			c := tx.User.Create().SetOrgID(org).SetEmail(email).SetName(email).SetPhone("555-" + email).
				SetRole(role).SetBanned(banned)
			if co != nil {
				c.SetCompanyID(co.ID)
			}
			return c.SaveX(sys)
		}
		w.actors[actAdmin] = mk(w.orgA.ID, "admin@a.test", user.RoleAdmin, nil, false)
		w.admin2 = mk(w.orgA.ID, "admin2@a.test", user.RoleAdmin, nil, false)
		w.actors[actManager] = mk(w.orgA.ID, "manager@a.test", user.RoleManager, nil, false)
		w.actors[actMember] = mk(w.orgA.ID, "member@a.test", user.RoleMember, nil, false)
		w.actors[actClient] = mk(w.orgA.ID, "client@a.test", user.RoleClient, w.c1, false)
		w.actors[actBannedAdmin] = mk(w.orgA.ID, "banned-admin@a.test", user.RoleAdmin, nil, true)
		w.actors[actBannedManager] = mk(w.orgA.ID, "banned-manager@a.test", user.RoleManager, nil, true)
		w.actors[actBannedMember] = mk(w.orgA.ID, "banned-member@a.test", user.RoleMember, nil, true)
		w.actors[actBannedClient] = mk(w.orgA.ID, "banned-client@a.test", user.RoleClient, w.c1, true)
		w.bAdmin = mk(w.orgB.ID, "admin@b.test", user.RoleAdmin, nil, false)
		w.bManager = mk(w.orgB.ID, "manager@b.test", user.RoleManager, nil, false)
		w.bMember = mk(w.orgB.ID, "member@b.test", user.RoleMember, nil, false)
		w.bClient = mk(w.orgB.ID, "client@b.test", user.RoleClient, w.bCompany, false)
		w.bJob = tx.Job.Create().SetOrgID(w.orgB.ID).SetCompanyID(w.bCompany.ID).SetTitle("B published").
			SetStatus(job.StatusPublished).SetSalaryMax(9000).SetCreatedByID(w.bAdmin.ID).
			AddManagerIDs(w.bManager.ID).SaveX(sys)
		w.bDraft = tx.Job.Create().SetOrgID(w.orgB.ID).SetCompanyID(w.bCompany.ID).SetTitle("B draft").
			SetCreatedByID(w.bAdmin.ID).SaveX(sys)
		w.bNote = tx.Note.Create().SetOrgID(w.orgB.ID).SetJobID(w.bJob.ID).SetAuthorID(w.bMember.ID).
			SetBody("B note").SaveX(sys)
		return nil
	})
	return w
}

func (w *repoWorld) as(t *testing.T, actor string) context.Context {
	t.Helper()
	u, ok := w.actors[actor]
	require.True(t, ok, "no actor %q", actor)
	return pgtest.UserContext(t, u)
}

// seedJob creates a job of co's organization under the system scope, created
// by that organization's second admin.
func (w *repoWorld) seedJob(t *testing.T, co *ent.Company, st job.Status, managers ...*ent.User) *ent.Job {
	t.Helper()
	creator := w.admin2
	if co.OrgID == w.orgB.ID {
		creator = w.bAdmin
	}
	return w.seed.Job(t, co, creator, st, managers...)
}
