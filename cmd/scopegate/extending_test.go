package main

// Steps of docs/extending.md that would be silent if forgotten, in the CLI.

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// TestEveryJobIsDocumented: every job `scopegate job run` knows
// (builtinJobs) is listed, with its description, by `job run --help`, and
// named in docs/operations.md and in docs/design.md section 7. The help
// text and the docs are written by hand; a new job would otherwise run
// without a word about it anywhere.
func TestEveryJobIsDocumented(t *testing.T) {
	code, help, stderr := runCLI(t, nil, "job", "run", "--help")
	if code != 0 {
		t.Fatalf("job run --help: exit %d: %s", code, stderr)
	}
	docs := map[string]string{}
	for _, f := range []string{"operations.md", "design.md"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "docs", f))
		if err != nil {
			t.Fatal(err)
		}
		docs[f] = string(b)
	}
	if i := strings.Index(docs["design.md"], "\n## 7. "); i >= 0 {
		section := docs["design.md"][i+1:]
		if j := strings.Index(section, "\n## "); j >= 0 {
			section = section[:j]
		}
		docs["design.md section 7"] = section
	}
	delete(docs, "design.md")
	js := builtinJobs(time.Hour, time.Now())
	if len(js) == 0 {
		t.Fatal("no built-in jobs")
	}
	for _, j := range js {
		if !strings.Contains(help, j.Name()) || !strings.Contains(help, j.Description()) {
			t.Errorf("job run --help does not list %s with its description %q (commands.go)", j.Name(), j.Description())
		}
		for doc, text := range docs {
			if !strings.Contains(text, "`"+j.Name()) {
				t.Errorf("docs/%s does not name the job %s", doc, j.Name())
			}
		}
	}
}
