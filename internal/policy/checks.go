package policy

import (
	"strings"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/internal/scope"
)

// CheckFunc is a check: a plain function of the scope, the object the
// action is on, and the rule's argument for the check ("admin" in
// role:admin). It must not touch the database: the repository loads what
// a check needs (a job's managers, say) before it authorizes.
type CheckFunc func(s scope.Scope, object any, arg string) bool

// Check is a named, documented CheckFunc.
type Check struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// NeedsObject: the check says nothing without an object. Can treats
	// such an allow check as satisfiable and such a deny check as not
	// denying, to answer "may this scope take the action on some object".
	NeedsObject bool      `json:"needs_object"`
	Fn          CheckFunc `json:"-"`
}

// The checks, by name. Rules refer to them as "name" or "name:arg".
var checks = map[string]Check{
	"everyone": {Name: "everyone", Description: "always passes",
		Fn: func(scope.Scope, any, string) bool { return true }},
	"role": {Name: "role", Description: "the user's role is the argument (role:admin)",
		Fn: func(s scope.Scope, _ any, arg string) bool { return s.IsUser() && string(s.Role()) == arg }},
	"banned": {Name: "banned", Description: "the user is banned",
		Fn: func(s scope.Scope, _ any, _ string) bool { return s.Banned() }},
	"banned_not_self": {Name: "banned_not_self", Description: "the user is banned and the object is not their own user row",
		NeedsObject: true,
		Fn: func(s scope.Scope, o any, _ string) bool {
			return s.Banned() && !isSelf(s, o)
		}},
	"self": {Name: "self", Description: "the object is the user's own user row", NeedsObject: true,
		Fn: func(s scope.Scope, o any, _ string) bool { return isSelf(s, o) }},
	"own_resource": {Name: "own_resource", Description: "the user wrote the note", NeedsObject: true,
		Fn: func(s scope.Scope, o any, _ string) bool {
			n, ok := o.(*ent.Note)
			return ok && n != nil && s.IsUser() && n.AuthorID == s.UserID()
		}},
	"manages_job": {Name: "manages_job", Description: "the user is one of the job's managers (the job's managers must be loaded)",
		NeedsObject: true,
		Fn: func(s scope.Scope, o any, _ string) bool {
			j, ok := o.(*ent.Job)
			if !ok || j == nil || !s.IsUser() {
				return false
			}
			// ent sets a loaded edge to a non-nil slice, even when empty;
			// nil means the managers were not loaded: fail closed.
			for _, m := range j.Edges.Managers {
				if m.ID == s.UserID() {
					return true
				}
			}
			return false
		}},
	"sees_job": {Name: "sees_job", Description: "the job was loaded under the user's scope, so the privacy rules let them see it",
		NeedsObject: true,
		Fn: func(s scope.Scope, o any, _ string) bool {
			j, ok := o.(*ent.Job)
			org, _ := s.OrgID()
			return ok && j != nil && s.IsUser() && j.OrgID == org
		}},
	"only_fields": {Name: "only_fields", Description: "the change touches only the listed fields (only_fields:name|phone)",
		NeedsObject: true,
		Fn: func(_ scope.Scope, o any, arg string) bool {
			u, ok := o.(UserChange)
			if !ok {
				return false
			}
			for _, f := range u.Fields {
				if !fieldIn(f, arg) {
					return false
				}
			}
			return true
		}},
}

// UserChange is the object of user.update: the user being changed and the
// fields the change sets.
type UserChange struct {
	Target *ent.User
	Fields []string
}

func isSelf(s scope.Scope, o any) bool {
	if !s.IsUser() {
		return false
	}
	switch u := o.(type) {
	case *ent.User:
		return u != nil && u.ID == s.UserID()
	case UserChange:
		return u.Target != nil && u.Target.ID == s.UserID()
	}
	return false
}

func fieldIn(f, list string) bool {
	for rest, more := list, true; more; {
		var v string
		v, rest, more = strings.Cut(rest, "|")
		if v == f {
			return true
		}
	}
	return false
}
