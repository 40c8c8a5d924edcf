package policy_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/internal/policy"
	"github.com/scopegate/scopegate/internal/scope"
)

// Explain traces the decision Authorize would make: the rule, every check
// with its result, and what decided. Checks never touch the database: the
// repository loads what they need (here a job with its managers) before it
// asks, so the jobs below are built in memory.
func ExampleExplain() {
	manager, err := scope.ForUser(scope.User{ID: 7, OrgID: 1, Role: scope.RoleManager, Active: true})
	if err != nil {
		log.Fatal(err)
	}
	ctx := scope.NewContext(context.Background(), manager)

	managed := &ent.Job{ID: 10, OrgID: 1, Edges: ent.JobEdges{Managers: []*ent.User{{ID: 7}}}}
	d, err := policy.Explain(ctx, policy.JobUpdate, managed)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s allowed=%t (%s)\n", d.Action, d.Allowed, d.DecidedBy)
	for _, s := range d.Steps {
		fmt.Printf("  %-7s %-12s %t\n", s.Phase, s.Check, s.Passed)
	}

	// A denial is an error that carries the same decision.
	someoneElses := &ent.Job{ID: 11, OrgID: 1, Edges: ent.JobEdges{Managers: []*ent.User{{ID: 8}}}}
	err = policy.Authorize(ctx, policy.JobUpdate, someoneElses)
	var denied *policy.Error
	if errors.As(err, &denied) {
		fmt.Println(errors.Is(err, policy.ErrForbidden), denied.Decision.DecidedBy)
	}
	// Output:
	// job.update allowed=true (allow 2: role:manager, manages_job)
	//   deny    banned       false
	//   allow 1 role:admin   false
	//   allow 2 role:manager true
	//   allow 2 manages_job  true
	// true no allow list passed
}

// Rules are data: each action has allow lists (any list, all of its checks)
// and deny checks (any one denies, and deny wins). This is the table of
// docs/design.md section 5.
func ExampleRules() {
	for _, r := range policy.Rules() {
		fmt.Printf("%-14s allow %v deny %v\n", r.Action, r.Allow, r.Deny)
	}
	// Output:
	// job.read       allow [[everyone]] deny [banned]
	// job.create     allow [[role:admin] [role:manager]] deny [banned]
	// job.update     allow [[role:admin] [role:manager manages_job]] deny [banned]
	// job.delete     allow [[role:admin]] deny [banned]
	// company.read   allow [[everyone]] deny [banned]
	// company.create allow [[role:admin]] deny [banned]
	// company.update allow [[role:admin]] deny [banned]
	// company.delete allow [[role:admin]] deny [banned]
	// note.create    allow [[role:admin] [role:manager] [role:member sees_job]] deny [banned]
	// note.update    allow [[role:admin] [own_resource]] deny [banned]
	// note.delete    allow [[role:admin] [own_resource]] deny [banned]
	// note.internal  allow [[role:admin] [role:manager]] deny [banned]
	// user.read      allow [[everyone]] deny [banned_not_self]
	// user.create    allow [[role:admin]] deny [banned]
	// user.update    allow [[role:admin] [self only_fields:name|phone]] deny [banned]
	// user.delete    allow [[role:admin]] deny [banned]
}

// Find answers questions about the policy: which actions may a manager take
// (given the other checks of the allow list that names the role), and which
// rules depend on who wrote a note.
func ExampleFind() {
	for _, r := range policy.Find(policy.Filter{Allow: "role:manager"}) {
		fmt.Println("manager:", r.Action, "-", r.Description)
	}
	for _, r := range policy.Find(policy.Filter{Uses: "own_resource"}) {
		fmt.Println("own_resource:", r.Action)
	}
	// Output:
	// manager: job.create - Create a job
	// manager: job.update - Update a job: admins, and managers of that job
	// manager: note.create - Write a note on a job (the object is the job)
	// manager: note.internal - Write a note as internal: only roles that can read internal notes
	// own_resource: note.update
	// own_resource: note.delete
}
