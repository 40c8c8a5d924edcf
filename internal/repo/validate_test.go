package repo_test

import (
	"testing"

	"entgo.io/ent"

	"github.com/scopegate/scopegate/ent/schema"
	"github.com/scopegate/scopegate/internal/repo"
)

// TestTextLimitsAreTheSchemas: the repositories' limits are the schema's
// MaxRuneLen, so that the API refuses in the field's terms what ent's
// validators would refuse in theirs.
func TestTextLimitsAreTheSchemas(t *testing.T) {
	size := func(fields []ent.Field, name string) int {
		for _, f := range fields {
			if d := f.Descriptor(); d.Name == name {
				return d.Size
			}
		}
		t.Fatalf("no field %s", name)
		return 0
	}
	for _, c := range []struct {
		name   string
		fields []ent.Field
		field  string
		limit  int
	}{
		{"job.title", schema.Job{}.Fields(), "title", repo.MaxTitleLen},
		{"company.name", schema.Company{}.Fields(), "name", repo.MaxNameLen},
		{"user.name", schema.User{}.Fields(), "name", repo.MaxNameLen},
		{"user.email", schema.User{}.Fields(), "email", repo.MaxEmailLen},
		{"user.phone", schema.User{}.Fields(), "phone", repo.MaxPhoneLen},
	} {
		if got := size(c.fields, c.field); got != c.limit {
			t.Errorf("%s: schema %d, repo %d", c.name, got, c.limit)
		}
	}
}
