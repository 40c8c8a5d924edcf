package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/internal/policy"
	"github.com/scopegate/scopegate/internal/preload"
	"github.com/scopegate/scopegate/internal/scope"
)

func formatFlag(fs *flag.FlagSet) *string {
	return fs.String("format", "table", "output `format`: table, json or markdown")
}

func policyList(fs *flag.FlagSet) action {
	allow := fs.String("allow", "", "only rules with an allow list naming this `check` (role:manager)")
	uses := fs.String("uses", "", "only rules using this check `name` (banned)")
	object := fs.String("object", "", "only rules of this `object` (job)")
	format := formatFlag(fs)
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected argument %q", args[0])
		}
		rs := policy.Find(policy.Filter{Allow: *allow, Uses: *uses, Object: *object})
		if err := policy.Render(e.stdout, rs, *format); err != nil {
			return usagef("%v", err)
		}
		return nil
	}
}

func preloadList(fs *flag.FlagSet) action {
	format := formatFlag(fs)
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected argument %q", args[0])
		}
		if err := preload.Render(e.stdout, *format); err != nil {
			return usagef("%v", err)
		}
		return nil
	}
}

// policyExplain prints the trace of the decision the policy makes for a
// user, an action and an object.
func policyExplain(fs *flag.FlagSet) action {
	db := addDBFlags(fs)
	email := fs.String("user", "", "`email` of the user whose decision to explain (required)")
	act := fs.String("action", "", "`action`, e.g. job.update (required)")
	id := fs.Int("id", 0, "`id` of the object (not needed for create actions)")
	fields := fs.String("fields", "name", "for user.update: the comma-separated `fields` the change sets")
	asJSON := fs.Bool("json", false, "print the decision as JSON")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected argument %q", args[0])
		}
		if *email == "" || *act == "" {
			return usagef("--user and --action are required")
		}
		rule, ok := policy.RuleFor(policy.Action(*act))
		if !ok {
			return usagef("unknown action %q (see: scopegate policy list)", *act)
		}
		d, err := db.open(ctx, e)
		if err != nil {
			return err
		}
		defer d.Close()
		sctx, err := systemContext(ctx, "policy explain")
		if err != nil {
			return err
		}
		u, err := userByEmail(sctx, d.Client, *email)
		if err != nil {
			return err
		}
		obj, err := loadObject(sctx, d.Client, rule, *id, *fields)
		if err != nil {
			return err
		}
		us, err := userScope(u)
		if err != nil {
			return err
		}
		dec, err := policy.Explain(scope.NewContext(ctx, us), rule.Action, obj)
		if err != nil {
			return err
		}
		if *asJSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(dec)
		}
		verdict := "DENIED"
		if dec.Allowed {
			verdict = "ALLOWED"
		}
		fmt.Fprintf(e.stdout, "%s %s for %s (%s): %s\n", verdict, dec.Action, u.Email, dec.Scope, dec.DecidedBy)
		fmt.Fprintf(e.stdout, "rule: %s\n", rule.Description)
		for _, st := range dec.Steps {
			mark := "fail"
			if st.Passed {
				mark = "pass"
			}
			fmt.Fprintf(e.stdout, "  %-8s %-24s %s\n", st.Phase, st.Check, mark)
		}
		return nil
	}
}

func userScope(u *ent.User) (scope.Scope, error) {
	return scope.ForUser(scope.User{ID: u.ID, OrgID: u.OrgID, Role: scope.Role(u.Role), CompanyID: u.CompanyID, Banned: u.Banned, Active: u.Active})
}

// loadObject loads what the rule's checks look at, as the repositories do.
func loadObject(ctx context.Context, c *ent.Client, rule policy.Rule, id int, fields string) (any, error) {
	needsID := !strings.HasSuffix(string(rule.Action), ".create") || rule.Action == policy.NoteCreate
	if !needsID {
		return nil, nil
	}
	if id <= 0 {
		return nil, usagef("--id is required for %s", rule.Action)
	}
	var (
		obj any
		err error
	)
	switch rule.Object {
	case "job":
		obj, err = c.Job.Query().Where(job.ID(id)).WithManagers().Only(ctx)
	case "note":
		if rule.Action == policy.NoteCreate {
			obj, err = c.Job.Get(ctx, id) // a note is created on a job
		} else {
			obj, err = c.Note.Get(ctx, id)
		}
	case "company":
		obj, err = c.Company.Get(ctx, id)
	case "user":
		var u *ent.User
		u, err = c.User.Get(ctx, id)
		obj = u
		if rule.Action == policy.UserUpdate {
			obj = policy.UserChange{Target: u, Fields: strings.Split(fields, ",")}
		}
	}
	if ent.IsNotFound(err) {
		return nil, fmt.Errorf("no %s with id %d", rule.Object, id)
	}
	return obj, err
}

// policyWhyHidden prints which rule of docs/design.md section 3 hides a row from a
// user.
func policyWhyHidden(fs *flag.FlagSet) action {
	db := addDBFlags(fs)
	email := fs.String("user", "", "`email` of the user who cannot see the row (required)")
	object := fs.String("object", "", "`object`: job, note, company or user (required)")
	id := fs.Int("id", 0, "`id` of the row (required)")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected argument %q", args[0])
		}
		if *email == "" || *object == "" || *id <= 0 {
			return usagef("--user, --object and --id are required")
		}
		d, err := db.open(ctx, e)
		if err != nil {
			return err
		}
		defer d.Close()
		sctx, err := systemContext(ctx, "policy why-hidden")
		if err != nil {
			return err
		}
		u, err := userByEmail(sctx, d.Client, *email)
		if err != nil {
			return err
		}
		v, err := policy.ExplainVisibility(sctx, d.Client, u.ID, *object, *id)
		if ent.IsNotFound(err) {
			return fmt.Errorf("no %s with id %d", *object, *id)
		}
		if err != nil {
			return err
		}
		state := "HIDDEN from"
		if v.Visible {
			state = "VISIBLE to"
		}
		fmt.Fprintf(e.stdout, "%s %d is %s %s: rule %s: %s\n", v.Object, v.ID, state, u.Email, v.Rule, v.Reason)
		if !v.Confirmed {
			return fmt.Errorf("the privacy rules disagree with this explanation: please report it")
		}
		fmt.Fprintln(e.stdout, "confirmed by the privacy rules")
		return nil
	}
}
