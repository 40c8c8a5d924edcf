package integration

// The mutation oracle's model of row-level security alone, for the shadow
// run SCOPEGATE_SHADOW=rls (a test binary built with -tags
// scopegate_shadow, which switches the ent rules off; docs/rls.md, "Shadow
// runs"). RLS answers "which rows": tenant isolation and the visibility of
// docs/design.md section 3 for the rows an UPDATE or DELETE reaches (USING), the
// tenant, for an unbanned user or a system scope, for the rows an INSERT or
// UPDATE writes (WITH CHECK). It does not know docs/design.md section 5's write
// policy. So every mutation's expectation is derived from the model of both
// layers (model):
//
//   - allowed by the model (allowed, allowed then failing in PostgreSQL, or a
//     no-op): exactly the same effect. RLS must not refuse what the
//     application allows.
//   - denied for a reason RLS covers (moRLSRefuses: the target row is not
//     visible, the new row is of another tenant, a banned user, a user
//     writing organizations or audit events, an InOrg scope creating an
//     organization, the authenticator outside its sessions or creating a
//     session for another user than its login's, no scope): nothing changes
//     (PostgreSQL's 42501, or no row reached).
//   - denied by the database seam's upsert guard (moRLSSeam), which does not
//     depend on the ent rules: the same error, nothing changes.
//   - denied only for reasons RLS does not cover (moRLSNotCovered: the
//     write policy of section 5, a linked row that is hidden but of the
//     tenant, the owner of a new job or note, immutable columns, the system
//     scope's limits, sessions written by users, the authenticator's
//     narrowness on its user's sessions): whatever it does, no row outside
//     the scope's tenant changes, no existing row the scope does not see
//     changes (ON DELETE SET NULL and CASCADE run past RLS), no manager
//     link of a job the scope does not see is written, and the
//     authenticator changes nothing but the sessions of its user (email) or
//     its own session (token).

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/integration/world"
)

// moRLS says what row-level security alone must do with a mutation the
// model denies for a reason.
type moRLS int

const (
	// moRLSNotCovered: a rule RLS does not enforce (docs/rls.md, "What
	// RLS leaves to the ent rules").
	moRLSNotCovered moRLS = iota
	// moRLSRefuses: RLS refuses the mutation; nothing changes.
	moRLSRefuses
	// moRLSSeam: the database seam refuses it, whether the ent rules run
	// or not (the upsert guard).
	moRLSSeam
)

// rlsDefaults puts into a create what the ent rules would have filled in
// (they are off): org_id from the scope, and the signed-in user as a job's
// creator or a note's author. The model's answer is the same either way
// (the rules' defaults are those values); without them the create would
// fail in ent, and the shadow run would check nothing of it.
func (w *moWorld) rlsDefaults(v moViewer, o *moOp) {
	if o.kind != "create" && o.kind != "create-bulk" && o.kind != "upsert" {
		return
	}
	for i := range o.creates {
		s := &o.creates[i]
		has := func(name string) bool {
			return slices.ContainsFunc(s.edges, func(e moEdgeOp) bool { return e.info.Name == name })
		}
		if moIsTenantOwned(o.typ) && v.OrgID != 0 && !has("org") {
			s.edge(o.typ, "org", "set", v.OrgID)
		}
		if v.kind == "user" {
			switch {
			case o.typ == world.Job && !has("creator"):
				s.edge(o.typ, "creator", "set", v.User.ID)
			case o.typ == world.Note && !has("author"):
				s.edge(o.typ, "author", "set", v.User.ID)
			}
		}
	}
}

// rlsModel turns the model's expectation into that of row-level security
// alone (see the top of this file).
func (w *moWorld) rlsModel(v moViewer, exp *moExpect) *moExpect {
	if v.kind == "auth-email" && len(exp.viols) == 0 && exp.noop == "" && (exp.nCreated > 0 || exp.delta != nil && len(exp.delta["sessions"].createdRows()) > 0) {
		// A login's session is put in its user's organization by an
		// ent rule (rules.loginInUsersOrg) when the caller names none,
		// as the oracle's logins do: without the rules ent's validation
		// refuses the missing org_id. The shadow run's artifact, not a
		// gap of RLS.
		exp.failOK = append(exp.failOK, "without the ent rules nothing puts a login's session in its user's organization")
	}
	if len(exp.viols) == 0 {
		return exp
	}
	var seam, refuse, other []moViol
	for _, vi := range exp.viols {
		switch vi.rls {
		case moRLSSeam:
			seam = append(seam, vi)
		case moRLSRefuses:
			refuse = append(refuse, vi)
		default:
			other = append(other, vi)
		}
	}
	switch {
	case len(seam) > 0:
		// The seam checks the statement it is sent; ent's validation
		// (a missing org_id, which the rules would have filled in) may
		// refuse the create before any statement is.
		for i := range seam {
			ok := seam[i].ok
			seam[i].ok = func(err error) bool { return ok(err) || ent.IsValidationError(err) }
			seam[i].want += " (or an ent validation error: nothing sent)"
		}
		return moDeny(seam...)
	case len(refuse) > 0:
		return &moExpect{rlsRefuse: refuse, count: -1}
	}
	return &moExpect{rlsUncovered: other, count: -1}
}

// rlsRefused: a mutation RLS refuses reaches no row. Either PostgreSQL
// fails its statement (42501), or the statement reaches nothing and ent
// says so (not found) or counts no row.
func (w *moWorld) rlsRefused(o *moOp, res moResult) []string {
	if res.err != nil {
		return nil
	}
	switch o.kind {
	case "update-where", "delete-where":
		if res.count != 0 {
			return []string{fmt.Sprintf("%d rows affected; RLS must refuse it", res.count)}
		}
		return nil
	case "update-one":
		if len(o.set.fields) == 0 && len(o.set.edges) == 0 && !moHasUpdatedAt[o.typ] {
			return nil // no statement writes (an audit event has no field): a read
		}
	}
	return []string{"no error; RLS must refuse it"}
}

func (td *moTDelta) createdRows() []mrow {
	if td == nil {
		return nil
	}
	return td.created
}

var moTypeOfTable = func() map[string]string {
	out := map[string]string{}
	for typ, tbl := range ent.TableOf {
		out[tbl] = typ
	}
	return out
}()

// rlsRowOrg is the organization a row belongs to: its org_id, a session
// its user's, an organization itself (moNull: none).
func (w *moWorld) rlsRowOrg(tbl string, r mrow, after map[string]mtable) string {
	switch tbl {
	case "organizations":
		return r["id"]
	case "sessions":
		for _, users := range []mtable{w.state["users"], after["users"]} {
			if u := users[r["user_id"]]; u != nil {
				return u["org_id"]
			}
		}
		return moNull
	}
	if org, ok := r["org_id"]; ok {
		return org
	}
	return moNull
}

// rlsContained checks a mutation that only the ent rules deny: whatever it
// did inside its transaction, it changed no row RLS keeps from the scope.
// A transaction PostgreSQL aborted can commit nothing.
func (w *moWorld) rlsContained(ctx context.Context, v moViewer, sums []string, aborted bool, tx *stdsql.Tx) []string {
	if aborted || v.systemAll() {
		return nil // the all-tenant system scope: RLS narrows nothing
	}
	after := map[string]mtable{}
	for i, tbl := range moTables {
		after[tbl] = w.state[tbl]
		if sums[i] == w.sums[i] {
			continue
		}
		t, err := moDump(ctx, tx, tbl)
		if err != nil {
			return []string{fmt.Sprintf("reading %s: %v", tbl, err)}
		}
		after[tbl] = t
	}
	var probs []string
	for i, tbl := range moTables {
		if sums[i] == w.sums[i] {
			continue
		}
		before := w.state[tbl]
		keys := slices.Sorted(maps.Keys(before))
		for k := range after[tbl] {
			if before[k] == nil {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			b, a := before[k], after[tbl][k]
			what := "changed"
			switch {
			case b == nil:
				what = "created"
			case a == nil:
				what = "deleted"
			case maps.Equal(a, b):
				continue
			}
			if p := w.rlsMayTouch(v, tbl, k, b, a, after); p != "" {
				probs = append(probs, fmt.Sprintf("%s row %s %s (%s): %s", tbl, k, what, moShowRow(firstRow(a, b)), p))
			}
		}
	}
	return probs
}

func firstRow(rs ...mrow) mrow {
	for _, r := range rs {
		if r != nil {
			return r
		}
	}
	return nil
}

// rlsMayTouch says why RLS should have kept the scope from creating,
// changing or deleting a row (before, after: nil when it did not exist),
// or "" if it need not have.
func (w *moWorld) rlsMayTouch(v moViewer, tbl, key string, before, after mrow, state map[string]mtable) string {
	switch v.kind {
	case "auth-email", "auth-token":
		for _, r := range []mrow{before, after} {
			switch {
			case r == nil:
			case tbl != "sessions":
				return "the authenticator writes sessions only"
			case v.kind == "auth-email" && r["user_id"] != moKey(v.authUser):
				return fmt.Sprintf("a session of user %s, not of the login's user %d", r["user_id"], v.authUser)
			case v.kind == "auth-token" && key != moKey(v.authSession):
				return fmt.Sprintf("not the authenticator's session %d", v.authSession)
			}
		}
		return ""
	}
	for _, r := range []mrow{before, after} {
		if r == nil {
			continue
		}
		if org := w.rlsRowOrg(tbl, r, state); org != moKey(v.OrgID) {
			return fmt.Sprintf("a row of organization %s, outside the scope's tenant %d", moShow(org), v.OrgID)
		}
	}
	if tbl == "job_managers" {
		// A link is a row of its job: written only for a job the scope
		// sees, or one this mutation wrote (which the jobs policy shows
		// to its transaction). ON DELETE CASCADE of a deleted job or
		// user runs past RLS.
		r := firstRow(before, after)
		job, _ := strconv.Atoi(r["job_id"])
		switch {
		case w.sees(v, world.Job, job):
		case before != nil && after == nil && (state["jobs"][r["job_id"]] == nil || state["users"][r["user_id"]] == nil):
		case before == nil && !maps.Equal(w.state["jobs"][r["job_id"]], state["jobs"][r["job_id"]]):
		default:
			return fmt.Sprintf("a link of job %d, which the scope does not see", job)
		}
		return ""
	}
	if before == nil {
		return "" // a new row: WITH CHECK is the tenant
	}
	if tbl == "users" && after != nil && before["company_id"] != moNull && after["company_id"] == moNull &&
		state["companies"][before["company_id"]] == nil {
		// ON DELETE SET NULL of a deleted company runs past RLS
		// (docs/rls.md), and only it: nothing else may have changed.
		b := maps.Clone(before)
		b["company_id"] = moNull
		if maps.Equal(b, after) {
			return ""
		}
	}
	id, err := strconv.Atoi(key)
	if err != nil {
		return "no id"
	}
	if !w.sees(v, moTypeOfTable[tbl], id) {
		return "the scope does not see it (docs/design.md section 3)"
	}
	return ""
}

// noScopeRLS: with the ent rules off, a mutation without a scope reaches
// PostgreSQL, which must let it change nothing (it runs outside a
// transaction of the test's, so the stored state is compared).
func (w *moWorld) noScopeRLS(v moViewer, o *moOp, exp *moExpect) {
	exp = &moExpect{rlsRefuse: exp.viols, count: -1}
	res := w.run(context.Background(), w.db.Client, o)
	var probs []string
	if res.panicked {
		probs = append(probs, res.err.Error())
	} else {
		probs = append(probs, w.rlsRefused(o, res)...)
	}
	sums, err := moSums(context.Background(), w.rawSumStmt, nil)
	switch {
	case err != nil:
		probs = append(probs, "reading the stored checksums: "+err.Error())
	case !slices.Equal(sums, w.sums):
		for i, tbl := range moTables {
			if sums[i] != w.sums[i] {
				probs = append(probs, "without a scope, "+tbl+" changed")
			}
		}
		if err := w.reload(); err != nil {
			w.t.Fatalf("seed %d: reload: %v", w.seed, err)
		}
	}
	w.sum.record(w, v, o, "denied", probs, exp, res)
}
