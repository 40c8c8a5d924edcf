package policy

import (
	"slices"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/internal/scope"
)

// Redaction is one field some scopes may not read.
type Redaction struct {
	Object string `json:"object"`
	Field  string `json:"field"`
	// Who may read it, in words.
	VisibleTo string `json:"visible_to"`
}

// Redactions is the redaction table of docs/design.md section 5.
var Redactions = []Redaction{
	{Object: "user", Field: "email", VisibleTo: "admins and the user themself"},
	{Object: "user", Field: "phone", VisibleTo: "admins and the user themself"},
	{Object: "job", Field: "salary_max", VisibleTo: "everyone but clients"},
}

// Redacted maps each redacted entity to the names of its fields that were
// zeroed. Serializers list them in the object's "redacted" array.
type Redacted map[any][]string

// Fields returns the redacted fields of v (nil if none).
func (r Redacted) Fields(v any) []string { return r[v] }

// Redact zeroes, in place, every field of v (an entity, a slice of them, and
// everything preloaded under them) that the scope may not read, and returns
// which fields of which entity it zeroed. Redacted values never reach a
// serializer, so no later code can leak them by accident.
func Redact(s scope.Scope, v any) Redacted {
	r := Redacted{}
	seen := map[any]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case *ent.User:
			if x == nil || seen[x] {
				return
			}
			seen[x] = true
			if !mayReadContact(s, x) {
				x.Email, x.Phone = "", ""
				r[x] = []string{"email", "phone"}
			}
			walk(x.Edges.Company)
			walk(x.Edges.ManagedJobs)
			walk(x.Edges.Notes)
			walk(x.Edges.CreatedJobs)
		case *ent.Job:
			if x == nil || seen[x] {
				return
			}
			seen[x] = true
			if !s.IsSystem() && s.Role() == scope.RoleClient {
				x.SalaryMax = nil
				r[x] = []string{"salary_max"}
			}
			walk(x.Edges.Company)
			walk(x.Edges.Managers)
			walk(x.Edges.Notes)
			walk(x.Edges.Creator)
		case *ent.Company:
			if x == nil || seen[x] {
				return
			}
			seen[x] = true
			walk(x.Edges.Jobs)
			walk(x.Edges.Clients)
		case *ent.Note:
			if x == nil || seen[x] {
				return
			}
			seen[x] = true
			walk(x.Edges.Job)
			walk(x.Edges.Author)
		case []*ent.User:
			for _, e := range x {
				walk(e)
			}
		case []*ent.Job:
			for _, e := range x {
				walk(e)
			}
		case []*ent.Company:
			for _, e := range x {
				walk(e)
			}
		case []*ent.Note:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return r
}

func mayReadContact(s scope.Scope, u *ent.User) bool {
	if s.IsSystem() {
		return true
	}
	if s.IsUser() && u.ID == s.UserID() {
		return true
	}
	return s.IsUser() && s.Role() == scope.RoleAdmin && !s.Banned()
}

// RedactedFieldsOf returns the redaction table's fields of one object type.
func RedactedFieldsOf(object string) []string {
	var out []string
	for _, r := range Redactions {
		if r.Object == object {
			out = append(out, r.Field)
		}
	}
	return slices.Clip(out)
}
