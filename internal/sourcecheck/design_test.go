package scopegate_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// designDoc is the design document every reference cites.
const designDoc = "docs/design.md"

// designAnchors returns the anchors of the sections of docs/design.md, as
// GitHub makes them from "## 3. Who sees which rows": "3-who-sees-which-rows",
// and the section numbers that have a heading.
func designAnchors(t *testing.T, root string) (anchors map[string]bool, sections map[string]bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, designDoc))
	require.NoError(t, err)
	anchors, sections = map[string]bool{}, map[string]bool{}
	heading := regexp.MustCompile(`(?m)^## ((\d+)\. .*)$`)
	for _, m := range heading.FindAllStringSubmatch(string(b), -1) {
		anchors[githubAnchor(m[1])] = true
		sections[m[2]] = true
	}
	require.NotEmpty(t, sections, "%s has no numbered sections", designDoc)
	return anchors, sections
}

// githubAnchor is the anchor GitHub gives a Markdown heading: lower case,
// punctuation dropped, spaces as dashes.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// textFiles returns every text file of the repository (relative path ->
// content), without .git.
func textFiles(t *testing.T, root string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.IndexByte(b, 0) >= 0 { // binary
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	require.NoError(t, err)
	return out
}

// TestDesignIsCitedInTheRepository: the design the code and the docs cite
// is docs/design.md, in the repository. A reference to the design file that
// lived outside it (by its upper-case name) fails, and so does a reference
// to a section or an anchor that docs/design.md does not have.
func TestDesignIsCitedInTheRepository(t *testing.T) {
	root := repoRoot(t)
	anchors, sections := designAnchors(t, root)
	// Spelled so that this file does not match itself.
	outside := regexp.MustCompile(`\b` + strings.ToUpper("design") + `\b`)
	// "docs/design.md section 3", "sections 3 and 5", across a comment's
	// line break ("docs/design.md section\n// 11").
	section := regexp.MustCompile(`docs/design\.md[\s/#-]*sections?[\s/#-]*(\d+)(?:[\s/#-]*(?:and|,)[\s/#-]*(\d+))?`)
	anchor := regexp.MustCompile(`docs/design\.md#([A-Za-z0-9_-]+)`)
	refs := 0
	for rel, b := range textFiles(t, root) {
		if loc := outside.FindIndex(b); loc != nil {
			line := bytes.Count(b[:loc[0]], []byte("\n")) + 1
			t.Errorf("%s:%d cites a design file outside the repository; cite %s section N", rel, line, designDoc)
		}
		for _, m := range section.FindAllSubmatch(b, -1) {
			refs++
			for _, n := range m[1:] {
				if len(n) > 0 && !sections[string(n)] {
					t.Errorf("%s: %q: %s has no section %s", rel, m[0], designDoc, n)
				}
			}
		}
		for _, m := range anchor.FindAllSubmatch(b, -1) {
			refs++
			assert.True(t, anchors[string(m[1])], "%s: %s has no anchor #%s", rel, designDoc, m[1])
		}
	}
	assert.Positive(t, refs, "no file cites %s: is the pattern still right?", designDoc)
}

func TestGithubAnchor(t *testing.T) {
	assert.Equal(t, "3-who-sees-which-rows", githubAnchor("3. Who sees which rows"))
	assert.Equal(t, "10-ent-facts-this-design-relies-on", githubAnchor("10. Ent facts this design relies on"))
}
