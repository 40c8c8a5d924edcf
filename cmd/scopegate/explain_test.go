package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/policy"
	"github.com/scopegate/scopegate/internal/scope"
)

// TestPolicyExplainLoadsEveryObject: `scopegate policy explain` can load
// the object of every rule (loadObject): a rule of a new object without a
// loader would fail only when an operator asks about it. On an empty
// database every load is not found; none may be "no loader".
func TestPolicyExplainLoadsEveryObject(t *testing.T) {
	ctx := context.Background()
	db, err := database.Open(ctx, filepath.Join(t.TempDir(), "explain.db"), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Schema.Create(ctx); err != nil {
		t.Fatal(err)
	}
	sys, err := scope.System("test: policy explain loaders").Scope()
	if err != nil {
		t.Fatal(err)
	}
	sctx := scope.NewContext(ctx, sys)
	for _, rule := range policy.Rules() {
		if _, needsID := explainedObject(rule); !needsID {
			continue // a create is asked about no row
		}
		if _, err := loadObject(sctx, db.Client, rule, 1, "name"); !ent.IsNotFound(err) {
			t.Errorf("%s: loading object 1 of an empty database: %v, want not found", rule.Action, err)
		}
	}
}
