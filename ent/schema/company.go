package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/scopegate/scopegate/internal/rules"
)

// Company is a customer of an organization; clients belong to one.
type Company struct{ ent.Schema }

// Mixin of the Company.
func (Company) Mixin() []ent.Mixin {
	return []ent.Mixin{BaseMixin{Entity: rules.Company}, TimeMixin{}, TenantMixin{Ref: "companies"}}
}

// Fields of the Company.
func (Company) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxRuneLen(200),
		field.Bool("archived").Default(false),
	}
}

// Edges of the Company.
func (Company) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("jobs", Job.Type),
		edge.To("clients", User.Type),
	}
}

// Indexes of the Company.
func (Company) Indexes() []ent.Index {
	return []ent.Index{
		// Unique per tenant, never globally: a global unique name would let
		// one tenant learn that another has a company of that name, and an
		// upsert on it could rewrite another tenant's row.
		index.Fields("org_id", "name").Unique(),
	}
}

// Policy of the Company: the role rules of docs/design.md section 3.
func (Company) Policy() ent.Policy { return rules.Roles(rules.Company) }
