package preload_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/demo"
	"github.com/scopegate/scopegate/internal/preload"
	"github.com/scopegate/scopegate/internal/repo"
)

// Allowed answers "what may a client ask to preload here": every path of
// the registry for an entity on a surface, nested up to preload.MaxDepth
// edges. From a note, the user surface reaches its author and the author's
// company; the admin surface also the jobs the author manages, and their
// creators.
func ExampleAllowed() {
	fmt.Println("user: ", strings.Join(preload.Allowed(preload.Note, preload.SurfaceUser), ", "))
	fmt.Println("admin:", strings.Join(preload.Allowed(preload.Note, preload.SurfaceAdmin), ", "))
	// Output:
	// user:  author, author.company, author.company.jobs
	// admin: author, author.company, author.company.jobs, author.managed_jobs, author.managed_jobs.company, author.managed_jobs.creator, author.managed_jobs.managers, author.managed_jobs.notes
}

// Each entry of the registry is one edge of one entity on one surface, with
// the filter, order and per-parent cap its eager load applies; Describe
// lists them (scopegate preload list, GET /api/preloads and docs/preloads.md
// show the same).
//
// The registry is a table in the code, fixed at build time: what a client
// may load is decided in review, not at run time. Adding an entry is one
// more row in registry() in registry.go. To offer a job's creator on the
// user surface as well, say, add to the SurfaceUser list of Job the row
// that the SurfaceAdmin list already has:
//
//	jobEdge(SurfaceUser, job.EdgeCreator, User, "all", "", 0,
//		func(q *ent.JobQuery, sub load) { q.WithCreator(func(u *ent.UserQuery) { sub(u) }) }),
//
// then regenerate docs/preloads.md (go test ./internal/preload -run
// TestDocsCurrent -update) and the table of docs/design.md section 4.
// Validate, run at start-up, refuses an edge listed twice or one whose
// target has no table. The privacy rules still run inside every preload: an
// entry only lets a client ask for rows its scope could read anyway.
func ExampleDescribe() {
	for _, d := range preload.Describe() {
		if d.Entity != preload.Job {
			continue
		}
		fmt.Printf("%s: job.%s -> %s; filter: %s", d.Surface, d.Edge, d.Target, d.Filter)
		if d.Limit > 0 {
			fmt.Printf("; at most %d per job", d.Limit)
		}
		fmt.Println()
	}
	fmt.Println("registry valid:", preload.Validate() == nil)
	// Output:
	// user: job.company -> company; filter: all
	// user: job.managers -> user; filter: active users only
	// user: job.notes -> note; filter: public notes only (internal = false); at most 20 per job
	// admin: job.company -> company; filter: all
	// admin: job.managers -> user; filter: all
	// admin: job.notes -> note; filter: all
	// admin: job.creator -> user; filter: all
	// registry valid: true
}

// A preload that is not in the registry for the entity and surface is
// refused with a *preload.Error that names the path, the reason and every
// allowed path, before any SQL is sent (the HTTP API answers it as 400
// preload_not_allowed). Here a member asks for the jobs' creators, which
// only the admin surface offers.
func ExampleError() {
	ctx := context.Background()
	statements := database.NewCounter(false)
	db, err := demo.OpenEmbedded(ctx, demo.InMemory, database.Options{Counter: statements})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	member, err := demo.UserContext(ctx, db.Client, "member@acme.test")
	if err != nil {
		log.Fatal(err)
	}

	statements.Reset()
	_, err = repo.New(db.Client).Jobs.List(member, preload.SurfaceUser, repo.JobFilter{},
		repo.ListOptions{Preload: "company,creator"})
	var pe *preload.Error
	if !errors.As(err, &pe) {
		log.Fatalf("want a *preload.Error, got %v", err)
	}
	fmt.Println(errors.Is(err, preload.ErrNotAllowed), pe.Path, pe.Reason, pe.Entity, pe.Surface)
	fmt.Println("allowed:", strings.Join(pe.Allowed, ", "))
	fmt.Println("statements sent:", statements.Count())
	// Output:
	// true creator not_allowed job user
	// allowed: company, company.jobs, company.jobs.company, company.jobs.managers, company.jobs.notes, managers, managers.company, managers.company.jobs, notes, notes.author, notes.author.company
	// statements sent: 0
}
