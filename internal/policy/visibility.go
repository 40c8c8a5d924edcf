package policy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/company"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/note"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/internal/scope"
)

// ErrNotInspector is returned when a scope other than an admin's or the
// system's asks why a row is hidden from someone.
var ErrNotInspector = errors.New("policy: only admins and the system scope may inspect visibility")

// ErrUnknownObject is returned by ExplainVisibility for an object it does
// not know; VisibilityObjects lists those it knows.
var ErrUnknownObject = errors.New("policy: unknown object")

// VisibilityObjects are the objects ExplainVisibility explains.
var VisibilityObjects = []string{"job", "note", "company", "user"}

// Visibility says whether a row is visible to a user and which rule of
// docs/design.md section 3 decides it.
type Visibility struct {
	Object  string `json:"object"`
	ID      int    `json:"id"`
	UserID  int    `json:"user_id"`
	Visible bool   `json:"visible"`
	Rule    string `json:"rule"`   // "3.5 manager and member"
	Reason  string `json:"reason"` // in words
	// Confirmed: the same question asked of the privacy rules, by
	// querying under the user's scope, gave the same answer.
	Confirmed bool `json:"confirmed"`
}

// ExplainVisibility tells why the row object/id is (or is not) visible to
// the user viewerID, for an admin (rows and users of their organization) or
// the system scope. It reads with the caller's scope, so an admin cannot
// learn anything about another tenant: a row or user they cannot see is
// *ent.NotFoundError. The answer is then confirmed by running the query
// under the viewer's own scope.
func ExplainVisibility(ctx context.Context, c *ent.Client, viewerID int, object string, id int) (Visibility, error) {
	s, ok := scope.FromContext(ctx)
	if !ok {
		return Visibility{}, fmt.Errorf("policy: why hidden: %w", scope.ErrNoScope)
	}
	if !s.IsSystem() && (s.Role() != scope.RoleAdmin || s.Banned()) {
		return Visibility{}, ErrNotInspector
	}
	viewer, err := c.User.Get(ctx, viewerID)
	if err != nil {
		return Visibility{}, fmt.Errorf("policy: why hidden: viewer: %w", err)
	}
	vs, err := scope.ForUser(scope.User{ID: viewer.ID, OrgID: viewer.OrgID, Role: scope.Role(viewer.Role),
		CompanyID: viewer.CompanyID, Banned: viewer.Banned, Active: viewer.Active})
	if err != nil {
		return Visibility{}, fmt.Errorf("policy: why hidden: %w", err)
	}
	v := Visibility{Object: object, ID: id, UserID: viewerID}
	var exists func(context.Context) (bool, error)
	switch object {
	case "job":
		j, err := c.Job.Query().Where(job.ID(id)).WithManagers().Only(ctx)
		if err != nil {
			return v, fmt.Errorf("policy: why hidden: %w", err)
		}
		v.Visible, v.Rule, v.Reason = jobVisibility(vs, j)
		exists = c.Job.Query().Where(job.ID(id)).Exist
	case "note":
		n, err := c.Note.Query().Where(note.ID(id)).WithJob(func(q *ent.JobQuery) { q.WithManagers() }).Only(ctx)
		if err != nil {
			return v, fmt.Errorf("policy: why hidden: %w", err)
		}
		v.Visible, v.Rule, v.Reason = noteVisibility(vs, n)
		exists = c.Note.Query().Where(note.ID(id)).Exist
	case "company":
		co, err := c.Company.Get(ctx, id)
		if err != nil {
			return v, fmt.Errorf("policy: why hidden: %w", err)
		}
		v.Visible, v.Rule, v.Reason = companyVisibility(vs, co)
		exists = c.Company.Query().Where(company.ID(id)).Exist
	case "user":
		u, err := c.User.Query().Where(user.ID(id)).
			WithManagedJobs(func(q *ent.JobQuery) { q.WithManagers() }).Only(ctx)
		if err != nil {
			return v, fmt.Errorf("policy: why hidden: %w", err)
		}
		v.Visible, v.Rule, v.Reason = userVisibility(vs, u)
		exists = c.User.Query().Where(user.ID(id)).Exist
	default:
		return v, fmt.Errorf("%w %q (known: %s)", ErrUnknownObject, object, strings.Join(VisibilityObjects, ", "))
	}
	got, err := exists(scope.NewContext(ctx, vs))
	if err != nil {
		return v, fmt.Errorf("policy: why hidden: confirming: %w", err)
	}
	v.Confirmed = got == v.Visible
	return v, nil
}

func tenantAndBan(vs scope.Scope, org int) (bool, string, string) {
	if o, _ := vs.OrgID(); o != org {
		return false, "3.2 tenant isolation", "the row belongs to another organization"
	}
	if vs.Banned() {
		return false, "3.3 banned", "a banned user sees only their own user row and organization"
	}
	return true, "", ""
}

func jobVisibility(vs scope.Scope, j *ent.Job) (bool, string, string) {
	if ok, rule, why := tenantAndBan(vs, j.OrgID); !ok {
		return false, rule, why
	}
	manages := slices.ContainsFunc(j.Edges.Managers, func(u *ent.User) bool { return u.ID == vs.UserID() })
	published := j.Status == job.StatusPublished
	switch vs.Role() {
	case scope.RoleAdmin:
		return true, "3.4 admin", "admins see every row of the organization"
	case scope.RoleManager, scope.RoleMember:
		switch {
		case published:
			return true, "3.5 manager and member", "the job is published"
		case manages:
			return true, "3.5 manager and member", "they manage the job"
		}
		return false, "3.5 manager and member", fmt.Sprintf("the job is %s and they do not manage it", j.Status)
	case scope.RoleClient:
		c, _ := vs.CompanyID()
		switch {
		case j.CompanyID != c:
			return false, "3.6 client", "the job is not their company's"
		case !published:
			return false, "3.6 client", fmt.Sprintf("the job is %s, not published", j.Status)
		}
		return true, "3.6 client", "a published job of their company"
	}
	return false, "3.1 no scope", "no role"
}

func noteVisibility(vs scope.Scope, n *ent.Note) (bool, string, string) {
	if ok, rule, why := tenantAndBan(vs, n.OrgID); !ok {
		return false, rule, why
	}
	if vs.Role() == scope.RoleAdmin {
		return true, "3.4 admin", "admins see every row of the organization"
	}
	if ok, rule, why := jobVisibility(vs, n.Edges.Job); !ok {
		return false, rule, "the note's job is hidden: " + why
	}
	if n.Internal && vs.Role() != scope.RoleManager {
		return false, "3.5/3.6 internal notes", "an internal note; members and clients see public notes only"
	}
	return true, "3.5/3.6 notes", "a note on a job they can see"
}

func companyVisibility(vs scope.Scope, co *ent.Company) (bool, string, string) {
	if ok, rule, why := tenantAndBan(vs, co.OrgID); !ok {
		return false, rule, why
	}
	if vs.Role() == scope.RoleClient {
		if c, _ := vs.CompanyID(); c != co.ID {
			return false, "3.6 client", "not the client's own company"
		}
		return true, "3.6 client", "their own company"
	}
	return true, "3.4/3.5", "every company of the organization"
}

func userVisibility(vs scope.Scope, u *ent.User) (bool, string, string) {
	if o, _ := vs.OrgID(); o != u.OrgID {
		return false, "3.2 tenant isolation", "the user belongs to another organization"
	}
	if u.ID == vs.UserID() {
		return true, "3.3 self", "their own user row"
	}
	if vs.Banned() {
		return false, "3.3 banned", "a banned user sees only their own user row and organization"
	}
	if vs.Role() != scope.RoleClient {
		return true, "3.4/3.5", "every user of the organization"
	}
	for _, j := range u.Edges.ManagedJobs {
		if ok, _, _ := jobVisibility(vs, j); ok {
			return true, "3.6 client", fmt.Sprintf("manages job %d, which the client can see", j.ID)
		}
	}
	return false, "3.6 client", "neither themself nor a manager of a job they can see"
}
