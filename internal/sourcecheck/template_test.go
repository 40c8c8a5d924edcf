package scopegate_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// templateEntVersion is the ent release ent/template/client.tmpl was copied
// from. The copy replaces ent's own "client" template, so an ent upgrade must
// copy the new one and re-apply the change between its "scopegate" markers.
const templateEntVersion = "v0.14.5"

func TestClientTemplateMatchesEntVersion(t *testing.T) {
	root := repoRoot(t)
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^\s*entgo\.io/ent (\S+)`).FindSubmatch(mod)
	require.NotNil(t, m, "go.mod requires entgo.io/ent")
	assert.Equal(t, templateEntVersion, string(m[1]),
		"ent/template/client.tmpl is a copy of ent %s's client template: copy the new one and re-apply the scopegate change", templateEntVersion)
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
