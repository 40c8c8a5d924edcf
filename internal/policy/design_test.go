package policy

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// designPolicyActions reads the first table of docs/design.md section 5
// and returns the actions its first column names: "job.read", and
// "company.create / update / delete" as three.
func designPolicyActions(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../docs/design.md")
	require.NoError(t, err)
	var out []string
	in, seen := false, false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "## ") {
			in = strings.HasPrefix(line, "## 5. ")
			continue
		}
		if !in {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			if seen {
				break // the first table ended
			}
			continue
		}
		seen = true
		first := strings.TrimSpace(strings.Split(strings.Trim(line, "|"), "|")[0])
		if first == "object.action" || strings.HasPrefix(first, "---") {
			continue
		}
		object, actions, ok := strings.Cut(first, ".")
		require.True(t, ok, "docs/design.md section 5: %q is not object.action", first)
		for _, a := range strings.Split(actions, "/") {
			out = append(out, object+"."+strings.TrimSpace(a))
		}
	}
	return out
}

// TestDesignPolicyTableNamesEveryRule: the table of docs/design.md section
// 5 names exactly the actions of the rules (docs/policy.md is generated
// from the rules; the design's table is written by hand and would
// otherwise fall behind a new rule without a word).
func TestDesignPolicyTableNamesEveryRule(t *testing.T) {
	design := designPolicyActions(t)
	require.NotEmpty(t, design, "no table in docs/design.md section 5")
	var rules []string
	for _, r := range Rules() {
		rules = append(rules, string(r.Action))
	}
	assert.ElementsMatch(t, rules, design, "the rules (left) and docs/design.md section 5 (right)")
}

// TestWhyHiddenExplainsEveryPolicyObject: every object the policy has rules
// for can be asked about with `scopegate policy why-hidden`
// (ExplainVisibility): an object the rules know but why-hidden does not
// would be refused as unknown, and no other test would notice.
func TestWhyHiddenExplainsEveryPolicyObject(t *testing.T) {
	for _, r := range Rules() {
		assert.True(t, slices.Contains(VisibilityObjects, r.Object),
			"rule %s: why-hidden (ExplainVisibility, VisibilityObjects) does not explain %q", r.Action, r.Object)
	}
}
