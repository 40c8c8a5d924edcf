package scopegate_test

import (
	"go/ast"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// templateEntVersion is the ent release the templates of ent/template were
// copied from: client.tmpl replaces ent's "client" template, edgescope.tmpl
// its edge predicates, edge orders and query path, eagerload.tmpl its query
// builder's eager loads, decode.tmpl its row scanning. An ent upgrade must
// copy the new ones and re-apply the changes marked "scopegate".
const templateEntVersion = "v0.14.5"

func TestClientTemplateMatchesEntVersion(t *testing.T) {
	root := repoRoot(t)
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^\s*entgo\.io/ent (\S+)`).FindSubmatch(mod)
	require.NotNil(t, m, "go.mod requires entgo.io/ent")
	assert.Equal(t, templateEntVersion, string(m[1]),
		"ent/template holds copies of ent %s's templates: copy the new ones and re-apply the scopegate changes", templateEntVersion)
}

// TestNoTraversalStartsFromAnID: ent's generated Query<Edge>(entity) started
// from the entity's id alone (sqlgraph.Neighbors), skipping the source's
// privacy rules. Every traversal must start from a query.
func TestNoTraversalStartsFromAnID(t *testing.T) {
	root := repoRoot(t)
	files, err := filepath.Glob(filepath.Join(root, "ent", "*.go"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.False(t, strings.Contains(string(b), "sqlgraph.Neighbors("),
			"%s: a traversal starts from an id (sqlgraph.Neighbors); see ent/template/client.tmpl", filepath.Base(f))
	}
}

// auditWriters are the files that may call rules.AuditWriterContext, the
// one context in which the system scope may create audit events.
var auditWriters = map[string]bool{"internal/audit/audit.go": true}

// TestOnlyTheAuditHookWritesAuditEvents: docs/design.md section 5, audit events are
// written by the audit hook only. The rule that refuses every other create
// trusts rules.AuditWriterContext, so nothing else may call it.
func TestOnlyTheAuditHookWritesAuditEvents(t *testing.T) {
	found := 0
	for _, sf := range walkSources(t) {
		ast.Inspect(sf.file, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "AuditWriterContext" {
				return true
			}
			found++
			assert.True(t, auditWriters[sf.rel], "%s: calls AuditWriterContext; only %v may", sf.rel, auditWriters)
			return true
		})
	}
	assert.Positive(t, found, "the audit hook no longer marks its context: the detector looks at nothing")
}
