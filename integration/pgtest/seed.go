package pgtest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/scope"
)

// SystemContext returns a context carrying an all-tenant system scope whose
// reason names the test, for seeding.
func SystemContext(tb testing.TB) context.Context {
	tb.Helper()
	s, err := scope.System("test seed: " + tb.Name()).Scope()
	if err != nil {
		tb.Fatal(err)
	}
	return scope.NewContext(context.Background(), s)
}

// UserContext returns a context carrying u's scope.
func UserContext(tb testing.TB, u *ent.User) context.Context {
	tb.Helper()
	return scope.NewContext(context.Background(), MustScope(tb, u))
}

// MustScope builds u's user scope.
func MustScope(tb testing.TB, u *ent.User) scope.Scope {
	tb.Helper()
	s, err := scope.ForUser(scope.User{
		ID: u.ID, OrgID: u.OrgID, Role: scope.Role(u.Role), CompanyID: u.CompanyID,
		Banned: u.Banned, Active: u.Active,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// MustTx runs fn in one transaction under ctx's scope and fails the test on
// error.
func MustTx(tb testing.TB, ctx context.Context, c *ent.Client, fn func(tx *ent.Tx) error) {
	tb.Helper()
	if err := database.WithTx(ctx, c, fn); err != nil {
		tb.Fatal(err)
	}
}

// Seed creates rows under an all-tenant system scope, in one (audited)
// transaction, and returns what create returns; it fails the test if create
// or the commit fails.
func Seed[T any](tb testing.TB, c *ent.Client, create func(ctx context.Context, tx *ent.Tx) (T, error)) T {
	tb.Helper()
	ctx := SystemContext(tb)
	var out T
	MustTx(tb, ctx, c, func(tx *ent.Tx) error {
		var err error
		out, err = create(ctx, tx)
		return err
	})
	return out
}

// LoginContext returns a context carrying the authenticator scope of a login
// by email: the one scope that may create sessions (docs/design.md section 5), for
// tests that need sessions to exist.
func LoginContext(tb testing.TB, email string) context.Context {
	tb.Helper()
	s, err := scope.Authenticator(scope.AuthLookup{Email: email})
	if err != nil {
		tb.Fatal(err)
	}
	return scope.NewContext(context.Background(), s)
}

// IDs returns the ids of rows, in their order; an empty list for none (not
// nil, so that it equals the empty lists the code under test returns).
// Every ent entity has GetID (ent/template/getid.tmpl).
func IDs[T interface{ GetID() int }](rows ...T) []int {
	out := make([]int, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.GetID())
	}
	return out
}

// Seeder creates the rows a test case changes, one at a time, each under
// the all-tenant system scope in its own audited transaction (Seed), so
// that one case's success does not change another's world. Names, emails
// and tokens carry a serial (Next), unique within the Seeder.
type Seeder struct {
	Client *ent.Client
	n      atomic.Int64
}

// NewSeeder returns a Seeder on c.
func NewSeeder(c *ent.Client) *Seeder { return &Seeder{Client: c} }

// Next returns the next serial: for names a test makes up that must not
// meet another's.
func (s *Seeder) Next() int { return int(s.n.Add(1)) }

// Company creates a company of org.
func (s *Seeder) Company(tb testing.TB, org int) *ent.Company {
	tb.Helper()
	return Seed(tb, s.Client, func(ctx context.Context, tx *ent.Tx) (*ent.Company, error) {
		return tx.Company.Create().SetOrgID(org).SetName(fmt.Sprintf("company %d", s.Next())).Save(ctx)
	})
}

// User creates a user of org with role, a client of co if co is not nil.
func (s *Seeder) User(tb testing.TB, org int, role user.Role, co *ent.Company) *ent.User {
	tb.Helper()
	return Seed(tb, s.Client, func(ctx context.Context, tx *ent.Tx) (*ent.User, error) {
		email := fmt.Sprintf("seeded%d@org%d.test", s.Next(), org)
		c := tx.User.Create().SetOrgID(org).SetEmail(email).SetName(email).SetPhone("555-0").SetRole(role)
		if co != nil {
			c.SetCompanyID(co.ID)
		}
		return c.Save(ctx)
	})
}

// Job creates a job of co (and of co's organization) with status st, a
// salary, created by creator and managed by managers.
func (s *Seeder) Job(tb testing.TB, co *ent.Company, creator *ent.User, st job.Status, managers ...*ent.User) *ent.Job {
	tb.Helper()
	return Seed(tb, s.Client, func(ctx context.Context, tx *ent.Tx) (*ent.Job, error) {
		return tx.Job.Create().SetOrgID(co.OrgID).SetCompanyID(co.ID).SetTitle(fmt.Sprintf("job %d", s.Next())).
			SetStatus(st).SetSalaryMax(5000).SetCreatedByID(creator.ID).AddManagerIDs(IDs(managers...)...).Save(ctx)
	})
}

// Note creates a note on j by author, internal or public.
func (s *Seeder) Note(tb testing.TB, j *ent.Job, author *ent.User, internal bool) *ent.Note {
	tb.Helper()
	return Seed(tb, s.Client, func(ctx context.Context, tx *ent.Tx) (*ent.Note, error) {
		return tx.Note.Create().SetOrgID(j.OrgID).SetJobID(j.ID).SetAuthorID(author.ID).
			SetBody(fmt.Sprintf("note %d", s.Next())).SetInternal(internal).Save(ctx)
	})
}

// Session creates a session of u, valid for an hour, as a login does:
// under the authenticator scope, the one that may create sessions.
func (s *Seeder) Session(tb testing.TB, u *ent.User) *ent.Session {
	tb.Helper()
	se, err := s.Client.Session.Create().SetUserID(u.ID).SetOrgID(u.OrgID).SetTokenHash(fmt.Sprintf("hash-%d", s.Next())).
		SetExpiresAt(time.Now().Add(time.Hour)).Save(LoginContext(tb, u.Email))
	if err != nil {
		tb.Fatal(err)
	}
	return se
}
