package audit_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/auditevent"
	"github.com/scopegate/scopegate/ent/company"
	"github.com/scopegate/scopegate/internal/audit"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/demo"
	"github.com/scopegate/scopegate/internal/scope"
)

// Code that must cross tenants runs under a system scope, which demands a
// reason. Its mutations must run in a transaction, so that each changed row
// gets its audit event atomically with the change; outside one they are
// refused before any row changes. Here an operator renames the company
// "Initech" in both demo organizations: two rows, two events, each naming
// the row's tenant and the reason.
func Example() {
	ctx := context.Background()
	db, err := demo.OpenEmbedded(ctx, demo.InMemory, database.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	sys, err := scope.System("rename Initech: ticket OPS-7").Scope()
	if err != nil {
		log.Fatal(err)
	}
	ctx = scope.NewContext(ctx, sys)
	rename := func(c *ent.Client) (int, error) {
		return c.Company.Update().Where(company.NameHasPrefix("Initech ")).
			SetName("Initrode").Save(ctx)
	}

	_, err = rename(db.Client)
	fmt.Println("outside a transaction:", errors.Is(err, audit.ErrNoTransaction))

	err = database.WithTx(ctx, db.Client, func(tx *ent.Tx) error {
		n, err := rename(tx.Client())
		fmt.Println("renamed:", n)
		return err
	})
	if err != nil {
		log.Fatal(err)
	}

	events, err := db.AuditEvent.Query().Where(auditevent.ObjectEQ("Company"), auditevent.ActionEQ("update")).
		Order(auditevent.ByID()).All(ctx)
	if err != nil {
		log.Fatal(err)
	}
	slugs, err := demo.OrgSlugs(ctx, db.Client)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range events {
		fmt.Printf("%s %s of %s by %s: %s\n", e.Action, e.Object, slugs[*e.OrgID], e.Actor, e.Reason)
	}
	// Output:
	// outside a transaction: true
	// renamed: 2
	// update Company of acme by system: rename Initech: ticket OPS-7
	// update Company of globex by system: rename Initech: ticket OPS-7
}
