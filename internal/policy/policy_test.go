package policy

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/internal/listing"
	"github.com/scopegate/scopegate/internal/scope"
)

const org = 10

func ctxFor(t testing.TB, id int, role scope.Role, banned bool) context.Context {
	t.Helper()
	u := scope.User{ID: id, OrgID: org, Role: role, Banned: banned, Active: true}
	if role == scope.RoleClient {
		c := 7
		u.CompanyID = &c
	}
	s, err := scope.ForUser(u)
	require.NoError(t, err)
	return scope.NewContext(context.Background(), s)
}

// The actors: one of each role, each also banned. Ids: admin 1, manager 2,
// member 3, client 4; banned ones 11..14.
type actor struct {
	name   string
	id     int
	role   scope.Role
	banned bool
}

var actors = []actor{
	{"admin", 1, scope.RoleAdmin, false}, {"manager", 2, scope.RoleManager, false},
	{"member", 3, scope.RoleMember, false}, {"client", 4, scope.RoleClient, false},
	{"banned admin", 11, scope.RoleAdmin, true}, {"banned manager", 12, scope.RoleManager, true},
	{"banned member", 13, scope.RoleMember, true}, {"banned client", 14, scope.RoleClient, true},
}

func managedJob(managerIDs ...int) *ent.Job {
	j := &ent.Job{ID: 100, OrgID: org}
	j.Edges.Managers = []*ent.User{}
	for _, id := range managerIDs {
		j.Edges.Managers = append(j.Edges.Managers, &ent.User{ID: id})
	}
	return j
}

// TestPolicyTable checks every cell of docs/design.md section 5 for every role,
// both outcomes, and for each denial the check that denied.
func TestPolicyTable(t *testing.T) {
	jobManagedByManager := managedJob(2, 12)
	jobNotManaged := managedJob()
	noteByMember := &ent.Note{ID: 5, OrgID: org, AuthorID: 3}
	noteByBannedMember := &ent.Note{ID: 6, OrgID: org, AuthorID: 13}
	otherUser := &ent.User{ID: 99, OrgID: org}
	cases := []struct {
		action Action
		object func(a actor) any
		// allowed lists the actors (by name) allowed; everyone else is
		// denied.
		allowed []string
	}{
		{JobRead, func(actor) any { return jobNotManaged }, []string{"admin", "manager", "member", "client"}},
		{JobCreate, func(actor) any { return nil }, []string{"admin", "manager"}},
		{JobUpdate, func(actor) any { return jobManagedByManager }, []string{"admin", "manager"}},
		{JobUpdate, func(actor) any { return jobNotManaged }, []string{"admin"}},
		{JobDelete, func(actor) any { return jobManagedByManager }, []string{"admin"}},
		{CompanyRead, func(actor) any { return &ent.Company{ID: 7, OrgID: org} }, []string{"admin", "manager", "member", "client"}},
		{CompanyCreate, func(actor) any { return nil }, []string{"admin"}},
		{CompanyUpdate, func(actor) any { return &ent.Company{ID: 7, OrgID: org} }, []string{"admin"}},
		{CompanyDelete, func(actor) any { return &ent.Company{ID: 7, OrgID: org} }, []string{"admin"}},
		{NoteCreate, func(actor) any { return jobNotManaged }, []string{"admin", "manager", "member"}},
		{NoteCreate, func(actor) any { return &ent.Job{ID: 101, OrgID: org + 1} }, []string{"admin", "manager"}},
		{NoteUpdate, func(actor) any { return noteByMember }, []string{"admin", "member"}},
		{NoteUpdate, func(actor) any { return noteByBannedMember }, []string{"admin"}},
		{NoteDelete, func(actor) any { return noteByMember }, []string{"admin", "member"}},
		{NoteInternal, func(actor) any { return jobNotManaged }, []string{"admin", "manager"}},
		{UserRead, func(actor) any { return otherUser }, []string{"admin", "manager", "member", "client"}},
		{UserRead, func(a actor) any { return &ent.User{ID: a.id, OrgID: org} }, []string{"admin", "manager", "member", "client",
			"banned admin", "banned manager", "banned member", "banned client"}},
		{UserCreate, func(actor) any { return nil }, []string{"admin"}},
		{UserDelete, func(actor) any { return otherUser }, []string{"admin"}},
		{UserUpdate, func(actor) any { return UserChange{Target: otherUser, Fields: []string{"name"}} }, []string{"admin"}},
		{UserUpdate, func(a actor) any { return UserChange{Target: &ent.User{ID: a.id}, Fields: []string{"name", "phone"}} },
			[]string{"admin", "manager", "member", "client"}},
		{UserUpdate, func(a actor) any { return UserChange{Target: &ent.User{ID: a.id}, Fields: []string{"name", "role"}} },
			[]string{"admin"}},
	}
	covered := map[Action]bool{}
	for i, c := range cases {
		covered[c.action] = true
		for _, a := range actors {
			name := fmt.Sprintf("%d/%s/%s", i, c.action, a.name)
			t.Run(name, func(t *testing.T) {
				ctx := ctxFor(t, a.id, a.role, a.banned)
				obj := c.object(a)
				err := Authorize(ctx, c.action, obj)
				d, xerr := Explain(ctx, c.action, obj)
				require.NoError(t, xerr)
				want := contains(c.allowed, a.name)
				assert.Equal(t, want, d.Allowed, "Explain agrees with the table")
				if want {
					assert.NoError(t, err)
					assert.True(t, strings.HasPrefix(d.DecidedBy, "allow "), d.DecidedBy)
					return
				}
				require.Error(t, err)
				assert.True(t, errors.Is(err, ErrForbidden))
				var pe *Error
				require.True(t, errors.As(err, &pe))
				assert.Equal(t, d, pe.Decision, "the error carries the same trace as Explain")
				assert.Equal(t, c.action, pe.Decision.Action)
				if a.banned {
					assert.True(t, strings.HasPrefix(pe.Decision.DecidedBy, "deny: banned"), pe.Decision.DecidedBy)
				} else {
					assert.Equal(t, "no allow list passed", pe.Decision.DecidedBy)
				}
				assert.NotEmpty(t, pe.Decision.Steps)
			})
		}
	}
	for _, r := range Rules() {
		assert.True(t, covered[r.Action], "rule %s has no case", r.Action)
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func TestExplainNamesEveryCheck(t *testing.T) {
	ctx := ctxFor(t, 2, scope.RoleManager, false)
	d, err := Explain(ctx, JobUpdate, managedJob(2))
	require.NoError(t, err)
	assert.True(t, d.Allowed)
	assert.Equal(t, "allow 2: role:manager, manages_job", d.DecidedBy)
	assert.Equal(t, []Step{
		{Phase: "deny", Check: "banned", Passed: false},
		{Phase: "allow 1", Check: "role:admin", Passed: false},
		{Phase: "allow 2", Check: "role:manager", Passed: true},
		{Phase: "allow 2", Check: "manages_job", Passed: true},
	}, d.Steps)
}

func TestManagesJobFailsClosedWhenManagersNotLoaded(t *testing.T) {
	ctx := ctxFor(t, 2, scope.RoleManager, false)
	err := Authorize(ctx, JobUpdate, &ent.Job{ID: 1, OrgID: org})
	assert.ErrorIs(t, err, ErrForbidden)
}

func TestNoScopeAndUnknownAction(t *testing.T) {
	assert.ErrorIs(t, Authorize(context.Background(), JobRead, nil), scope.ErrNoScope)
	_, err := Explain(context.Background(), JobRead, nil)
	assert.ErrorIs(t, err, scope.ErrNoScope)
	assert.ErrorIs(t, Authorize(ctxFor(t, 1, scope.RoleAdmin, false), Action("job.fly"), nil), ErrUnknownAction)
}

func TestSystemScopeIsAllowed(t *testing.T) {
	s, err := scope.System("test").Scope()
	require.NoError(t, err)
	ctx := scope.NewContext(context.Background(), s)
	for _, r := range Rules() {
		assert.NoError(t, Authorize(ctx, r.Action, nil))
	}
}

func TestAuthenticatorScopeIsDeniedEverything(t *testing.T) {
	s, err := scope.Authenticator(scope.AuthLookup{Email: "a@b"})
	require.NoError(t, err)
	ctx := scope.NewContext(context.Background(), s)
	for _, r := range Rules() {
		if r.Action == JobRead || r.Action == CompanyRead || r.Action == UserRead {
			continue // "everyone" reads, and the privacy rules decide which rows
		}
		assert.ErrorIs(t, Authorize(ctx, r.Action, nil), ErrForbidden, r.Action)
	}
}

func TestIntrospection(t *testing.T) {
	assert.Len(t, Rules(), 16)
	r, ok := RuleFor(JobUpdate)
	require.True(t, ok)
	assert.Equal(t, "job", r.Object)
	assert.Equal(t, "job.managers", r.Metadata["loads"])

	var got []Action
	for _, r := range Find(Filter{Allow: "role:manager"}) {
		got = append(got, r.Action)
	}
	assert.Equal(t, []Action{JobCreate, JobUpdate, NoteCreate, NoteInternal}, got)

	got = nil
	for _, r := range Find(Filter{Uses: "banned"}) {
		got = append(got, r.Action)
	}
	assert.Len(t, got, 15, "every rule but user.read denies banned")
	assert.NotContains(t, got, UserRead)
	assert.Len(t, Find(Filter{Uses: "banned_not_self"}), 1)
	assert.Len(t, Find(Filter{Object: "company"}), 4)
}

func TestCan(t *testing.T) {
	can := func(ctx context.Context, obj string) []Action {
		a, err := Can(ctx, obj)
		require.NoError(t, err)
		return a
	}
	assert.Equal(t, []Action{JobRead, JobCreate, JobUpdate}, can(ctxFor(t, 2, scope.RoleManager, false), "job"))
	assert.Equal(t, []Action{JobRead}, can(ctxFor(t, 4, scope.RoleClient, false), "job"))
	assert.Equal(t, []Action{UserRead}, can(ctxFor(t, 13, scope.RoleMember, true), ""))
	assert.Len(t, can(ctxFor(t, 1, scope.RoleAdmin, false), ""), 16)
	assert.Equal(t, []Action{NoteCreate, NoteUpdate, NoteDelete}, can(ctxFor(t, 3, scope.RoleMember, false), "note"))
	_, err := Can(context.Background(), "")
	assert.ErrorIs(t, err, scope.ErrNoScope)
}

func TestCompileRefusesBadRules(t *testing.T) {
	_, err := compile([]Rule{{Object: "job", Action: JobRead, Allow: [][]string{{"rol:admin"}}}})
	assert.ErrorContains(t, err, "unknown check")
	_, err = compile([]Rule{{Object: "job", Action: JobRead}, {Object: "job", Action: JobRead}})
	assert.ErrorContains(t, err, "two rules")
	_, err = compile([]Rule{{Object: "note", Action: JobRead}})
	assert.ErrorContains(t, err, "filed under")
}

func TestRedact(t *testing.T) {
	salary := 5000
	mk := func() (*ent.Job, *ent.User, *ent.User) {
		self := &ent.User{ID: 3, Email: "me@x", Phone: "1"}
		other := &ent.User{ID: 9, Email: "o@x", Phone: "2"}
		j := &ent.Job{ID: 1, SalaryMax: &salary}
		j.Edges.Managers = []*ent.User{self, other}
		j.Edges.Notes = []*ent.Note{{ID: 1}}
		j.Edges.Notes[0].Edges.Author = other
		return j, self, other
	}
	t.Run("Member", func(t *testing.T) {
		j, self, other := mk()
		s := scopeOf(t, ctxFor(t, 3, scope.RoleMember, false))
		r, err := Redact(s, []*ent.Job{j})
		require.NoError(t, err)
		assert.Equal(t, "me@x", self.Email, "own email stays")
		assert.Empty(t, other.Email)
		assert.Empty(t, other.Phone)
		assert.Equal(t, []string{"email", "phone"}, r.Fields(other))
		assert.Nil(t, r.Fields(self))
		assert.NotNil(t, j.SalaryMax)
	})
	t.Run("Client", func(t *testing.T) {
		j, _, other := mk()
		s := scopeOf(t, ctxFor(t, 4, scope.RoleClient, false))
		r, err := Redact(s, j)
		require.NoError(t, err)
		assert.Nil(t, j.SalaryMax)
		assert.Equal(t, []string{"salary_max"}, r.Fields(j))
		assert.Empty(t, other.Email, "preloaded author is redacted too")
	})
	t.Run("Admin", func(t *testing.T) {
		j, _, other := mk()
		s := scopeOf(t, ctxFor(t, 1, scope.RoleAdmin, false))
		r, err := Redact(s, j)
		require.NoError(t, err)
		assert.Empty(t, r)
		assert.Equal(t, "o@x", other.Email)
		assert.NotNil(t, j.SalaryMax)
	})
}

// TestRedactionsDriveRedact: Redact applies every row of the table, and
// only those: each row's field, set on an entity of its type, is zeroed
// and named for a scope that may not read it (a client reading another
// user), and left for the system scope.
func TestRedactionsDriveRedact(t *testing.T) {
	client := scopeOf(t, ctxFor(t, 4, scope.RoleClient, false))
	for _, row := range Redactions {
		t.Run(row.Object+"."+row.Field, func(t *testing.T) {
			e, field := entityWith(t, row)
			r, err := Redact(client, e.Interface())
			require.NoError(t, err)
			assert.True(t, field.IsZero(), "not zeroed")
			assert.Equal(t, RedactedFieldsOf(row.Object), r.Fields(e.Interface()))

			sys, err := scope.System("test").Scope()
			require.NoError(t, err)
			e, field = entityWith(t, row)
			r, err = Redact(sys, e.Interface())
			require.NoError(t, err)
			assert.False(t, field.IsZero(), "zeroed for the system scope")
			assert.Empty(t, r)
		})
	}
}

// entityWith returns a new entity of row's type whose redactable fields
// (every row's of its object) are set, and row's field.
func entityWith(t *testing.T, row Redaction) (reflect.Value, reflect.Value) {
	t.Helper()
	e := reflect.New(row.typ.Elem())
	e.Elem().FieldByName("ID").SetInt(99)
	var field reflect.Value
	for _, other := range Redactions {
		if other.typ != row.typ {
			continue
		}
		f := fieldByJSON(e.Elem(), other.Field)
		require.True(t, f.IsValid(), "%v has no field %q", row.typ, other.Field)
		switch f.Kind() {
		case reflect.String:
			f.SetString("x")
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
		default:
			t.Fatalf("%s.%s: set a %v", other.Object, other.Field, f.Kind())
		}
		if other.Field == row.Field {
			field = f
		}
	}
	return e, field
}

func fieldByJSON(v reflect.Value, name string) reflect.Value {
	for i := range v.NumField() {
		if tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ","); tag == name {
			return v.Field(i)
		}
	}
	return reflect.Value{}
}

// TestRedactWalksEveryEdge: under every edge of every known type Redact
// visits what is loaded (an entity, or each of a list), so a field to hide
// is hidden however deep it was preloaded; an edge to a type it does not
// know (a session) fails closed.
func TestRedactWalksEveryEdge(t *testing.T) {
	s := scopeOf(t, ctxFor(t, 4, scope.RoleClient, false))
	for typ, object := range objects {
		edges := reflect.New(typ.Elem()).Elem().FieldByName("Edges")
		for i := range edges.NumField() {
			f := edges.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			t.Run(object+"."+f.Name, func(t *testing.T) {
				parent := reflect.New(typ.Elem())
				target := reflect.New(f.Type)
				elem := f.Type
				if f.Type.Kind() == reflect.Slice {
					elem = f.Type.Elem()
				}
				child := reflect.New(elem.Elem())
				if f.Type.Kind() == reflect.Slice {
					target.Elem().Set(reflect.Append(target.Elem(), child))
				} else {
					target.Elem().Set(child)
				}
				parent.Elem().FieldByName("Edges").Field(i).Set(target.Elem())
				w := redactWalk{s: s, out: Redacted{}, seen: map[any]bool{}}
				err := w.walk(parent)
				if _, known := objects[elem]; !known {
					assert.ErrorIs(t, err, ErrUnredactable, "an edge to %v", elem)
					return
				}
				require.NoError(t, err)
				assert.True(t, w.seen[child.Interface()], "%s not visited", f.Name)
			})
		}
	}
}

// TestRedactFailsClosed: a value Redact does not know is an error, never
// passed through; nothing (nil, an empty list) is nothing to redact.
func TestRedactFailsClosed(t *testing.T) {
	s := scopeOf(t, ctxFor(t, 3, scope.RoleMember, false))
	for _, v := range []any{&ent.Session{TokenHash: "secret"}, []*ent.AuditEvent{{}}, ent.User{}, "a string", map[string]any{}} {
		_, err := Redact(s, v)
		assert.ErrorIs(t, err, ErrUnredactable, "%T", v)
	}
	u := &ent.User{ID: 9, Email: "o@x"}
	u.Edges.Sessions = []*ent.Session{{TokenHash: "secret"}}
	_, err := Redact(s, u)
	assert.ErrorIs(t, err, ErrUnredactable, "a user with their sessions loaded")
	// ent's WithNamedManagers fills an unexported map, which Redact does
	// not walk.
	j := &ent.Job{ID: 1}
	named := reflect.ValueOf(&j.Edges).Elem().FieldByName("namedManagers")
	reflect.NewAt(named.Type(), unsafe.Pointer(named.UnsafeAddr())).Elem().Set(
		reflect.ValueOf(map[string][]*ent.User{"m": {{ID: 9, Email: "o@x"}}}))
	_, err = Redact(s, j)
	assert.ErrorIs(t, err, ErrUnredactable, "a job with named managers loaded")

	for _, v := range []any{nil, (*ent.User)(nil), []*ent.Job(nil), []*ent.Job{}} {
		r, err := Redact(s, v)
		require.NoError(t, err, "%T", v)
		assert.Empty(t, r)
	}
}

func scopeOf(t *testing.T, ctx context.Context) scope.Scope {
	s, ok := scope.FromContext(ctx)
	require.True(t, ok)
	return s
}

var update = flag.Bool("update", false, "rewrite docs/policy.md")

// TestDocsCurrent fails when docs/policy.md no longer matches the rules.
// Regenerate: `go test ./internal/policy -run TestDocsCurrent -update`.
func TestDocsCurrent(t *testing.T) {
	const path = "../../docs/policy.md"
	var b strings.Builder
	require.NoError(t, Render(&b, Rules(), "markdown"))
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	}
	got, err := os.ReadFile(path)
	require.NoError(t, err, "generate it with -update")
	if string(got) != b.String() {
		t.Fatalf("%s is stale: run `go test ./internal/policy -run TestDocsCurrent -update` and commit it", path)
	}
	for _, f := range listing.Formats {
		require.NoError(t, Render(&strings.Builder{}, Rules(), f))
	}
	assert.ErrorIs(t, Render(&strings.Builder{}, Rules(), "yaml"), listing.ErrUnknownFormat)
}

func BenchmarkAuthorize(b *testing.B) {
	admin := ctxFor(b, 1, scope.RoleAdmin, false)
	manager := ctxFor(b, 2, scope.RoleManager, false)
	job := managedJob(2)
	b.Run("Allow", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := Authorize(manager, JobUpdate, job); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AllowAdmin", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := Authorize(admin, JobUpdate, job); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Deny", func(b *testing.B) {
		b.ReportAllocs()
		member := ctxFor(b, 3, scope.RoleMember, false)
		for b.Loop() {
			if err := Authorize(member, JobUpdate, job); err == nil {
				b.Fatal("allowed")
			}
		}
	})
	b.Run("Explain", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Explain(manager, JobUpdate, job); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestRulesCiteTheDesign: every rule's "design" metadata, served by GET
// /api/policy and `policy list --format json`, points at a section of
// docs/design.md that exists, so a reader can follow it.
func TestRulesCiteTheDesign(t *testing.T) {
	b, err := os.ReadFile("../../docs/design.md")
	require.NoError(t, err)
	var anchors []string
	for _, line := range strings.Split(string(b), "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			h = strings.ToLower(h)
			h = strings.Map(func(r rune) rune {
				switch {
				case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
					return r
				case r == ' ':
					return '-'
				}
				return -1
			}, h)
			anchors = append(anchors, "docs/design.md#"+h)
		}
	}
	for _, r := range Rules() {
		assert.Contains(t, anchors, r.Metadata["design"], "rule %s", r.Action)
	}
	assert.Equal(t, "docs/design.md#5-what-each-role-may-do", mustRule(t, JobUpdate).Metadata["design"])
	assert.Equal(t, "docs/design.md#3-who-sees-which-rows", mustRule(t, NoteInternal).Metadata["design"])
}

func mustRule(t *testing.T, a Action) Rule {
	t.Helper()
	r, ok := RuleFor(a)
	require.True(t, ok, "no rule for %s", a)
	return r
}
