package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/scopegate/scopegate/internal/rules"
	"time"
)

// Session is a signed-in browser or API client. Only a hash of its token is
// stored, so a database dump does not hand out working tokens. It belongs
// to its user's organization (org_id, bound to the user by the tenant-safe
// foreign key): found by its token hash alone before any tenant is known,
// and pinned to the tenant in every statement of a user scope
// (docs/scaling.md, Tenant routability).
type Session struct{ ent.Schema }

// Mixin of the Session.
func (Session) Mixin() []ent.Mixin {
	return []ent.Mixin{BaseMixin{Entity: rules.Session}, TenantMixin{Ref: "sessions"}}
}

// Fields of the Session.
func (Session) Fields() []ent.Field {
	return []ent.Field{
		field.Int("user_id").Immutable(),
		// Global, not per tenant: a bearer token arrives before any tenant
		// is known, and its hash alone must find the session.
		field.String("token_hash").NotEmpty().Immutable().Unique().Sensitive(),
		field.Time("expires_at"),
		field.Time("created_at").Default(time.Now).Immutable(),
	}
}

// Edges of the Session.
func (Session) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("sessions").Field("user_id").Unique().Required().Immutable(),
	}
}

// Indexes of the Session.
func (Session) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id"),
		// purge-sessions walks expired sessions.
		index.Fields("expires_at"),
	}
}

// Policy of the Session: the role rules of docs/design.md section 3.
func (Session) Policy() ent.Policy { return rules.Roles(rules.Session) }
