package integration

// The leak oracle's mutation family in the shadow run with row-level
// security alone (SCOPEGATE_SHADOW=rls, -tags scopegate_shadow): the ent
// rules are off, so docs/design.md section 5's write policy is nobody's. A mutation
// the model allows must do exactly what it does with both layers (RLS must
// not refuse it); one the model denies must, if RLS covers the reason (a
// banned user; a user writing organizations or audit events; a row the
// scope does not see), change nothing; if only the write policy denies it
// (RLS does not cover it, docs/rls.md), change no row but those the scope
// sees among the ones it aimed at. A refused statement aborts its
// transaction, so every mutation runs in a transaction of its own.

import (
	"errors"
	"fmt"
	"slices"

	"entgo.io/ent/dialect/sql"
	"github.com/lib/pq"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/privacy"
	"github.com/scopegate/scopegate/integration/world"
	"github.com/scopegate/scopegate/internal/scope"
)

// mutationsRLS is mutations, each in a transaction of its own.
func (o *oracle) mutationsRLS() {
	o.inTx("for update", func(tx *ent.Tx) {
		for _, typ := range world.Types {
			got, err := o.query(tx.Client(), typ).forUpdate().ids(o.ctx)
			o.ids(typ+" Query().ForUpdate().IDs (in a transaction)", got, err, o.visible(typ))
		}
	})
	for _, typ := range world.Types {
		if typ == world.AuditEvent && o.v.System {
			continue // no mutable field: nothing to update
		}
		want := o.visible(typ)
		some := o.someIDs(typ)
		o.inTx("update some "+typ, func(tx *ent.Tx) {
			o.bulkUpdate(tx.Client(), typ, "Update().Where(id IN some of every tenant)", some, oracleIntersect(want, some))
		})
		o.inTx("update every "+typ, func(tx *ent.Tx) {
			o.bulkUpdate(tx.Client(), typ, "Update() of every row", nil, want)
		})
		for _, id := range o.pickOnes(typ, want, o.world.IDs(typ)) {
			o.inTx(fmt.Sprintf("update %s %d", typ, id), func(tx *ent.Tx) { o.updateOne(tx.Client(), typ, id) })
		}
	}
	for _, typ := range world.Types {
		deletable := o.deletable(typ)
		if len(deletable) > 0 {
			some := o.sample(deletable, max(1, len(deletable)/2))
			o.inTx("delete "+typ, func(tx *ent.Tx) {
				o.bulkDelete(tx.Client(), typ, "Delete().Where(id IN some deletable rows of every tenant)", some)
			})
			for _, id := range o.pickOnes(typ, oracleIntersect(o.visible(typ), deletable), deletable) {
				o.inTx(fmt.Sprintf("delete %s %d", typ, id), func(tx *ent.Tx) { o.deleteOne(tx.Client(), typ, id) })
			}
		}
		if len(deletable) == len(o.world.IDs(typ)) {
			o.inTx("delete all "+typ, func(tx *ent.Tx) {
				o.bulkDelete(tx.Client(), typ, "Delete() of every row", nil)
			})
		}
	}
}

// rlsRefuses: RLS refuses every write of typ by the scope, whatever the
// row: a banned user writes nothing, users never write organizations or
// audit events (their policies allow only system scopes).
func (o *oracle) rlsRefuses(typ string) bool {
	return !o.v.System && (o.v.User.Banned || typ == world.Organization || typ == world.AuditEvent)
}

// rlsDenied checks a mutation the model denies, with the ent rules off:
// refuses, RLS must refuse it (nothing changes: an error, or no row
// reached); otherwise only the write policy denies it, which RLS does not
// enforce, and it may change only rows of mayChange (those the scope sees
// among the ones it aimed at). changed reads back the rows it changed.
func (o *oracle) rlsDenied(name string, refuses bool, n int, err error, mayChange []int, changed func() ([]int, error)) {
	if refuses {
		if err == nil && n != 0 {
			o.stats.cases.Add(1)
			o.mismatch(name+": RLS refuses it", "%d rows affected, want none", n)
		}
		if errors.Is(err, privacy.Deny) || errors.Is(err, scope.ErrNoScope) {
			o.stats.cases.Add(1)
			o.mismatch(name+": RLS refuses it", "error %v from the ent rules, which are off", err)
		}
		got, rerr := changed()
		if oracleAborted(rerr) {
			got, rerr = []int{}, nil // PostgreSQL refused it: nothing can commit
		}
		o.ids(name+": rows changed (RLS refuses it)", got, rerr, []int{})
		return
	}
	got, rerr := changed()
	if oracleAborted(rerr) {
		got, rerr = []int{}, nil
	}
	o.stats.cases.Add(1)
	if rerr != nil {
		o.mismatchErr(name, "reading back: %v", rerr)
		return
	}
	var outside []int
	for _, id := range got {
		if !slices.Contains(mayChange, id) {
			outside = append(outside, id)
		}
	}
	if len(outside) > 0 {
		o.mismatch(name+": rows changed (not covered by RLS: only rows the scope sees)",
			"changed %v, which the scope does not see or did not aim at (it may change %v)", outside, mayChange)
	}
}

// deleted returns the ids of candidates (all of typ if nil) that are gone,
// read under the all-tenant system scope inside the transaction.
func (o *oracle) deleted(c *ent.Client, typ string, candidates []int) ([]int, error) {
	if candidates == nil {
		candidates = o.world.IDs(typ)
	}
	// An id past the world's (a missing row) is never gone.
	candidates = slices.DeleteFunc(slices.Clone(candidates), func(id int) bool { return id > o.world.MaxID(typ) })
	left, err := o.query(c, typ).where(sql.FieldIn("id", candidates...)).ids(o.sys)
	if err != nil {
		return nil, err
	}
	gone := slices.DeleteFunc(slices.Clone(candidates), func(id int) bool { return slices.Contains(left, id) })
	return gone, nil
}

// oracleAborted: the transaction is aborted (PostgreSQL refused one of its
// statements, and reads no more).
func oracleAborted(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "25P02"
}
