package repo_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/scopegate/scopegate/internal/auth"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/demo"
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
	db, err := demo.OpenEmbedded(ctx, demo.InMemory, database.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	u, err := demo.User(ctx, db.Client, "member@acme.test")
	if err != nil {
		log.Fatal(err)
	}
	s, err := auth.UserScope(u)
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
	db, err := demo.OpenEmbedded(ctx, demo.InMemory, database.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	jobs := repo.New(db.Client).Jobs

	// A job of globex, found by globex's own admin.
	globex, err := demo.UserContext(ctx, db.Client, "admin@globex.test")
	if err != nil {
		log.Fatal(err)
	}
	page, err := jobs.List(globex, preload.SurfaceUser, repo.JobFilter{Status: "published"}, repo.ListOptions{Limit: 1})
	if err != nil {
		log.Fatal(err)
	}
	theirs := page.Items[0].ID

	acme, err := demo.UserContext(ctx, db.Client, "admin@acme.test")
	if err != nil {
		log.Fatal(err)
	}
	_, _, err = jobs.Get(acme, preload.SurfaceUser, theirs, repo.GetOptions{})
	fmt.Println("globex's job, asked by acme's admin:", errors.Is(err, repo.ErrNotFound))
	_, _, err = jobs.Get(acme, preload.SurfaceUser, 999_999, repo.GetOptions{})
	fmt.Println("a job that does not exist:", errors.Is(err, repo.ErrNotFound))
	// Output:
	// globex's job, asked by acme's admin: true
	// a job that does not exist: true
}
