package rules

import (
	"errors"
	"reflect"
	"testing"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/privacy"
	"github.com/scopegate/scopegate/internal/scope"
)

// selfGated are the types a signed-in user may mutate without the write
// policy of docs/design.md section 5 being asked, each with why: its gate
// (Entity.mutate) already says everything, and the visibility filter which
// rows. Nothing else belongs here.
var selfGated = map[string]ent.Op{
	// Logging out: a user deletes the sessions they see (their own; an
	// admin their tenant's), and may create or update none.
	ent.TypeSession: ent.OpDeleteOne,
}

// userMutations returns a create, an update-one and a delete-one mutation
// of typ, built through the generated client by reflection, so that a new
// type needs no edit here.
func userMutations(t *testing.T, c *ent.Client, typ string) map[ent.Op]ent.Mutation {
	t.Helper()
	field := reflect.ValueOf(c).Elem().FieldByName(typ)
	if !field.IsValid() {
		t.Fatalf("ent.Client has no %s", typ)
	}
	mutation := func(builder string, args ...reflect.Value) ent.Mutation {
		b := field.MethodByName(builder).Call(args)[0]
		return b.MethodByName("Mutation").Call(nil)[0].Interface().(ent.Mutation)
	}
	del := mutation("UpdateOneID", reflect.ValueOf(1))
	del.(interface{ SetOp(ent.Op) }).SetOp(ent.OpDeleteOne) // ent builds delete mutations only inside Exec
	return map[ent.Op]ent.Mutation{
		ent.OpCreate:    mutation("Create"),
		ent.OpUpdateOne: mutation("UpdateOneID", reflect.ValueOf(1)),
		ent.OpDeleteOne: del,
	}
}

// TestUserMutationsAskThePolicy: every type whose gate lets a signed-in,
// unbanned user of some role attempt a create, update or delete is in
// writables, the write policy's table (authorizeWrites). A type missing
// there is silently skipped by authorizeWrites: every role that sees a row
// could change or delete it, and no test of the existing types would
// notice. A type no user may mutate (Organization.mutate, AuditEvent.mutate)
// needs no entry, and selfGated names the one exception.
func TestUserMutationsAskThePolicy(t *testing.T) {
	c := ent.NewClient()
	for typ := range ent.ScopeEdges {
		e, ok := entities[typ]
		if !ok {
			continue // TestEveryTypeHasRules reports it
		}
		var attempted []string // "role op", in no particular order
		for op, m := range userMutations(t, c, typ) {
			for _, role := range scope.Roles {
				u := scope.User{ID: 1, OrgID: 4, Role: role}
				if role == scope.RoleClient {
					co := 5
					u.CompanyID = &co
				}
				if !errors.Is(e.mutate(userCtx(t, u), m), privacy.Skip) {
					continue // refused by the gate: nothing to authorize
				}
				if gated, exempt := selfGated[typ]; exempt && op != gated {
					t.Errorf("%s: selfGated allows only %s, but role %s may attempt %s", typ, gated, role, op)
				}
				attempted = append(attempted, string(role)+" "+op.String())
			}
		}
		_, writable := writables[typ]
		_, exempt := selfGated[typ]
		if len(attempted) > 0 && !writable && !exempt {
			t.Errorf("%s: users may attempt mutations (%v), but writables (internal/rules/writes.go) has no entry: the write policy would never be asked", typ, attempted)
		}
	}
	for typ := range writables {
		if _, ok := ent.ScopeEdges[typ]; !ok {
			t.Errorf("writables names %s, which is not a generated type", typ)
		}
	}
}
