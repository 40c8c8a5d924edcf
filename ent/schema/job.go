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

// Job is an opening at a company, managed by some users of the organization.
type Job struct{ ent.Schema }

// Mixin of the Job.
func (Job) Mixin() []ent.Mixin {
	return []ent.Mixin{BaseMixin{Entity: rules.Job}, TimeMixin{}, TenantMixin{Ref: "jobs"}}
}

// Fields of the Job.
func (Job) Fields() []ent.Field {
	return []ent.Field{
		field.Int("company_id"),
		field.String("title").NotEmpty().MaxRuneLen(200),
		field.Text("description").Default(""),
		field.Enum("status").Values("draft", "published", "archived").Default("draft"),
		field.Int("salary_max").Optional().Nillable().NonNegative(),
		field.Int("created_by_id").Immutable(),
	}
}

// Edges of the Job.
func (Job) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("company", Company.Type).Ref("jobs").Field("company_id").Unique().Required(),
		edge.To("managers", User.Type),
		edge.To("notes", Note.Type),
		edge.From("creator", User.Type).Ref("created_jobs").Field("created_by_id").Unique().Required().Immutable(),
	}
}

// Indexes of the Job.
func (Job) Indexes() []ent.Index {
	return []ent.Index{
		// The company.jobs preload and traversal filter on company_id.
		index.Fields("company_id"),
		index.Fields("created_by_id"),
		// Jobs lists filter by status inside a tenant.
		index.Fields("org_id", "status", "id"),
		// archive-stale walks published jobs by age.
		index.Fields("status", "updated_at"),
	}
}

// Annotations of the Job.
func (Job) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Annotation{Checks: map[string]string{
			"jobs_status_check":     "status IN ('draft', 'published', 'archived')",
			"jobs_salary_max_check": "salary_max IS NULL OR salary_max >= 0",
		}},
	}
}

// Policy of the Job: the role rules of docs/design.md section 3.
func (Job) Policy() ent.Policy { return rules.Roles(rules.Job) }
