package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/auditevent"
	"github.com/scopegate/scopegate/ent/company"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/note"
	"github.com/scopegate/scopegate/ent/organization"
	"github.com/scopegate/scopegate/ent/session"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/scope"
)

// failShape is one query or mutation that must fail without a scope.
type failShape struct {
	name string
	run  func(ctx context.Context) error
}

type countRow struct {
	Count int `json:"count"`
}

// queryShapes lists every query shape for every entity: the direct ones,
// then every edge's traversal and eager load.
func queryShapes(c *ent.Client, tt *twoTenants) []failShape {
	a := tt.A
	var out []failShape
	add := func(typ string, shapes map[string]func(ctx context.Context) error) {
		for name, run := range shapes {
			out = append(out, failShape{typ + "." + name, run})
		}
	}
	type ctxT = context.Context
	var (
		strs []string
		cnts []countRow
	)
	add(ent.TypeOrganization, map[string]func(ctxT) error{
		"All": func(ctx ctxT) error { _, err := c.Organization.Query().All(ctx); return err },
		"Only": func(ctx ctxT) error {
			_, err := c.Organization.Query().Where(organization.ID(a.Org.ID)).Only(ctx)
			return err
		},
		"OnlyID": func(ctx ctxT) error {
			_, err := c.Organization.Query().Where(organization.ID(a.Org.ID)).OnlyID(ctx)
			return err
		},
		"First":   func(ctx ctxT) error { _, err := c.Organization.Query().First(ctx); return err },
		"FirstID": func(ctx ctxT) error { _, err := c.Organization.Query().FirstID(ctx); return err },
		"Get":     func(ctx ctxT) error { _, err := c.Organization.Get(ctx, a.Org.ID); return err },
		"Count":   func(ctx ctxT) error { _, err := c.Organization.Query().Count(ctx); return err },
		"Exist":   func(ctx ctxT) error { _, err := c.Organization.Query().Exist(ctx); return err },
		"IDs":     func(ctx ctxT) error { _, err := c.Organization.Query().IDs(ctx); return err },
		"GroupBy": func(ctx ctxT) error {
			return c.Organization.Query().GroupBy(organization.FieldName).Aggregate(ent.Count()).Scan(ctx, &cnts)
		},
		"Aggregate": func(ctx ctxT) error { _, err := c.Organization.Query().Aggregate(ent.Count()).Int(ctx); return err },
		"Select":    func(ctx ctxT) error { return c.Organization.Query().Select(organization.FieldSlug).Scan(ctx, &strs) },
		"Strings": func(ctx ctxT) error {
			_, err := c.Organization.Query().Select(organization.FieldSlug).Strings(ctx)
			return err
		},
		"ForUpdate": func(ctx ctxT) error { _, err := c.Organization.Query().ForUpdate().All(ctx); return err },
		"ForShare":  func(ctx ctxT) error { _, err := c.Organization.Query().ForShare().All(ctx); return err },
		"QueryUsers of an entity": func(ctx ctxT) error {
			_, err := c.Organization.QueryUsers(a.Org).All(ctx)
			return err
		},
	})
	add(ent.TypeUser, map[string]func(ctxT) error{
		"All":     func(ctx ctxT) error { _, err := c.User.Query().All(ctx); return err },
		"Only":    func(ctx ctxT) error { _, err := c.User.Query().Where(user.ID(a.Admin.ID)).Only(ctx); return err },
		"OnlyID":  func(ctx ctxT) error { _, err := c.User.Query().Where(user.ID(a.Admin.ID)).OnlyID(ctx); return err },
		"First":   func(ctx ctxT) error { _, err := c.User.Query().First(ctx); return err },
		"FirstID": func(ctx ctxT) error { _, err := c.User.Query().FirstID(ctx); return err },
		"Get":     func(ctx ctxT) error { _, err := c.User.Get(ctx, a.Admin.ID); return err },
		"Count":   func(ctx ctxT) error { _, err := c.User.Query().Count(ctx); return err },
		"Exist":   func(ctx ctxT) error { _, err := c.User.Query().Exist(ctx); return err },
		"IDs":     func(ctx ctxT) error { _, err := c.User.Query().IDs(ctx); return err },
		"GroupBy": func(ctx ctxT) error {
			return c.User.Query().GroupBy(user.FieldRole).Aggregate(ent.Count()).Scan(ctx, &cnts)
		},
		"Aggregate": func(ctx ctxT) error { _, err := c.User.Query().Aggregate(ent.Count()).Int(ctx); return err },
		"Select":    func(ctx ctxT) error { return c.User.Query().Select(user.FieldEmail).Scan(ctx, &strs) },
		"Strings":   func(ctx ctxT) error { _, err := c.User.Query().Select(user.FieldEmail).Strings(ctx); return err },
		"ForUpdate": func(ctx ctxT) error { _, err := c.User.Query().ForUpdate().All(ctx); return err },
		"ForShare":  func(ctx ctxT) error { _, err := c.User.Query().ForShare().All(ctx); return err },
		"QueryManagedJobs of an entity": func(ctx ctxT) error {
			_, err := c.User.QueryManagedJobs(a.Manager).All(ctx)
			return err
		},
	})
	add(ent.TypeCompany, map[string]func(ctxT) error{
		"All":     func(ctx ctxT) error { _, err := c.Company.Query().All(ctx); return err },
		"Only":    func(ctx ctxT) error { _, err := c.Company.Query().Where(company.ID(a.C1.ID)).Only(ctx); return err },
		"OnlyID":  func(ctx ctxT) error { _, err := c.Company.Query().Where(company.ID(a.C1.ID)).OnlyID(ctx); return err },
		"First":   func(ctx ctxT) error { _, err := c.Company.Query().First(ctx); return err },
		"FirstID": func(ctx ctxT) error { _, err := c.Company.Query().FirstID(ctx); return err },
		"Get":     func(ctx ctxT) error { _, err := c.Company.Get(ctx, a.C1.ID); return err },
		"Count":   func(ctx ctxT) error { _, err := c.Company.Query().Count(ctx); return err },
		"Exist":   func(ctx ctxT) error { _, err := c.Company.Query().Exist(ctx); return err },
		"IDs":     func(ctx ctxT) error { _, err := c.Company.Query().IDs(ctx); return err },
		"GroupBy": func(ctx ctxT) error {
			return c.Company.Query().GroupBy(company.FieldArchived).Aggregate(ent.Count()).Scan(ctx, &cnts)
		},
		"Aggregate": func(ctx ctxT) error { _, err := c.Company.Query().Aggregate(ent.Count()).Int(ctx); return err },
		"Select":    func(ctx ctxT) error { return c.Company.Query().Select(company.FieldName).Scan(ctx, &strs) },
		"Strings":   func(ctx ctxT) error { _, err := c.Company.Query().Select(company.FieldName).Strings(ctx); return err },
		"ForUpdate": func(ctx ctxT) error { _, err := c.Company.Query().ForUpdate().All(ctx); return err },
		"ForShare":  func(ctx ctxT) error { _, err := c.Company.Query().ForShare().All(ctx); return err },
		"QueryJobs of an entity": func(ctx ctxT) error {
			_, err := c.Company.QueryJobs(a.C1).All(ctx)
			return err
		},
	})
	add(ent.TypeJob, map[string]func(ctxT) error{
		"All":     func(ctx ctxT) error { _, err := c.Job.Query().All(ctx); return err },
		"Only":    func(ctx ctxT) error { _, err := c.Job.Query().Where(job.ID(a.Pub1.ID)).Only(ctx); return err },
		"OnlyID":  func(ctx ctxT) error { _, err := c.Job.Query().Where(job.ID(a.Pub1.ID)).OnlyID(ctx); return err },
		"First":   func(ctx ctxT) error { _, err := c.Job.Query().First(ctx); return err },
		"FirstID": func(ctx ctxT) error { _, err := c.Job.Query().FirstID(ctx); return err },
		"Get":     func(ctx ctxT) error { _, err := c.Job.Get(ctx, a.Pub1.ID); return err },
		"Count":   func(ctx ctxT) error { _, err := c.Job.Query().Count(ctx); return err },
		"Exist":   func(ctx ctxT) error { _, err := c.Job.Query().Exist(ctx); return err },
		"IDs":     func(ctx ctxT) error { _, err := c.Job.Query().IDs(ctx); return err },
		"GroupBy": func(ctx ctxT) error {
			return c.Job.Query().GroupBy(job.FieldStatus).Aggregate(ent.Count()).Scan(ctx, &cnts)
		},
		"Aggregate": func(ctx ctxT) error {
			_, err := c.Job.Query().Aggregate(ent.Sum(job.FieldSalaryMax)).Int(ctx)
			return err
		},
		"Select":    func(ctx ctxT) error { return c.Job.Query().Select(job.FieldTitle).Scan(ctx, &strs) },
		"Strings":   func(ctx ctxT) error { _, err := c.Job.Query().Select(job.FieldTitle).Strings(ctx); return err },
		"ForUpdate": func(ctx ctxT) error { _, err := c.Job.Query().ForUpdate().All(ctx); return err },
		"ForShare":  func(ctx ctxT) error { _, err := c.Job.Query().ForShare().All(ctx); return err },
		"QueryManagers of an entity": func(ctx ctxT) error {
			_, err := c.Job.QueryManagers(a.Pub1).All(ctx)
			return err
		},
	})
	add(ent.TypeNote, map[string]func(ctxT) error{
		"All": func(ctx ctxT) error { _, err := c.Note.Query().All(ctx); return err },
		"Only": func(ctx ctxT) error {
			_, err := c.Note.Query().Where(note.ID(a.PublicNote[a.Pub1.ID].ID)).Only(ctx)
			return err
		},
		"OnlyID": func(ctx ctxT) error {
			_, err := c.Note.Query().Where(note.ID(a.PublicNote[a.Pub1.ID].ID)).OnlyID(ctx)
			return err
		},
		"First":   func(ctx ctxT) error { _, err := c.Note.Query().First(ctx); return err },
		"FirstID": func(ctx ctxT) error { _, err := c.Note.Query().FirstID(ctx); return err },
		"Get":     func(ctx ctxT) error { _, err := c.Note.Get(ctx, a.PublicNote[a.Pub1.ID].ID); return err },
		"Count":   func(ctx ctxT) error { _, err := c.Note.Query().Count(ctx); return err },
		"Exist":   func(ctx ctxT) error { _, err := c.Note.Query().Exist(ctx); return err },
		"IDs":     func(ctx ctxT) error { _, err := c.Note.Query().IDs(ctx); return err },
		"GroupBy": func(ctx ctxT) error {
			return c.Note.Query().GroupBy(note.FieldInternal).Aggregate(ent.Count()).Scan(ctx, &cnts)
		},
		"Aggregate": func(ctx ctxT) error { _, err := c.Note.Query().Aggregate(ent.Count()).Int(ctx); return err },
		"Select":    func(ctx ctxT) error { return c.Note.Query().Select(note.FieldBody).Scan(ctx, &strs) },
		"Strings":   func(ctx ctxT) error { _, err := c.Note.Query().Select(note.FieldBody).Strings(ctx); return err },
		"ForUpdate": func(ctx ctxT) error { _, err := c.Note.Query().ForUpdate().All(ctx); return err },
		"ForShare":  func(ctx ctxT) error { _, err := c.Note.Query().ForShare().All(ctx); return err },
		"QueryAuthor of an entity": func(ctx ctxT) error {
			_, err := c.Note.QueryAuthor(a.PublicNote[a.Pub1.ID]).All(ctx)
			return err
		},
	})
	sess := a.Session[a.Admin.ID]
	add(ent.TypeSession, map[string]func(ctxT) error{
		"All": func(ctx ctxT) error { _, err := c.Session.Query().All(ctx); return err },
		"Only": func(ctx ctxT) error {
			_, err := c.Session.Query().Where(session.TokenHash(sess.TokenHash)).Only(ctx)
			return err
		},
		"OnlyID": func(ctx ctxT) error {
			_, err := c.Session.Query().Where(session.TokenHash(sess.TokenHash)).OnlyID(ctx)
			return err
		},
		"First":   func(ctx ctxT) error { _, err := c.Session.Query().First(ctx); return err },
		"FirstID": func(ctx ctxT) error { _, err := c.Session.Query().FirstID(ctx); return err },
		"Get":     func(ctx ctxT) error { _, err := c.Session.Get(ctx, sess.ID); return err },
		"Count":   func(ctx ctxT) error { _, err := c.Session.Query().Count(ctx); return err },
		"Exist":   func(ctx ctxT) error { _, err := c.Session.Query().Exist(ctx); return err },
		"IDs":     func(ctx ctxT) error { _, err := c.Session.Query().IDs(ctx); return err },
		"GroupBy": func(ctx ctxT) error {
			return c.Session.Query().GroupBy(session.FieldUserID).Aggregate(ent.Count()).Scan(ctx, &cnts)
		},
		"Aggregate": func(ctx ctxT) error { _, err := c.Session.Query().Aggregate(ent.Count()).Int(ctx); return err },
		"Select":    func(ctx ctxT) error { return c.Session.Query().Select(session.FieldTokenHash).Scan(ctx, &strs) },
		"Strings": func(ctx ctxT) error {
			_, err := c.Session.Query().Select(session.FieldTokenHash).Strings(ctx)
			return err
		},
		"ForUpdate": func(ctx ctxT) error { _, err := c.Session.Query().ForUpdate().All(ctx); return err },
		"ForShare":  func(ctx ctxT) error { _, err := c.Session.Query().ForShare().All(ctx); return err },
		"QueryUser of an entity": func(ctx ctxT) error {
			_, err := c.Session.QueryUser(sess).All(ctx)
			return err
		},
	})
	add(ent.TypeAuditEvent, map[string]func(ctxT) error{
		"All":     func(ctx ctxT) error { _, err := c.AuditEvent.Query().All(ctx); return err },
		"Only":    func(ctx ctxT) error { _, err := c.AuditEvent.Query().Where(auditevent.ID(1)).Only(ctx); return err },
		"OnlyID":  func(ctx ctxT) error { _, err := c.AuditEvent.Query().Where(auditevent.ID(1)).OnlyID(ctx); return err },
		"First":   func(ctx ctxT) error { _, err := c.AuditEvent.Query().First(ctx); return err },
		"FirstID": func(ctx ctxT) error { _, err := c.AuditEvent.Query().FirstID(ctx); return err },
		"Get":     func(ctx ctxT) error { _, err := c.AuditEvent.Get(ctx, 1); return err },
		"Count":   func(ctx ctxT) error { _, err := c.AuditEvent.Query().Count(ctx); return err },
		"Exist":   func(ctx ctxT) error { _, err := c.AuditEvent.Query().Exist(ctx); return err },
		"IDs":     func(ctx ctxT) error { _, err := c.AuditEvent.Query().IDs(ctx); return err },
		"GroupBy": func(ctx ctxT) error {
			return c.AuditEvent.Query().GroupBy(auditevent.FieldAction).Aggregate(ent.Count()).Scan(ctx, &cnts)
		},
		"Aggregate": func(ctx ctxT) error { _, err := c.AuditEvent.Query().Aggregate(ent.Count()).Int(ctx); return err },
		"Select":    func(ctx ctxT) error { return c.AuditEvent.Query().Select(auditevent.FieldReason).Scan(ctx, &strs) },
		"Strings": func(ctx ctxT) error {
			_, err := c.AuditEvent.Query().Select(auditevent.FieldReason).Strings(ctx)
			return err
		},
		"ForUpdate": func(ctx ctxT) error { _, err := c.AuditEvent.Query().ForUpdate().All(ctx); return err },
		"ForShare":  func(ctx ctxT) error { _, err := c.AuditEvent.Query().ForShare().All(ctx); return err },
	})
	for _, e := range edgeReaders(c) {
		e := e
		out = append(out,
			failShape{"traverse " + e.String(), func(ctx ctxT) error { _, err := e.traverse(ctx, nil); return err }},
			failShape{"eager " + e.String(), func(ctx ctxT) error { _, err := e.eager(ctx); return err }},
		)
	}
	return out
}

// mutationShapes lists every mutation shape for every entity, each built
// with valid values, so that only the missing scope can stop it.
func mutationShapes(c *ent.Client, tt *twoTenants) []failShape {
	a := tt.A
	org := a.Org.ID
	exp := time.Now().Add(time.Hour)
	var out []failShape
	add := func(typ string, shapes map[string]func(ctx context.Context) error) {
		for name, run := range shapes {
			out = append(out, failShape{typ + "." + name, run})
		}
	}
	type ctxT = context.Context
	add(ent.TypeOrganization, map[string]func(ctxT) error{
		"Create": func(ctx ctxT) error { return c.Organization.Create().SetName("n").SetSlug("n").Exec(ctx) },
		"CreateBulk": func(ctx ctxT) error {
			return c.Organization.CreateBulk(c.Organization.Create().SetName("n").SetSlug("n")).Exec(ctx)
		},
		"Update":    func(ctx ctxT) error { _, err := c.Organization.Update().SetName("x").Save(ctx); return err },
		"UpdateOne": func(ctx ctxT) error { return c.Organization.UpdateOne(a.Org).SetName("x").Exec(ctx) },
		"UpdateOneID": func(ctx ctxT) error {
			return c.Organization.UpdateOneID(org).SetName("x").Exec(ctx)
		},
		"Delete":      func(ctx ctxT) error { _, err := c.Organization.Delete().Exec(ctx); return err },
		"DeleteOne":   func(ctx ctxT) error { return c.Organization.DeleteOne(a.Org).Exec(ctx) },
		"DeleteOneID": func(ctx ctxT) error { return c.Organization.DeleteOneID(org).Exec(ctx) },
		"Upsert": func(ctx ctxT) error {
			return c.Organization.Create().SetName("x").SetSlug("a").
				OnConflictColumns(organization.FieldSlug).UpdateNewValues().Exec(ctx)
		},
		"UpsertBulk": func(ctx ctxT) error {
			return c.Organization.CreateBulk(c.Organization.Create().SetName("x").SetSlug("a")).
				OnConflictColumns(organization.FieldSlug).UpdateNewValues().Exec(ctx)
		},
		"UpsertDoNothing": func(ctx ctxT) error {
			return c.Organization.Create().SetName("x").SetSlug("a").
				OnConflictColumns(organization.FieldSlug).DoNothing().Exec(ctx)
		},
	})
	add(ent.TypeUser, map[string]func(ctxT) error{
		"Create": func(ctx ctxT) error {
			return c.User.Create().SetOrgID(org).SetEmail("n@a.test").SetName("n").SetRole(user.RoleMember).Exec(ctx)
		},
		"CreateBulk": func(ctx ctxT) error {
			return c.User.CreateBulk(c.User.Create().SetOrgID(org).SetEmail("n@a.test").SetName("n").SetRole(user.RoleMember)).Exec(ctx)
		},
		"Update":      func(ctx ctxT) error { _, err := c.User.Update().SetName("x").Save(ctx); return err },
		"UpdateOne":   func(ctx ctxT) error { return c.User.UpdateOne(a.Member).SetName("x").Exec(ctx) },
		"UpdateOneID": func(ctx ctxT) error { return c.User.UpdateOneID(a.Member.ID).SetName("x").Exec(ctx) },
		"Delete":      func(ctx ctxT) error { _, err := c.User.Delete().Exec(ctx); return err },
		"DeleteOne":   func(ctx ctxT) error { return c.User.DeleteOne(a.Member).Exec(ctx) },
		"DeleteOneID": func(ctx ctxT) error { return c.User.DeleteOneID(a.Member.ID).Exec(ctx) },
		"Upsert": func(ctx ctxT) error {
			return c.User.Create().SetOrgID(org).SetEmail(a.Member.Email).SetName("x").SetRole(user.RoleAdmin).
				OnConflictColumns(user.FieldEmail).UpdateNewValues().Exec(ctx)
		},
		"UpsertBulk": func(ctx ctxT) error {
			return c.User.CreateBulk(c.User.Create().SetOrgID(org).SetEmail(a.Member.Email).SetName("x").SetRole(user.RoleAdmin)).
				OnConflictColumns(user.FieldEmail).UpdateNewValues().Exec(ctx)
		},
		"UpsertDoNothing": func(ctx ctxT) error {
			return c.User.Create().SetOrgID(org).SetEmail(a.Member.Email).SetName("x").SetRole(user.RoleAdmin).
				OnConflictColumns(user.FieldEmail).DoNothing().Exec(ctx)
		},
	})
	add(ent.TypeCompany, map[string]func(ctxT) error{
		"Create": func(ctx ctxT) error { return c.Company.Create().SetOrgID(org).SetName("n").Exec(ctx) },
		"CreateBulk": func(ctx ctxT) error {
			return c.Company.CreateBulk(c.Company.Create().SetOrgID(org).SetName("n")).Exec(ctx)
		},
		"Update":      func(ctx ctxT) error { _, err := c.Company.Update().SetArchived(true).Save(ctx); return err },
		"UpdateOne":   func(ctx ctxT) error { return c.Company.UpdateOne(a.C2).SetName("x").Exec(ctx) },
		"UpdateOneID": func(ctx ctxT) error { return c.Company.UpdateOneID(a.C2.ID).SetName("x").Exec(ctx) },
		"Delete":      func(ctx ctxT) error { _, err := c.Company.Delete().Exec(ctx); return err },
		"DeleteOne":   func(ctx ctxT) error { return c.Company.DeleteOne(a.C2).Exec(ctx) },
		"DeleteOneID": func(ctx ctxT) error { return c.Company.DeleteOneID(a.C2.ID).Exec(ctx) },
		"Upsert": func(ctx ctxT) error {
			return c.Company.Create().SetOrgID(org).SetName("c1").
				OnConflictColumns(company.FieldOrgID, company.FieldName).UpdateNewValues().Exec(ctx)
		},
		"UpsertBulk": func(ctx ctxT) error {
			return c.Company.CreateBulk(c.Company.Create().SetOrgID(org).SetName("c1")).
				OnConflictColumns(company.FieldOrgID, company.FieldName).UpdateNewValues().Exec(ctx)
		},
		"UpsertDoNothing": func(ctx ctxT) error {
			return c.Company.Create().SetOrgID(org).SetName("c1").
				OnConflictColumns(company.FieldOrgID, company.FieldName).DoNothing().Exec(ctx)
		},
	})
	add(ent.TypeJob, map[string]func(ctxT) error{
		"Create": func(ctx ctxT) error {
			return c.Job.Create().SetOrgID(org).SetCompanyID(a.C1.ID).SetTitle("n").SetCreatedByID(a.Admin.ID).Exec(ctx)
		},
		"CreateBulk": func(ctx ctxT) error {
			return c.Job.CreateBulk(c.Job.Create().SetOrgID(org).SetCompanyID(a.C1.ID).SetTitle("n").SetCreatedByID(a.Admin.ID)).Exec(ctx)
		},
		"Update":      func(ctx ctxT) error { _, err := c.Job.Update().SetTitle("x").Save(ctx); return err },
		"UpdateOne":   func(ctx ctxT) error { return c.Job.UpdateOne(a.Pub1).SetTitle("x").Exec(ctx) },
		"UpdateOneID": func(ctx ctxT) error { return c.Job.UpdateOneID(a.Pub1.ID).AddManagerIDs(a.Member.ID).Exec(ctx) },
		"Delete":      func(ctx ctxT) error { _, err := c.Job.Delete().Exec(ctx); return err },
		"DeleteOne":   func(ctx ctxT) error { return c.Job.DeleteOne(a.Pub1).Exec(ctx) },
		"DeleteOneID": func(ctx ctxT) error { return c.Job.DeleteOneID(a.Pub1.ID).Exec(ctx) },
		"Upsert": func(ctx ctxT) error {
			return c.Job.Create().SetOrgID(org).SetCompanyID(a.C1.ID).SetTitle("x").SetCreatedByID(a.Admin.ID).
				OnConflictColumns(job.FieldID).UpdateNewValues().Exec(ctx)
		},
		"UpsertBulk": func(ctx ctxT) error {
			return c.Job.CreateBulk(c.Job.Create().SetOrgID(org).SetCompanyID(a.C1.ID).SetTitle("x").SetCreatedByID(a.Admin.ID)).
				OnConflictColumns(job.FieldID).UpdateNewValues().Exec(ctx)
		},
	})
	add(ent.TypeNote, map[string]func(ctxT) error{
		"Create": func(ctx ctxT) error {
			return c.Note.Create().SetOrgID(org).SetJobID(a.Pub1.ID).SetAuthorID(a.Admin.ID).SetBody("n").Exec(ctx)
		},
		"CreateBulk": func(ctx ctxT) error {
			return c.Note.CreateBulk(c.Note.Create().SetOrgID(org).SetJobID(a.Pub1.ID).SetAuthorID(a.Admin.ID).SetBody("n")).Exec(ctx)
		},
		"Update":      func(ctx ctxT) error { _, err := c.Note.Update().SetBody("x").Save(ctx); return err },
		"UpdateOne":   func(ctx ctxT) error { return c.Note.UpdateOne(a.PublicNote[a.Pub1.ID]).SetBody("x").Exec(ctx) },
		"UpdateOneID": func(ctx ctxT) error { return c.Note.UpdateOneID(a.PublicNote[a.Pub1.ID].ID).SetBody("x").Exec(ctx) },
		"Delete":      func(ctx ctxT) error { _, err := c.Note.Delete().Exec(ctx); return err },
		"DeleteOne":   func(ctx ctxT) error { return c.Note.DeleteOne(a.PublicNote[a.Pub1.ID]).Exec(ctx) },
		"DeleteOneID": func(ctx ctxT) error { return c.Note.DeleteOneID(a.PublicNote[a.Pub1.ID].ID).Exec(ctx) },
		"Upsert": func(ctx ctxT) error {
			return c.Note.Create().SetOrgID(org).SetJobID(a.Pub1.ID).SetAuthorID(a.Admin.ID).SetBody("x").
				OnConflictColumns(note.FieldID).UpdateNewValues().Exec(ctx)
		},
	})
	sess := a.Session[a.Admin.ID]
	add(ent.TypeSession, map[string]func(ctxT) error{
		"Create": func(ctx ctxT) error {
			return c.Session.Create().SetUserID(a.Admin.ID).SetOrgID(a.Admin.OrgID).SetTokenHash("n").SetExpiresAt(exp).Exec(ctx)
		},
		"CreateBulk": func(ctx ctxT) error {
			return c.Session.CreateBulk(c.Session.Create().SetUserID(a.Admin.ID).SetOrgID(a.Admin.OrgID).SetTokenHash("n").SetExpiresAt(exp)).Exec(ctx)
		},
		"Update":      func(ctx ctxT) error { _, err := c.Session.Update().SetExpiresAt(exp).Save(ctx); return err },
		"UpdateOne":   func(ctx ctxT) error { return c.Session.UpdateOne(sess).SetExpiresAt(exp).Exec(ctx) },
		"UpdateOneID": func(ctx ctxT) error { return c.Session.UpdateOneID(sess.ID).SetExpiresAt(exp).Exec(ctx) },
		"Delete":      func(ctx ctxT) error { _, err := c.Session.Delete().Exec(ctx); return err },
		"DeleteOne":   func(ctx ctxT) error { return c.Session.DeleteOne(sess).Exec(ctx) },
		"DeleteOneID": func(ctx ctxT) error { return c.Session.DeleteOneID(sess.ID).Exec(ctx) },
		"Upsert": func(ctx ctxT) error {
			return c.Session.Create().SetUserID(a.Member.ID).SetTokenHash(sess.TokenHash).SetExpiresAt(exp).
				OnConflictColumns(session.FieldTokenHash).UpdateNewValues().Exec(ctx)
		},
	})
	add(ent.TypeAuditEvent, map[string]func(ctxT) error{
		"Create": func(ctx ctxT) error {
			return c.AuditEvent.Create().SetOrgID(org).SetActor("system").SetReason("forged").SetAction("create").
				SetObject("Job").SetObjectID("1").Exec(ctx)
		},
		"CreateBulk": func(ctx ctxT) error {
			return c.AuditEvent.CreateBulk(c.AuditEvent.Create().SetActor("system").SetReason("forged").SetAction("create").
				SetObject("Job").SetObjectID("1")).Exec(ctx)
		},
		"Update":      func(ctx ctxT) error { _, err := c.AuditEvent.Update().Save(ctx); return err },
		"UpdateOneID": func(ctx ctxT) error { return c.AuditEvent.UpdateOneID(1).Exec(ctx) },
		"Delete":      func(ctx ctxT) error { _, err := c.AuditEvent.Delete().Exec(ctx); return err },
		"DeleteOneID": func(ctx ctxT) error { return c.AuditEvent.DeleteOneID(1).Exec(ctx) },
		"Upsert": func(ctx ctxT) error {
			return c.AuditEvent.Create().SetActor("system").SetReason("forged").SetAction("create").
				SetObject("Job").SetObjectID("1").OnConflictColumns(auditevent.FieldID).UpdateNewValues().Exec(ctx)
		},
	})
	return out
}

// noScopeContexts are the ways a context can lack a scope.
func noScopeContexts() map[string]context.Context {
	failed, _ := scope.ForUser(scope.User{}) // the zero Scope a failed constructor returns
	sys, _ := scope.System("  ").Scope()
	return map[string]context.Context{
		"no scope at all":             context.Background(),
		"a zero Scope":                scope.NewContext(context.Background(), scope.Scope{}),
		"a failed ForUser":            scope.NewContext(context.Background(), failed),
		"a system scope with a blank": scope.NewContext(context.Background(), sys),
	}
}

// TestNoScopeFailsClosedForEveryQueryAndMutation: without a scope every
// query shape of every entity and every mutation fails with
// scope.ErrNoScope, and not one statement reaches the database.
func TestNoScopeFailsClosedForEveryQueryAndMutation(t *testing.T) {
	t.Parallel()
	tt := seedTwoTenants(t)
	c := tt.db.Client
	before := tt.db.Sums(t)
	queries := queryShapes(c, tt)
	mutations := mutationShapes(c, tt)
	require.Greater(t, len(queries), 7*15)
	require.Greater(t, len(mutations), 7*7)

	for ctxName, ctx := range noScopeContexts() {
		t.Run(ctxName, func(t *testing.T) {
			tt.db.Counter.Reset()
			for _, group := range []struct {
				name   string
				shapes []failShape
			}{{"query", queries}, {"mutation", mutations}} {
				for _, s := range group.shapes {
					err := s.run(ctx)
					assert.ErrorIs(t, err, scope.ErrNoScope, "%s %s", group.name, s.name)
				}
			}
			assert.Zero(t, tt.db.Counter.Count(), "statements sent without a scope: %q", tt.db.Counter.Statements())
		})
	}
	tt.db.AssertUnchanged(t, before)

	t.Run("WithTx without a scope sends no statement and never runs fn", func(t *testing.T) {
		for ctxName, ctx := range noScopeContexts() {
			tt.db.Counter.Reset()
			called := false
			err := database.WithTx(ctx, c, func(tx *ent.Tx) error {
				called = true
				return nil
			})
			assert.ErrorIs(t, err, scope.ErrNoScope, ctxName)
			assert.False(t, called, ctxName)
			assert.Zero(t, tt.db.Counter.Count(), "%s: statements %q", ctxName, tt.db.Counter.Statements())
		}
	})

	t.Run("inside a transaction begun without a scope, every shape still fails before SQL", func(t *testing.T) {
		tx, err := c.Tx(context.Background())
		require.NoError(t, err)
		defer tx.Rollback()
		tt.db.Counter.Reset()
		txc := tx.Client()
		for _, s := range append(queryShapes(txc, tt), mutationShapes(txc, tt)...) {
			assert.ErrorIs(t, s.run(context.Background()), scope.ErrNoScope, s.name)
		}
		assert.Zero(t, tt.db.Counter.Count(), "statements sent without a scope: %q", tt.db.Counter.Statements())
	})
	tt.db.AssertUnchanged(t, before)
}
