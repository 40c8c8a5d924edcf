package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/internal/auth"
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
		if objs := ruleObjects(); *object != "" && !slices.Contains(objs, *object) {
			return usagef("unknown object %q (known: %s)", *object, strings.Join(objs, ", "))
		}
		rs := policy.Find(policy.Filter{Allow: *allow, Uses: *uses, Object: *object})
		if err := policy.Render(e.stdout, rs, *format); err != nil {
			return usagef("%v", err)
		}
		return nil
	}
}

// ruleObjects lists the objects the policy has rules for, sorted.
func ruleObjects() []string {
	var objs []string
	for _, r := range policy.Rules() {
		if !slices.Contains(objs, r.Object) {
			objs = append(objs, r.Object)
		}
	}
	slices.Sort(objs)
	return objs
}

func preloadList(fs *flag.FlagSet) action {
	format := formatFlag(fs)
	return func(ctx context.Context, e *env, args []string) error {
		if err := preload.Render(e.stdout, *format); err != nil {
			return usagef("%v", err)
		}
		return nil
	}
}

// policyExplain prints the trace of the decision the policy makes for a
// user, an action and an object. The object is loaded as the user sees it,
// under their own scope, as the repositories load it: a row the user cannot
// see is never explained by the action's rule (the API answers 404 before
// asking it), but by the row rule of docs/design.md section 3 that hides it, as
// why-hidden does, and the answer is DENIED.
func policyExplain(fs *flag.FlagSet) action {
	db := addDBFlags(fs)
	email := fs.String("user", "", "`email` of the user whose decision to explain (required)")
	act := fs.String("action", "", "`action`, e.g. job.update (required)")
	id := idFlag(fs, "id", "`id` of the object (required, except for create actions; for note.create, the job's)")
	fields := fs.String("fields", "name", "for user.update: the comma-separated `fields` the change sets")
	asJSON := fs.Bool("json", false, "print the decision as JSON")
	return func(ctx context.Context, e *env, args []string) error {
		if *email == "" || *act == "" {
			return usagef("--user and --action are required")
		}
		rule, ok := policy.RuleFor(policy.Action(*act))
		if !ok {
			return usagef("unknown action %q (see: scopegate policy list)", *act)
		}
		object, needsID := explainedObject(rule)
		if needsID && *id <= 0 {
			return usagef("--id is required for %s", rule.Action)
		}
		d, sctx, u, err := db.openForUser(ctx, e, "policy explain", *email)
		if err != nil {
			return err
		}
		defer d.Close()
		us, err := auth.UserScope(u)
		if err != nil {
			return err
		}
		uctx := scope.NewContext(ctx, us)
		var obj any
		if needsID {
			obj, err = loadObject(uctx, d.Client, rule, *id, *fields)
			if ent.IsNotFound(err) {
				return explainHidden(sctx, e, d.Client, u, us, rule, object, *id, *asJSON)
			}
			if err != nil {
				return err
			}
		}
		dec, err := policy.Explain(uctx, rule.Action, obj)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSONTo(e, explanation{Decision: dec})
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

// explanation is policy explain's JSON: the decision, and for a row the
// user cannot see, the row rule that hides it.
type explanation struct {
	policy.Decision
	Hidden *policy.Visibility `json:"hidden,omitempty"`
}

func writeJSONTo(e *env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// explainHidden answers for a row the user's scope cannot load: a missing
// row is an error, as in why-hidden; a hidden one is DENIED, explained by
// the row rule that hides it (policy.ExplainVisibility, read under the
// system scope and confirmed under the user's).
func explainHidden(sctx context.Context, e *env, c *ent.Client, u *ent.User, us scope.Scope, rule policy.Rule, object string, id int, asJSON bool) error {
	v, err := policy.ExplainVisibility(sctx, c, u.ID, object, id)
	if ent.IsNotFound(err) {
		return fmt.Errorf("no %s with id %d", object, id)
	}
	if err != nil {
		return err
	}
	if v.Visible || !v.Confirmed {
		// Loaded as hidden, explained as visible: never answer ALLOWED
		// on a disagreement.
		return fmt.Errorf("%s %d: the privacy rules hide it from %s but the row rules do not explain why: please report it", object, id, u.Email)
	}
	dec := policy.Decision{Action: rule.Action, Rule: rule, Scope: us.String(), Allowed: false,
		DecidedBy: fmt.Sprintf("hidden: rule %s: %s", v.Rule, v.Reason)}
	if asJSON {
		return writeJSONTo(e, explanation{Decision: dec, Hidden: &v})
	}
	fmt.Fprintf(e.stdout, "DENIED %s for %s (%s): %s %d is HIDDEN from them\n", rule.Action, u.Email, dec.Scope, object, id)
	fmt.Fprintf(e.stdout, "row rule %s: %s\n", v.Rule, v.Reason)
	fmt.Fprintf(e.stdout, "the API answers 404 not found, as for a row that does not exist; the rule of %s is not consulted\n", rule.Action)
	return nil
}

// explainedObject returns the kind of row an action's checks look at, and
// whether it needs one: none for create actions, except note.create, whose
// row is the job the note goes on.
func explainedObject(rule policy.Rule) (string, bool) {
	if rule.Action == policy.NoteCreate {
		return "job", true
	}
	return rule.Object, !strings.HasSuffix(string(rule.Action), ".create")
}

// loadObject loads what the rule's checks look at, as the repositories do:
// under ctx's scope, so a row the scope cannot see is *ent.NotFoundError.
func loadObject(ctx context.Context, c *ent.Client, rule policy.Rule, id int, fields string) (any, error) {
	var (
		obj any
		err error
	)
	switch rule.Object {
	case "job":
		obj, err = c.Job.Query().Where(job.ID(id)).WithManagers().Only(ctx)
	case "note":
		if rule.Action == policy.NoteCreate {
			obj, err = c.Job.Query().Where(job.ID(id)).WithManagers().Only(ctx) // a note is created on a job
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
	default:
		return nil, fmt.Errorf("policy explain: no loader for object %q", rule.Object)
	}
	return obj, err
}

// policyWhyHidden prints which rule of docs/design.md section 3 hides a row from a
// user.
func policyWhyHidden(fs *flag.FlagSet) action {
	db := addDBFlags(fs)
	email := fs.String("user", "", "`email` of the user who cannot see the row (required)")
	object := fs.String("object", "", "`object`: job, note, company or user (required)")
	id := idFlag(fs, "id", "`id` of the row (required)")
	return func(ctx context.Context, e *env, args []string) error {
		if *email == "" || *object == "" || *id <= 0 {
			return usagef("--user, --object and --id are required")
		}
		if !slices.Contains(policy.VisibilityObjects, *object) {
			return usagef("unknown object %q (known: %s)", *object, strings.Join(policy.VisibilityObjects, ", "))
		}
		d, sctx, u, err := db.openForUser(ctx, e, "policy why-hidden", *email)
		if err != nil {
			return err
		}
		defer d.Close()
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

// openForUser opens the database and reads the user with email under a
// system scope whose reason names the command, cmd: what the explaining
// commands start with. It returns the database, which the caller closes,
// and the system scope's context with the user.
func (f dbFlags) openForUser(ctx context.Context, e *env, cmd, email string) (*opened, context.Context, *ent.User, error) {
	d, err := f.open(ctx, e)
	if err != nil {
		return nil, nil, nil, err
	}
	sctx, err := systemContext(ctx, cmd)
	if err != nil {
		d.Close()
		return nil, nil, nil, err
	}
	u, err := userByEmail(sctx, d.Client, email)
	if err != nil {
		d.Close()
		return nil, nil, nil, err
	}
	return d, sctx, u, nil
}
