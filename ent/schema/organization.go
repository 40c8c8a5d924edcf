package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"github.com/scopegate/scopegate/internal/rules"
)

// Organization is a tenant. Every tenant-owned row points to one.
type Organization struct{ ent.Schema }

// Mixin of the Organization.
func (Organization) Mixin() []ent.Mixin {
	return []ent.Mixin{BaseMixin{Entity: rules.Organization}, TimeMixin{}}
}

// Fields of the Organization.
func (Organization) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200),
		// The slug is global: operators address an organization by it
		// before any tenant is known (scopegate user create --org S).
		field.String("slug").NotEmpty().MaxLen(100).Unique(),
	}
}

// Edges of the Organization.
func (Organization) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("users", User.Type),
		edge.To("companies", Company.Type),
		edge.To("jobs", Job.Type),
		edge.To("notes", Note.Type),
		edge.To("sessions", Session.Type),
	}
}

// Policy of the Organization: the role rules of docs/design.md section 3.
func (Organization) Policy() ent.Policy { return rules.Roles(rules.Organization) }
