package repo_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/demo"
	"github.com/scopegate/scopegate/internal/migration"
	"github.com/scopegate/scopegate/internal/preload"
	"github.com/scopegate/scopegate/internal/repo"
	"github.com/scopegate/scopegate/internal/scope"
)

// A member of the "acme" organization lists jobs. The scope is built once,
// from the signed-in user, and carried in the context; every repository
// call reads it from there. The member sees the published jobs of acme and
// nothing of "globex"; without a scope in the context nothing is read at
// all, and no SQL is sent.
func ExampleJobs_List() {
	ctx := context.Background()
	db := openDemo(ctx)
	defer db.Close()

	u := demoUser(ctx, db.Client, "member@acme.test")
	s, err := scope.ForUser(scope.User{
		ID: u.ID, OrgID: u.OrgID, Role: scope.Role(u.Role),
		CompanyID: u.CompanyID, Banned: u.Banned, Active: u.Active,
	})
	if err != nil {
		log.Fatal(err)
	}
	userCtx := scope.NewContext(ctx, s)

	repos := repo.New(db.Client)
	page, err := repos.Jobs.List(userCtx, preload.SurfaceUser, repo.JobFilter{}, repo.ListOptions{Preload: "company"})
	if err != nil {
		log.Fatal(err)
	}
	for _, j := range page.Items {
		fmt.Printf("%s (%s), company %s\n", j.Title, j.Status, j.Edges.Company.Name)
	}

	_, err = repos.Jobs.List(ctx, preload.SurfaceUser, repo.JobFilter{}, repo.ListOptions{})
	fmt.Println("without a scope:", errors.Is(err, scope.ErrNoScope))
	// Output:
	// Backend engineer at Initech (acme) (published), company Initech (acme)
	// Site reliability engineer at Umbrella (acme) (published), company Umbrella (acme)
	// without a scope: true
}

// Hidden equals missing: a job of another organization is repo.ErrNotFound,
// exactly like an id that does not exist, so a caller cannot learn that
// the other tenant's row is there.
func ExampleJobs_Get() {
	ctx := context.Background()
	db := openDemo(ctx)
	defer db.Close()
	jobs := repo.New(db.Client).Jobs

	// A job of globex, found by globex's own admin.
	globex := userContext(ctx, db.Client, "admin@globex.test")
	page, err := jobs.List(globex, preload.SurfaceUser, repo.JobFilter{Status: "published"}, repo.ListOptions{Limit: 1})
	if err != nil {
		log.Fatal(err)
	}
	theirs := page.Items[0].ID

	acme := userContext(ctx, db.Client, "admin@acme.test")
	_, _, err = jobs.Get(acme, preload.SurfaceUser, theirs, repo.GetOptions{})
	fmt.Println("globex's job, asked by acme's admin:", errors.Is(err, repo.ErrNotFound))
	_, _, err = jobs.Get(acme, preload.SurfaceUser, 999_999, repo.GetOptions{})
	fmt.Println("a job that does not exist:", errors.Is(err, repo.ErrNotFound))
	// Output:
	// globex's job, asked by acme's admin: true
	// a job that does not exist: true
}

// openDemo opens an embedded SQLite database in memory (one connection, so
// one database), creates its schema and seeds the demo world: the
// organizations "acme" and "globex", a user of every role in each, four
// jobs per organization (one draft, two published, one archived).
func openDemo(ctx context.Context) *database.DB {
	db, err := database.Open(ctx, "file::memory:", database.Options{})
	if err != nil {
		log.Fatal(err)
	}
	if err := migration.CreateEmbedded(ctx, db); err != nil {
		log.Fatal(err)
	}
	if _, err := demo.Seed(ctx, db.Client); err != nil {
		log.Fatal(err)
	}
	return db
}

// demoUser reads one demo user by email, under a system scope of its own,
// as the authenticator does before a user is known.
func demoUser(ctx context.Context, c *ent.Client, email string) *ent.User {
	s, err := scope.System("example: look up " + email).Scope()
	if err != nil {
		log.Fatal(err)
	}
	u, err := c.User.Query().Where(user.Email(email)).Only(scope.NewContext(ctx, s))
	if err != nil {
		log.Fatal(err)
	}
	return u
}

// userContext returns ctx carrying the scope of the demo user with email,
// built as in ExampleJobs_List.
func userContext(ctx context.Context, c *ent.Client, email string) context.Context {
	u := demoUser(ctx, c, email)
	s, err := scope.ForUser(scope.User{
		ID: u.ID, OrgID: u.OrgID, Role: scope.Role(u.Role),
		CompanyID: u.CompanyID, Banned: u.Banned, Active: u.Active,
	})
	if err != nil {
		log.Fatal(err)
	}
	return scope.NewContext(ctx, s)
}
