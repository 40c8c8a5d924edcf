// Package policy owns what each scope may do: the rules of docs/design.md section 5
// as data (object, action, allow lists, deny checks, description, metadata),
// decisions that explain themselves, introspection for the CLI, the API and
// docs/policy.md, and the redaction of fields a scope may not read.
//
// The repositories authorize every mutation here before they touch the
// database. Which rows a scope sees at all is not this package's business:
// the ent privacy rules (internal/rules) decide that, on every query.
package policy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/scopegate/scopegate/internal/scope"
)

// ErrForbidden matches every denial under errors.Is; errors.As gives the
// *Error with its Decision.
var ErrForbidden = errors.New("policy: forbidden")

// ErrUnknownAction is returned for an action with no rule. Actions are typed
// constants, so this is a conversion from a string gone wrong.
var ErrUnknownAction = errors.New("policy: unknown action")

// Step is one check evaluated for a decision.
type Step struct {
	Phase  string `json:"phase"` // "deny" or "allow 1", "allow 2", ...
	Check  string `json:"check"` // "role:admin"
	Passed bool   `json:"passed"`
}

// Decision is the trace of one authorization: the rule, every check with its
// result, and what decided.
type Decision struct {
	Action  Action `json:"action"`
	Rule    Rule   `json:"rule"`
	Scope   string `json:"scope"`
	Allowed bool   `json:"allowed"`
	Steps   []Step `json:"steps"`
	// DecidedBy names the check that denied ("deny: banned"), the allow
	// list that allowed ("allow 2: role:manager, manages_job"), "no allow
	// list passed", or "system scope".
	DecidedBy string `json:"decided_by"`
}

// Error is a denial.
type Error struct{ Decision Decision }

func (e *Error) Error() string {
	return fmt.Sprintf("policy: %s forbidden (%s)", e.Decision.Action, e.Decision.DecidedBy)
}

// Is makes errors.Is(err, ErrForbidden) true.
func (e *Error) Is(target error) bool { return target == ErrForbidden }

type boundCheck struct {
	ref   string // as written in the rule
	check *Check
	arg   string
}

func (b boundCheck) eval(s scope.Scope, o any) bool { return b.check.Fn(s, o, b.arg) }

type compiled struct {
	rule  Rule
	allow [][]boundCheck
	deny  []boundCheck
}

var byAction = mustCompile(rules)

func mustCompile(rs []Rule) map[Action]*compiled {
	m, err := compile(rs)
	if err != nil {
		// The rules are a literal of this package; a bad reference is a
		// programming error that the tests and every start-up catch.
		panic(err)
	}
	return m
}

func compile(rs []Rule) (map[Action]*compiled, error) {
	out := make(map[Action]*compiled, len(rs))
	bind := func(ref string) (boundCheck, error) {
		name, arg, _ := strings.Cut(ref, ":")
		c, ok := checks[name]
		if !ok {
			return boundCheck{}, fmt.Errorf("policy: unknown check %q", ref)
		}
		return boundCheck{ref: ref, check: &c, arg: arg}, nil
	}
	for _, r := range rs {
		if _, dup := out[r.Action]; dup {
			return nil, fmt.Errorf("policy: %s has two rules", r.Action)
		}
		if !strings.HasPrefix(string(r.Action), r.Object+".") {
			return nil, fmt.Errorf("policy: %s filed under object %s", r.Action, r.Object)
		}
		c := &compiled{rule: r}
		for _, list := range r.Allow {
			var bl []boundCheck
			for _, ref := range list {
				b, err := bind(ref)
				if err != nil {
					return nil, err
				}
				bl = append(bl, b)
			}
			c.allow = append(c.allow, bl)
		}
		for _, ref := range r.Deny {
			b, err := bind(ref)
			if err != nil {
				return nil, err
			}
			c.deny = append(c.deny, b)
		}
		out[r.Action] = c
	}
	return out, nil
}

func lookup(ctx context.Context, action Action) (scope.Scope, *compiled, error) {
	s, ok := scope.FromContext(ctx)
	if !ok {
		return s, nil, fmt.Errorf("policy: %s: %w", action, scope.ErrNoScope)
	}
	c, ok := byAction[action]
	if !ok {
		return s, nil, fmt.Errorf("%w %q", ErrUnknownAction, action)
	}
	return s, c, nil
}

// Authorize returns nil if the scope in ctx may take action on object, and
// otherwise an *Error (errors.Is(err, ErrForbidden)) carrying the decision.
// The system scope is allowed every action: it is answerable to its audit
// trail, not to roles. The allow path allocates nothing.
func Authorize(ctx context.Context, action Action, object any) error {
	s, c, err := lookup(ctx, action)
	if err != nil {
		return err
	}
	if s.IsSystem() || c.allowed(s, object) {
		return nil
	}
	return &Error{Decision: c.explain(s, object)}
}

func (c *compiled) allowed(s scope.Scope, o any) bool {
	for _, d := range c.deny {
		if d.eval(s, o) {
			return false
		}
	}
	for _, list := range c.allow {
		ok := true
		for _, b := range list {
			if !b.eval(s, o) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// Explain returns the full trace of the decision Authorize would make, for
// an allowed action too. Every check is evaluated and listed.
func Explain(ctx context.Context, action Action, object any) (Decision, error) {
	s, c, err := lookup(ctx, action)
	if err != nil {
		return Decision{}, err
	}
	return c.explain(s, object), nil
}

func (c *compiled) explain(s scope.Scope, o any) Decision {
	d := Decision{Action: c.rule.Action, Rule: c.rule, Scope: s.String()}
	if s.IsSystem() {
		d.Allowed, d.DecidedBy = true, "system scope"
		return d
	}
	denied := ""
	for _, b := range c.deny {
		passed := b.eval(s, o)
		d.Steps = append(d.Steps, Step{Phase: "deny", Check: b.ref, Passed: passed})
		if passed && denied == "" {
			denied = "deny: " + b.ref
		}
	}
	allowedBy := ""
	for i, list := range c.allow {
		phase := fmt.Sprintf("allow %d", i+1)
		all := true
		refs := make([]string, 0, len(list))
		for _, b := range list {
			passed := b.eval(s, o)
			d.Steps = append(d.Steps, Step{Phase: phase, Check: b.ref, Passed: passed})
			all = all && passed
			refs = append(refs, b.ref)
		}
		if all && allowedBy == "" {
			allowedBy = phase + ": " + strings.Join(refs, ", ")
		}
	}
	switch {
	case denied != "":
		d.DecidedBy = denied
	case allowedBy != "":
		d.Allowed, d.DecidedBy = true, allowedBy
	default:
		d.DecidedBy = "no allow list passed"
	}
	return d
}

// Rules returns every rule, in the order of docs/design.md section 5.
func Rules() []Rule { return slices.Clone(rules) }

// RuleFor returns the rule of one action.
func RuleFor(action Action) (Rule, bool) {
	c, ok := byAction[action]
	if !ok {
		return Rule{}, false
	}
	return c.rule, true
}

// Filter selects rules. Empty fields select everything.
type Filter struct {
	// Allow keeps the rules with an allow list containing this check
	// reference: "role:manager" answers "which actions may a manager take
	// (given the list's other checks)".
	Allow string
	// Uses keeps the rules that use this check by name, in allow or deny:
	// "banned".
	Uses string
	// Object keeps the rules of one object: "job".
	Object string
}

// Find returns the rules that f selects.
func Find(f Filter) []Rule {
	var out []Rule
	for _, r := range rules {
		if f.Object != "" && r.Object != f.Object {
			continue
		}
		if f.Allow != "" && !slices.ContainsFunc(r.Allow, func(l []string) bool { return slices.Contains(l, f.Allow) }) {
			continue
		}
		if f.Uses != "" && !usesCheck(r, f.Uses) {
			continue
		}
		out = append(out, r)
	}
	return out
}

func usesCheck(r Rule, name string) bool {
	is := func(ref string) bool { n, _, _ := strings.Cut(ref, ":"); return n == name }
	return slices.ContainsFunc(r.Deny, is) ||
		slices.ContainsFunc(r.Allow, func(l []string) bool { return slices.ContainsFunc(l, is) })
}

// Can returns the actions the scope in ctx may take on some object of the
// type object ("job"; "" for every type). Checks that need an object count
// as satisfiable in an allow list and as not denying: Can answers "could
// this scope ever", for GET /api/me; Authorize answers "may it, on this
// object".
func Can(ctx context.Context, object string) ([]Action, error) {
	s, ok := scope.FromContext(ctx)
	if !ok {
		return nil, fmt.Errorf("policy: can: %w", scope.ErrNoScope)
	}
	var out []Action
	for _, r := range rules {
		if object != "" && r.Object != object {
			continue
		}
		if s.IsSystem() || byAction[r.Action].possible(s) {
			out = append(out, r.Action)
		}
	}
	return out, nil
}

func (c *compiled) possible(s scope.Scope) bool {
	for _, d := range c.deny {
		if !d.check.NeedsObject && d.eval(s, nil) {
			return false
		}
	}
	for _, list := range c.allow {
		ok := true
		for _, b := range list {
			if !b.check.NeedsObject && !b.eval(s, nil) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// Checks returns every check, sorted by name.
func Checks() []Check {
	out := make([]Check, 0, len(checks))
	for _, c := range checks {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Check) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// AdminSurface is the rule for the admin surface (routes under /api/admin/
// and GET /api/policy). It is not an action on an object, so it is not in
// Rules() or Can(); it is compiled and explained like one, so that a refusal
// names its rule and check like any other denial.
var AdminSurface = Rule{Object: "surface", Action: "surface.admin", Allow: [][]string{{"role:admin"}}, Deny: []string{"banned"},
	Description: "Use the admin surface: admins only"}

var adminSurface = mustCompile([]Rule{AdminSurface})[AdminSurface.Action]

// AuthorizeAdminSurface returns nil if the scope in ctx may use the admin
// surface, and otherwise an *Error like Authorize's.
func AuthorizeAdminSurface(ctx context.Context) error {
	s, ok := scope.FromContext(ctx)
	if !ok {
		return fmt.Errorf("policy: admin surface: %w", scope.ErrNoScope)
	}
	return CheckAdminSurface(s)
}

// CheckAdminSurface is AuthorizeAdminSurface for a scope in hand.
func CheckAdminSurface(s scope.Scope) error {
	if s.IsSystem() || adminSurface.allowed(s, nil) {
		return nil
	}
	return &Error{Decision: adminSurface.explain(s, nil)}
}
