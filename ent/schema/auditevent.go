package schema

import (
	"github.com/scopegate/scopegate/internal/rules"
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// AuditEvent records a mutation made under a system scope. It is written only
// by the data layer (an ent hook, in the mutation's own transaction), never
// through the API.
type AuditEvent struct{ ent.Schema }

// Mixin of the AuditEvent.
func (AuditEvent) Mixin() []ent.Mixin {
	return []ent.Mixin{BaseMixin{Entity: rules.AuditEvent}}
}

// Fields of the AuditEvent.
func (AuditEvent) Fields() []ent.Field {
	return []ent.Field{
		// Nullable: an all-tenant system scope may touch rows that belong
		// to no tenant (sessions, organizations).
		field.Int("org_id").Optional().Nillable().Immutable(),
		field.String("actor").NotEmpty().Immutable(),
		field.String("reason").Immutable(),
		field.String("action").NotEmpty().Immutable(),
		field.String("object").NotEmpty().Immutable(),
		field.String("object_id").Immutable(),
		field.Time("at").Default(time.Now).Immutable(),
	}
}

// Indexes of the AuditEvent.
func (AuditEvent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("org_id", "id"),
	}
}

// Policy of the AuditEvent: the role rules of docs/design.md section 3.
func (AuditEvent) Policy() ent.Policy { return rules.Roles(rules.AuditEvent) }
