package schema

import (
	"github.com/scopegate/scopegate/internal/audit"
	"github.com/scopegate/scopegate/internal/rules"
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"entgo.io/ent/schema/mixin"
)

// TimeMixin adds created_at and updated_at. updated_at orders the managers
// preload ("newest first"), so it is kept current by ent on every update.
type TimeMixin struct{ mixin.Schema }

// Fields of the TimeMixin.
func (TimeMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("updated_at").Default(time.Now).UpdateDefault(time.Now),
	}
}

// TenantMixin makes a table tenant-owned: an immutable, required org_id with
// its edge to the organization, and a unique (org_id, id) index. The index
// serves keyset pagination inside one tenant (and makes a lone org_id index
// redundant); its uniqueness lets the foreign keys between tenant tables
// include org_id, (org_id, company_id) REFERENCES companies (org_id, id), so
// that no row can link to another tenant's row (migration.Tables adds those
// keys; docs/design.md section 8).
// The tenant filter itself lives in BaseMixin's policy, which every entity
// shares, so that the order of rules (no scope, tenant, system, roles) is
// written once.
type TenantMixin struct {
	mixin.Schema
	// Ref is the name of the organization's edge back to this type.
	Ref string
}

// Fields of the TenantMixin.
func (TenantMixin) Fields() []ent.Field {
	return []ent.Field{
		// Immutable: a row never moves between tenants.
		field.Int("org_id").Immutable(),
	}
}

// Edges of the TenantMixin.
func (m TenantMixin) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("org", Organization.Type).
			Ref(m.Ref).
			Field("org_id").
			Unique().
			Required().
			Immutable(),
	}
}

// Indexes of the TenantMixin.
func (TenantMixin) Indexes() []ent.Index {
	return []ent.Index{
		// Unique although id alone is: the target of the tenant-safe
		// foreign keys.
		index.Fields("org_id", "id").Unique(),
	}
}

// BaseMixin is shared by every entity: the head of its privacy policy (deny
// without a scope, the tenant filter, create and link checks, allow the
// system scope; see package rules for why in that order), the audit hook
// for system-scope mutations, and the system-scope query log.
type BaseMixin struct {
	mixin.Schema
	// Entity holds the entity's row-level rules.
	Entity rules.Entity
}

// Policy of the BaseMixin.
func (m BaseMixin) Policy() ent.Policy { return rules.Base(m.Entity) }

// Hooks of the BaseMixin.
func (BaseMixin) Hooks() []ent.Hook { return []ent.Hook{audit.Hook()} }

// Interceptors of the TenantMixin: a second belt for reads that holds
// whatever the privacy rules decide (see rules.TenantTraverser).
func (TenantMixin) Interceptors() []ent.Interceptor {
	return []ent.Interceptor{rules.TenantTraverser()}
}
