package scope_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/scopegate/scopegate/internal/scope"
)

// A scope is built once, from the signed-in user, and carried in the
// context; the data layer reads it from there (repo.Jobs.List in
// internal/repo shows a read through it). A user it cannot describe is
// refused, rather than turned into a scope that silently matches nothing.
func ExampleForUser() {
	s, err := scope.ForUser(scope.User{ID: 42, OrgID: 7, Role: scope.RoleManager, Active: true})
	if err != nil {
		log.Fatal(err)
	}
	ctx := scope.NewContext(context.Background(), s)

	got, ok := scope.FromContext(ctx)
	fmt.Println(ok, got)
	fmt.Println(got.Actor())

	// A client must name its company.
	_, err = scope.ForUser(scope.User{ID: 43, OrgID: 7, Role: scope.RoleClient})
	fmt.Println(errors.Is(err, scope.ErrInvalid), err)

	// A context without a scope has none: every query on it fails with
	// scope.ErrNoScope before any SQL is sent.
	_, ok = scope.FromContext(context.Background())
	fmt.Println(ok)
	// Output:
	// true user:42 org:7 role:manager banned:false
	// user:42
	// true scope: invalid scope: client 43 has no company
	// false
}

// The system scope is for batch jobs and operator commands. It demands a
// reason, which lands in every audit event it causes; InOrg narrows it to
// one tenant. (jobs.Runner builds one per run: see internal/jobs.)
func ExampleSystem() {
	all, err := scope.System("archive-stale run 42: ticket OPS-7").Scope()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(all, all.Reason())

	one, err := scope.System("purge one tenant").InOrg(7).Scope()
	if err != nil {
		log.Fatal(err)
	}
	org, narrowed := one.OrgID()
	fmt.Println(one, org, narrowed)

	_, err = scope.System("  ").Scope()
	fmt.Println(errors.Is(err, scope.ErrInvalid), err)
	// Output:
	// system (archive-stale run 42: ticket OPS-7) archive-stale run 42: ticket OPS-7
	// system org:7 (purge one tenant) 7 true
	// true scope: invalid scope: system scope needs a reason
}
