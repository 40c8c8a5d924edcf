package policy

import (
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/internal/scope"
)

// Redaction is one field some scopes may not read: a row of the redaction
// table, with the test of who may read it and how the field is cleared.
type Redaction struct {
	Object string `json:"object"`
	Field  string `json:"field"`
	// Who may read it, in words.
	VisibleTo string `json:"visible_to"`

	// typ is the entity type the row applies to (*ent.User for "user").
	typ reflect.Type
	// mayRead reports whether the scope may read the field of the
	// entity; clear zeroes it in place.
	mayRead func(s scope.Scope, entity any) bool
	clear   func(entity any)
}

// redaction builds a row of the table for entities of type T.
func redaction[T any](object, field, visibleTo string, mayRead func(scope.Scope, T) bool, clear func(T)) Redaction {
	return Redaction{Object: object, Field: field, VisibleTo: visibleTo, typ: reflect.TypeFor[T](),
		mayRead: func(s scope.Scope, e any) bool { return mayRead(s, e.(T)) },
		clear:   func(e any) { clear(e.(T)) }}
}

// Redactions is the redaction table of docs/design.md section 5. Redact
// applies exactly these rows: a field is hidden by adding its row here,
// and docs/policy.md lists them.
var Redactions = []Redaction{
	redaction("user", "email", "admins and the user themself", mayReadContact, func(u *ent.User) { u.Email = "" }),
	redaction("user", "phone", "admins and the user themself", mayReadContact, func(u *ent.User) { u.Phone = "" }),
	redaction("job", "salary_max", "everyone but clients", mayReadSalary, func(j *ent.Job) { j.SalaryMax = nil }),
}

func mayReadContact(s scope.Scope, u *ent.User) bool {
	if s.IsSystem() {
		return true
	}
	if s.IsUser() && u.ID == s.UserID() {
		return true
	}
	return s.IsUser() && s.Role() == scope.RoleAdmin && !s.Banned()
}

func mayReadSalary(s scope.Scope, _ *ent.Job) bool {
	return s.IsSystem() || s.Role() != scope.RoleClient
}

// objects names every entity type Redact knows, by its name in the
// redaction table. A type that is not here cannot be redacted: Redact
// refuses it (ErrUnredactable) rather than let its fields through
// unchecked.
var objects = map[reflect.Type]string{
	reflect.TypeFor[*ent.Organization](): "organization",
	reflect.TypeFor[*ent.User]():         "user",
	reflect.TypeFor[*ent.Company]():      "company",
	reflect.TypeFor[*ent.Job]():          "job",
	reflect.TypeFor[*ent.Note]():         "note",
}

// ErrUnredactable is Redact's answer for a value it does not know how to
// redact: a type not in objects (a new entity, or an edge to one).
var ErrUnredactable = errors.New("policy: cannot redact")

// redactable is what Redact knows of one entity type: the rows of the
// table that apply to it, and where its edges are.
type redactable struct {
	rows      []Redaction
	edgesAt   int   // index of the entity's Edges field
	edgeIndex []int // indexes of the exported fields of Edges: the edges
	// namedAt are the indexes of Edges' unexported maps: the named
	// edges of ent's WithNamedX, which Redact does not walk. One loaded
	// is ErrUnredactable.
	namedAt []int
}

// redactables is objects with each type's rows and edges, built once.
var redactables = func() map[reflect.Type]*redactable {
	out := map[reflect.Type]*redactable{}
	for t := range objects {
		r := &redactable{}
		f, ok := t.Elem().FieldByName("Edges")
		if !ok || len(f.Index) != 1 {
			panic(fmt.Sprintf("policy: %v has no Edges field", t))
		}
		r.edgesAt = f.Index[0]
		for i := range f.Type.NumField() {
			switch field := f.Type.Field(i); {
			case field.IsExported():
				r.edgeIndex = append(r.edgeIndex, i)
			case field.Type.Kind() == reflect.Map:
				r.namedAt = append(r.namedAt, i)
			}
		}
		out[t] = r
	}
	for _, row := range Redactions {
		r, ok := out[row.typ]
		if !ok || objects[row.typ] != row.Object {
			panic(fmt.Sprintf("policy: redaction %s.%s is for %v, which objects does not name %q", row.Object, row.Field, row.typ, row.Object))
		}
		r.rows = append(r.rows, row)
	}
	return out
}()

// Redacted maps each redacted entity to the names of its fields that were
// zeroed. Serializers list them in the object's "redacted" array.
type Redacted map[any][]string

// Fields returns the redacted fields of v (nil if none).
func (r Redacted) Fields(v any) []string { return r[v] }

// Redact zeroes, in place, every field of v (an entity, a slice of them, and
// everything loaded under their edges) that the scope may not read, by
// the rows of Redactions, and returns which fields of which entity it
// zeroed. Redacted values never reach a serializer, so no later code can
// leak them by accident.
//
// It fails closed: a value of a type it does not know (not in objects),
// at the top or under an edge, is ErrUnredactable, and the caller must not
// use v. Knowing no rule for a type is not the same as knowing it has
// nothing to hide.
func Redact(s scope.Scope, v any) (Redacted, error) {
	w := redactWalk{s: s, out: Redacted{}, seen: map[any]bool{}}
	if err := w.walk(reflect.ValueOf(v)); err != nil {
		return nil, err
	}
	return w.out, nil
}

type redactWalk struct {
	s    scope.Scope
	out  Redacted
	seen map[any]bool
}

func (w *redactWalk) walk(v reflect.Value) error {
	switch v.Kind() {
	case reflect.Invalid: // nil
		return nil
	case reflect.Slice:
		for i := range v.Len() {
			if err := w.walk(v.Index(i)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		r, ok := redactables[v.Type()]
		if !ok {
			break
		}
		e := v.Interface()
		if w.seen[e] {
			return nil
		}
		w.seen[e] = true
		for _, row := range r.rows {
			if !row.mayRead(w.s, e) {
				row.clear(e)
				w.out[e] = append(w.out[e], row.Field)
			}
		}
		edges := v.Elem().Field(r.edgesAt)
		for _, i := range r.edgeIndex {
			if err := w.walk(edges.Field(i)); err != nil {
				return err
			}
		}
		for _, i := range r.namedAt {
			if edges.Field(i).Len() > 0 {
				return fmt.Errorf("%w: a named edge of %s", ErrUnredactable, v.Type())
			}
		}
		return nil
	}
	return fmt.Errorf("%w: %s", ErrUnredactable, v.Type())
}

// RedactedFieldsOf returns the redaction table's fields of one object type.
func RedactedFieldsOf(object string) []string {
	var out []string
	for _, r := range Redactions {
		if r.Object == object {
			out = append(out, r.Field)
		}
	}
	return slices.Clip(out)
}
