package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/scopegate/scopegate/internal/rules"
)

// User is a person who signs in to one organization.
type User struct{ ent.Schema }

// Mixin of the User.
func (User) Mixin() []ent.Mixin {
	return []ent.Mixin{BaseMixin{Entity: rules.User}, TimeMixin{}, TenantMixin{Ref: "users"}}
}

// Fields of the User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		// Email is unique across all tenants, not per tenant: a login
		// names only an email, so it must identify one user before any
		// organization is known. Upserts on it are refused by the
		// database seam unless they are narrowed to the scope's tenant.
		field.String("email").NotEmpty().MaxRuneLen(320).Unique(),
		field.String("name").NotEmpty().MaxRuneLen(200),
		field.String("phone").Optional().MaxRuneLen(50),
		field.Enum("role").Values("admin", "manager", "member", "client"),
		field.Bool("banned").Default(false),
		field.Bool("active").Default(true),
		// Clients only: the company they work for.
		field.Int("company_id").Optional().Nillable(),
		field.String("password_hash").Sensitive().Optional(),
	}
}

// Edges of the User.
func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("company", Company.Type).Ref("clients").Field("company_id").Unique(),
		edge.From("managed_jobs", Job.Type).Ref("managers"),
		edge.To("notes", Note.Type),
		edge.To("sessions", Session.Type),
		edge.To("created_jobs", Job.Type),
	}
}

// Indexes of the User.
func (User) Indexes() []ent.Index {
	return []ent.Index{
		// The company preload and the "clients" traversal filter on it.
		index.Fields("company_id"),
	}
}

// Annotations of the User.
func (User) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Annotation{Checks: map[string]string{
			"users_role_check": "role IN ('admin', 'manager', 'member', 'client')",
		}},
	}
}

// Hooks of the User: banning or deactivating revokes the user's sessions.
func (User) Hooks() []ent.Hook { return []ent.Hook{rules.RevokeSessionsOnBan()} }

// Policy of the User: the role rules of docs/design.md section 3.
func (User) Policy() ent.Policy { return rules.Roles(rules.User) }
