package database

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scopegate/scopegate/internal/scope"
)

const testOrg = 7

// testScopes builds one scope of every kind that checkUpsert tells apart,
// all in organization testOrg but "inOrg other" and the all-tenant system.
func testScopes(t testing.TB) map[string]context.Context {
	t.Helper()
	must := func(s scope.Scope, err error) scope.Scope {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	user := func(role scope.Role, banned bool) scope.Scope {
		u := scope.User{ID: 1, OrgID: testOrg, Role: role, Banned: banned, Active: true}
		if role == scope.RoleClient {
			co := 3
			u.CompanyID = &co
		}
		return must(scope.ForUser(u))
	}
	scopes := map[string]scope.Scope{
		"admin":           user(scope.RoleAdmin, false),
		"banned admin":    user(scope.RoleAdmin, true),
		"manager":         user(scope.RoleManager, false),
		"member":          user(scope.RoleMember, false),
		"client":          user(scope.RoleClient, false),
		"inOrg":           must(scope.System("upsert test").InOrg(testOrg).Scope()),
		"inOrg other":     must(scope.System("upsert test").InOrg(testOrg + 1).Scope()),
		"system":          must(scope.System("upsert test").Scope()),
		"authenticator":   must(scope.Authenticator(scope.AuthLookup{Email: "a@a.test"})),
		"zero scope":      {},
		"no scope at all": {},
	}
	out := make(map[string]context.Context, len(scopes))
	for name, s := range scopes {
		if name == "no scope at all" {
			out[name] = context.Background()
			continue
		}
		out[name] = scope.NewContext(context.Background(), s)
	}
	return out
}

// The statements ent writes (see integration/upsert_test.go for how each is
// built), with the scope's organization as the fifth argument.
const (
	userInsert = `INSERT INTO "users" ("created_at", "email", "name", "org_id") VALUES ($1, $2, $3, $4) `
	// UpdateNewValues() after OnConflict(ConflictColumns("email"), UpdateWhere(EQ("org_id", org))).
	userUpdateNewValues = userInsert + `ON CONFLICT ("email") DO UPDATE SET "created_at" = "users"."created_at", ` +
		`"email" = "excluded"."email", "name" = "excluded"."name", "org_id" = "users"."org_id"`
	companyInsert = `INSERT INTO "companies" ("created_at", "name", "archived", "org_id") VALUES ($1, $2, $3, $4) `
	// OnConflictColumns("org_id", "name").UpdateNewValues().
	companyUpdateNewValues = companyInsert + `ON CONFLICT ("org_id", "name") DO UPDATE SET ` +
		`"created_at" = "companies"."created_at", "name" = "excluded"."name", "archived" = "excluded"."archived", ` +
		`"org_id" = "companies"."org_id" RETURNING "id"`
)

func userArgs(extra ...any) []any {
	return append([]any{time.Now(), "victim@b.test", "n", testOrg}, extra...)
}

type upsertCase struct {
	name  string
	query string
	args  []any
	// wantErr is "" when an admin of testOrg may send the statement, else
	// a piece of the refusal's message (the rule that failed).
	wantErr string
}

func upsertCases() []upsertCase {
	where := userUpdateNewValues + ` WHERE `
	return []upsertCase{
		// Accepted shapes.
		{"UpdateNewValues narrowed by the table's org_id", where + `"users"."org_id" = $5 RETURNING "id"`, userArgs(testOrg), ""},
		{"int64 argument", where + `"users"."org_id" = $5 RETURNING "id"`, userArgs(int64(testOrg)), ""},
		{"placeholder first", where + `$5 = "users"."org_id" RETURNING "id"`, userArgs(testOrg), ""},
		{"unqualified org_id", where + `"org_id" = $5`, userArgs(testOrg), ""},
		{"org_id among other conjuncts", where + `"users"."role" = $6 AND ("users"."name" = $7 OR "users"."name" = $8) AND "users"."org_id" = $5`,
			userArgs(testOrg, "member", "a", "b"), ""},
		{"other conjuncts ent writes", where + `"users"."phone" IS NULL AND "users"."role" IN ($6, $7) AND "users"."org_id" = $5 ` +
			`AND "users"."name" LIKE $8`, userArgs(testOrg, "member", "client", "a%"), ""},
		{"no RETURNING, final semicolon", where + `"users"."org_id" = $5;`, userArgs(testOrg), ""},
		{"company on (org_id, name)", companyUpdateNewValues, []any{time.Now(), "c1", true, testOrg}, ""},
		{"company Ignore", companyInsert + `ON CONFLICT ("org_id", "name") DO UPDATE SET "created_at" = "companies"."created_at", ` +
			`"name" = "companies"."name", "archived" = "companies"."archived", "org_id" = "companies"."org_id" RETURNING "id"`,
			[]any{time.Now(), "c1", true, testOrg}, ""},
		{"conflict target with an index predicate", companyInsert + `ON CONFLICT ("org_id", "name") WHERE "archived" = $5 ` +
			`DO UPDATE SET "name" = "excluded"."name"`, []any{time.Now(), "c1", true, testOrg, false}, ""},
		{"bulk company rows", `INSERT INTO "companies" ("name", "org_id") VALUES ($1, $2), ($3, $4) ON CONFLICT ("org_id", "name") ` +
			`DO UPDATE SET "name" = "excluded"."name"`, []any{"a", testOrg, "b", int64(testOrg)}, ""},
		{"ON CONSTRAINT with a narrowing WHERE", userInsert + `ON CONFLICT ON CONSTRAINT "users_email_key" DO UPDATE SET ` +
			`"name" = "excluded"."name" WHERE "users"."org_id" = $5`, userArgs(testOrg), ""},
		{"lower-case keywords", `insert into "companies" ("name", "org_id") values ($1, $2) on conflict ("org_id", "name") ` +
			`do update set "name" = "excluded"."name" returning "id"`, []any{"a", testOrg}, ""},
		{"quoted identifiers with escaped quotes", `INSERT INTO "we""ird" ("na""me", "org_id") VALUES ($1, $2) ON CONFLICT ("na""me") ` +
			`DO UPDATE SET "na""me" = "excluded"."na""me" WHERE "we""ird"."org_id" = $3`, []any{"a", testOrg, testOrg}, ""},
		{"SQLite backquotes and ?", "INSERT INTO `users` (`email`, `org_id`) VALUES (?, ?) ON CONFLICT (`email`) DO UPDATE SET " +
			"`email` = `excluded`.`email`, `org_id` = `users`.`org_id` WHERE `users`.`org_id` = ? RETURNING `id`",
			[]any{"a@a.test", testOrg, testOrg}, ""},
		{"SQLite company target", "INSERT INTO `companies` (`name`, `org_id`) VALUES (?, ?), (?, ?) ON CONFLICT (`org_id`, `name`) " +
			"DO UPDATE SET `name` = `excluded`.`name`", []any{"a", testOrg, "b", testOrg}, ""},

		// The hole of the pattern guard: "excluded" is the inserted row.
		{"WHERE on excluded.org_id", userInsert + `ON CONFLICT ("email") DO UPDATE SET "name" = "excluded"."name" ` +
			`WHERE "excluded"."org_id" = $5 RETURNING "id"`, userArgs(testOrg), "rule 2"},
		{"SET org_id from excluded", userInsert + `ON CONFLICT ("email") DO UPDATE SET "name" = "excluded"."name", ` +
			`"org_id" = "excluded"."org_id" WHERE "users"."org_id" = $5`, userArgs(testOrg), "rule 3"},
		{"ResolveWithNewValues sets org_id from excluded", userInsert + `ON CONFLICT ("email") DO UPDATE SET ` +
			`"created_at" = "excluded"."created_at", "email" = "excluded"."email", "name" = "excluded"."name", ` +
			`"org_id" = "excluded"."org_id" WHERE "users"."org_id" = $5 RETURNING "id"`, userArgs(testOrg), "rule 3"},
		{"SET org_id from excluded on a pinned target", companyInsert + `ON CONFLICT ("org_id", "name") DO UPDATE SET ` +
			`"org_id" = "excluded"."org_id"`, []any{time.Now(), "c1", true, testOrg}, "rule 3"},
		{"SET ORG_ID in another case", "INSERT INTO `users` (`email`, `org_id`) VALUES (?, ?) ON CONFLICT (`email`) DO UPDATE SET " +
			"`ORG_ID` = `excluded`.`ORG_ID` WHERE `users`.`org_id` = ?", []any{"a@a.test", testOrg, testOrg}, "rule 3"},
		{"SET org_id = $N", where + `"users"."org_id" = $5`, userArgs(testOrg), ""}, // control for the next
		{"SET org_id = $N", userInsert + `ON CONFLICT ("email") DO UPDATE SET "org_id" = $5 WHERE "users"."org_id" = $5`,
			userArgs(testOrg), "rule 3"},
		{"WHERE with OR", where + `"users"."org_id" = $5 OR "users"."id" = $6`, userArgs(testOrg, 1), "rule 2"},
		{"WHERE with NOT", where + `NOT "users"."id" = $6 AND "users"."org_id" = $5`, userArgs(testOrg, 1), "rule 2"},
		{"BETWEEN's AND is no conjunction", where + `$6 BETWEEN $7 AND "users"."org_id" = $5`, userArgs(testOrg, 1, 2), "rule 2"},
		{"CASE's AND is no conjunction", where + `CASE WHEN "users"."id" = $6 AND "users"."org_id" = $5 AND "users"."id" = $6 ` +
			`THEN TRUE ELSE TRUE END`, userArgs(testOrg, 1), "rule 2"},
		{"BETWEEN with parentheses", where + `$6 BETWEEN ($7) AND "users"."org_id" = $5`, userArgs(testOrg, 1, 2), "rule 2"},
		{"a function at the top level", where + `coalesce("users"."id", $6) = $6 AND "users"."org_id" = $5`, userArgs(testOrg, 1), "rule 2"},
		{"NOT with parentheses", where + `NOT ("users"."id" = $6) AND "users"."org_id" = $5`, userArgs(testOrg, 1), "rule 2"},
		{"WHERE with another tenant's org", where + `"users"."org_id" = $5`, userArgs(testOrg + 1), "rule 2"},
		{"WHERE with the org as a string", where + `"users"."org_id" = $5`, userArgs("7"), "rule 2"},
		{"WHERE with a missing argument", where + `"users"."org_id" = $9`, userArgs(testOrg), "rule 2"},
		{"WHERE with the wrong placeholder", where + `"users"."org_id" = $2`, userArgs(testOrg), "rule 2"},
		{"WHERE on a three-part name", where + `"users"."excluded"."org_id" = $5`, userArgs(testOrg), "rule 2"},
		{"WHERE on another table", where + `"companies"."org_id" = $5`, userArgs(testOrg), "rule 2"},
		{"WHERE with a cast", where + `"users"."org_id" = $5::int`, userArgs(testOrg), "rule 2"},
		{"WHERE on an identifier that only contains org_id", where + `"users"".""org_id" = $5`, userArgs(testOrg), "rule 2"},
		{"no WHERE and a global conflict target", userUpdateNewValues + ` RETURNING "id"`, userArgs(), "rule 2"},
		{"ConflictWhere is no narrowing", userInsert + `ON CONFLICT ("email") WHERE "org_id" = $5 DO UPDATE SET ` +
			`"name" = "excluded"."name"`, userArgs(testOrg), "rule 2"},
		{"ON CONSTRAINT without WHERE", userInsert + `ON CONFLICT ON CONSTRAINT "companies_org_id_name" DO UPDATE SET ` +
			`"name" = "excluded"."name"`, userArgs(), "rule 2"},
		{"pinned target, another tenant inserted", companyUpdateNewValues, []any{time.Now(), "c1", true, testOrg + 1}, "rule 2"},
		{"pinned target, one bulk row of another tenant", `INSERT INTO "companies" ("name", "org_id") VALUES ($1, $2), ($3, $4) ` +
			`ON CONFLICT ("org_id", "name") DO UPDATE SET "name" = "excluded"."name"`, []any{"a", testOrg, "b", testOrg + 1}, "rule 2"},
		{"pinned target, org_id as a literal", `INSERT INTO "companies" ("name", "org_id") VALUES ($1, 7) ON CONFLICT ("org_id", "name") ` +
			`DO UPDATE SET "name" = "excluded"."name"`, []any{"a"}, "rule 2"},
		{"pinned target, org_id not inserted", `INSERT INTO "companies" ("name") VALUES ($1) ON CONFLICT ("org_id", "name") ` +
			`DO UPDATE SET "name" = "excluded"."name"`, []any{"a"}, "rule 2"},
		{"target column in an expression", `INSERT INTO "companies" ("name", "org_id") VALUES ($1, $2) ON CONFLICT (("org_id" + 0), "name") ` +
			`DO UPDATE SET "name" = "excluded"."name"`, []any{"a", testOrg}, "rule 2"},
		{"an immutable column from excluded (a note's author)", `INSERT INTO "notes" ("author_id", "body", "org_id") VALUES ($1, $2, $3) ` +
			`ON CONFLICT ("id") DO UPDATE SET "author_id" = "excluded"."author_id" WHERE "notes"."org_id" = $3`,
			[]any{7, "b", testOrg}, `column "author_id" is immutable`},
		{"created_at from excluded", userInsert + `ON CONFLICT ("email") DO UPDATE SET "created_at" = "excluded"."created_at" ` +
			`WHERE "users"."org_id" = $5`, userArgs(testOrg), `column "created_at" is immutable`},
		{"banning through an upsert skips the revocation hook", `INSERT INTO "users" ("banned", "email", "org_id") VALUES ($1, $2, $3) ` +
			`ON CONFLICT ("email") DO UPDATE SET "banned" = "excluded"."banned" WHERE "users"."org_id" = $3`,
			[]any{true, "a@a.test", testOrg}, `may change "banned", which only an update may`},
		{"copying banned = false needs no hook", `INSERT INTO "users" ("active", "banned", "email", "org_id") VALUES ($1, $2, $3, $4) ` +
			`ON CONFLICT ("email") DO UPDATE SET "active" = "excluded"."active", "banned" = "excluded"."banned" WHERE "users"."org_id" = $4`,
			[]any{true, false, "a@a.test", testOrg}, ""},
		{"deactivating through an upsert", `INSERT INTO "users" ("active", "email", "org_id") VALUES ($1, $2, $3) ` +
			`ON CONFLICT ("email") DO UPDATE SET "active" = "excluded"."active" WHERE "users"."org_id" = $3`,
			[]any{false, "a@a.test", testOrg}, `may change "active", which only an update may`},
		{"Update(func) sets a placeholder", userInsert + `ON CONFLICT ("email") DO UPDATE SET "name" = $5 WHERE "users"."org_id" = $6`,
			userArgs("x", testOrg), "rule 3"},
		{"SET a literal", where[:len(where)-len(" WHERE ")] + `, "name" = 'x' WHERE "users"."org_id" = $5`, userArgs(testOrg), "rule 3"},
		{"SET a function", userInsert + `ON CONFLICT ("email") DO UPDATE SET "name" = lower("excluded"."name") WHERE "users"."org_id" = $5`,
			userArgs(testOrg), "rule 3"},
		{"SET another column", userInsert + `ON CONFLICT ("email") DO UPDATE SET "name" = "excluded"."email" WHERE "users"."org_id" = $5`,
			userArgs(testOrg), "rule 3"},
		{"SET a column that was not inserted", userInsert + `ON CONFLICT ("email") DO UPDATE SET "banned" = "excluded"."banned" ` +
			`WHERE "users"."org_id" = $5`, userArgs(testOrg), "rule 3"},
		{"SET from another table", userInsert + `ON CONFLICT ("email") DO UPDATE SET "name" = "companies"."name" WHERE "users"."org_id" = $5`,
			userArgs(testOrg), "rule 3"},
		{"SET a subquery", userInsert + `ON CONFLICT ("email") DO UPDATE SET "name" = (SELECT "name" FROM "users" LIMIT 1) ` +
			`WHERE "users"."org_id" = $5`, userArgs(testOrg), "rule 3"},
		{"SET a row", userInsert + `ON CONFLICT ("email") DO UPDATE SET ("name", "email") = ("excluded"."name", "excluded"."email") ` +
			`WHERE "users"."org_id" = $5`, userArgs(testOrg), "rule 3"},

		// Shapes that are not the one INSERT the checks read.
		{"schema-qualified table", `INSERT INTO "public"."users" ("name", "org_id") VALUES ($1, $2) ON CONFLICT ("org_id", "name") ` +
			`DO UPDATE SET "name" = "excluded"."name"`, []any{"a", testOrg}, "rule 1"},
		{"table named excluded", `INSERT INTO "excluded" ("name", "org_id") VALUES ($1, $2) ON CONFLICT ("org_id", "name") ` +
			`DO UPDATE SET "name" = "excluded"."name"`, []any{"a", testOrg}, "rule 1"},
		{"INSERT … SELECT", `INSERT INTO "companies" ("name", "org_id") SELECT "name", "org_id" FROM "companies" ` +
			`ON CONFLICT ("org_id", "name") DO UPDATE SET "name" = "excluded"."name"`, nil, "rule 1"},
		{"RETURNING an expression", companyUpdateNewValues[:len(companyUpdateNewValues)-len(` RETURNING "id"`)] +
			` RETURNING (SELECT "password_hash" FROM "users" LIMIT 1)`, []any{time.Now(), "c1", true, testOrg}, "rule 1"},
		{"text after the statement", companyUpdateNewValues + ` "x"`, []any{time.Now(), "c1", true, testOrg}, "rule 1"},
		{"ON CONFLICT inside a CTE", `WITH "x" AS (` + companyUpdateNewValues + `) SELECT 1`,
			[]any{time.Now(), "c1", true, testOrg}, "inside parentheses"},
		{"two statements", companyInsert + `ON CONFLICT DO NOTHING; UPDATE "users" SET "org_id" = $5`,
			[]any{time.Now(), "c1", true, testOrg, testOrg}, "more than one statement"},
		{"two ON CONFLICT clauses", companyInsert + `ON CONFLICT ("org_id", "name") DO NOTHING ON CONFLICT ("id") DO UPDATE SET "org_id" = $5`,
			[]any{time.Now(), "c1", true, testOrg, testOrg}, "more than one ON CONFLICT"},
		{"DO UPDATE after DO NOTHING", companyInsert + `ON CONFLICT ("org_id", "name") DO NOTHING DO UPDATE SET "org_id" = $5`,
			[]any{time.Now(), "c1", true, testOrg, testOrg}, "after DO NOTHING"},
		{"neither DO NOTHING nor DO UPDATE", companyInsert + `ON CONFLICT ("org_id", "name")`, []any{time.Now(), "c1", true, testOrg}, "neither"},
		{"a comment", where + `"users"."org_id" = $5 -- x`, userArgs(testOrg), "cannot read"},
		{"a block comment", where + `"users"."org_id" = $5 /* x */`, userArgs(testOrg), "cannot read"},
		{"an E'' literal", `INSERT INTO "companies" ("name", "org_id") VALUES (E'\'', $1) ON CONFLICT ("org_id", "name") ` +
			`DO UPDATE SET "name" = "excluded"."name"`, []any{testOrg}, "cannot read"},
		{"a backslash in a literal", `INSERT INTO "companies" ("name", "org_id") VALUES ('\', $1) ON CONFLICT ("org_id", "name") ` +
			`DO UPDATE SET "name" = "excluded"."name"`, []any{testOrg}, "cannot read"},
		{"a dollar quote", `INSERT INTO "companies" ("name", "org_id") VALUES ($$a$$, $1) ON CONFLICT ("org_id", "name") ` +
			`DO UPDATE SET "name" = "excluded"."name"`, []any{testOrg}, "cannot read"},
		{"a number run into OR", where + `"users"."org_id" = $5 AND 1OR TRUE`, userArgs(testOrg), "cannot read"},
		{"a placeholder run into OR", where + `"users"."org_id" = $5OR TRUE`, userArgs(testOrg), "cannot read"},
		{"both dialects' placeholders", where + `"users"."org_id" = ?`, userArgs(testOrg), "cannot read"},
		{"an unclosed parenthesis", where + `("users"."org_id" = $5`, userArgs(testOrg), "cannot read"},
		{"an unterminated identifier", where + `"users"."org_id = $5`, userArgs(testOrg), "cannot read"},
	}
}

// TestCheckUpsertAdmin runs every case for an admin and for an InOrg system
// scope of the same organization, who are held to the same rules.
func TestCheckUpsertAdmin(t *testing.T) {
	scopes := testScopes(t)
	for _, tc := range upsertCases() {
		t.Run(tc.name, func(t *testing.T) {
			for _, who := range []string{"admin", "inOrg"} {
				err := checkUpsert(scopes[who], tc.query, tc.args)
				if tc.wantErr == "" {
					if err != nil {
						t.Errorf("%s: refused: %v\n%s", who, err, tc.query)
					}
					continue
				}
				if !errors.Is(err, ErrUnsafeUpsert) {
					t.Fatalf("%s: got %v, want ErrUnsafeUpsert\n%s", who, err, tc.query)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("%s: error %q does not say %q", who, err, tc.wantErr)
				}
			}
		})
	}
}

// TestCheckUpsertAllTenantSystem: the all-tenant system scope may send
// every statement the other scopes may, and is not held to a tenant; but it
// too may not set immutable or update-hook columns from an upsert.
func TestCheckUpsertAllTenantSystem(t *testing.T) {
	ctx := testScopes(t)["system"]
	protected := []string{"is immutable", "which only an update may"}
	for _, tc := range upsertCases() {
		err := checkUpsert(ctx, tc.query, tc.args)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case slices.ContainsFunc(protected, func(p string) bool { return strings.Contains(tc.wantErr, p) }) && !errors.Is(err, ErrUnsafeUpsert):
			t.Errorf("%s: got %v, want ErrUnsafeUpsert", tc.name, err)
		}
	}
	pinnedOnly := upsertCase{query: userInsert + `ON CONFLICT ("email") DO UPDATE SET "name" = $5`, args: userArgs(testOrg, "x")}
	if err := checkUpsert(ctx, pinnedOnly.query, pinnedOnly.args); err != nil {
		t.Errorf("an unpinned upsert setting a plain column: %v", err)
	}
}

// TestCheckUpsertScopes: only an unbanned admin and an InOrg system scope of
// the statement's organization may DO UPDATE; everyone may send a statement
// that rewrites nothing.
func TestCheckUpsertScopes(t *testing.T) {
	safe := upsertCase{query: userUpdateNewValues + ` WHERE "users"."org_id" = $5 RETURNING "id"`, args: userArgs(testOrg)}
	may := map[string]bool{"admin": true, "inOrg": true, "system": true}
	for who, ctx := range testScopes(t) {
		err := checkUpsert(ctx, safe.query, safe.args)
		switch {
		case may[who] && err != nil:
			t.Errorf("%s: refused: %v", who, err)
		case !may[who] && !errors.Is(err, ErrUnsafeUpsert):
			t.Errorf("%s: got %v, want ErrUnsafeUpsert", who, err)
		}
	}
	rewritesNothing := []upsertCase{
		{name: "plain INSERT", query: companyInsert + `RETURNING "id"`},
		{name: "DO NOTHING", query: userInsert + `ON CONFLICT ("email") DO NOTHING RETURNING "id"`},
		{name: "SQLite DO NOTHING without target", query: "INSERT INTO `users` (`email`) VALUES (?) ON CONFLICT DO NOTHING"},
		{name: "a literal containing ON CONFLICT", query: `INSERT INTO "companies" ("name", "org_id") VALUES ` +
			`(' ON CONFLICT ("email") DO UPDATE SET "org_id" = 8', $1)`},
		{name: "an identifier containing ON CONFLICT", query: `SELECT "x ON CONFLICT DO UPDATE" FROM "users" WHERE "conflict" = $1`},
		{name: "the word conflict elsewhere", query: `SELECT conflict FROM "t" WHERE "a" = $1`},
		{name: "a comment without the word", query: `SELECT "a" FROM "t" WHERE "a" = $1 -- no upsert`},
		{name: "UPDATE", query: `UPDATE "users" SET "name" = $1 WHERE "users"."org_id" = $2`},
	}
	for _, tc := range rewritesNothing {
		for who, ctx := range testScopes(t) {
			if err := checkUpsert(ctx, tc.query, []any{testOrg}); err != nil {
				t.Errorf("%s, %s: %v", tc.name, who, err)
			}
		}
	}
}

// TestCheckUpsertUnreadable: a statement that mentions conflict and cannot
// be tokenized is refused to every scope, even if it is no upsert: the guard
// cannot tell (ent writes no comments).
func TestCheckUpsertUnreadable(t *testing.T) {
	q := `SELECT "a" FROM "t" WHERE "a" = $1 -- ON CONFLICT`
	for who, ctx := range testScopes(t) {
		err := checkUpsert(ctx, q, []any{1})
		if !errors.Is(err, ErrUnsafeUpsert) || !strings.Contains(err.Error(), "cannot read") {
			t.Errorf("%s: got %v", who, err)
		}
	}
}

func TestTokenize(t *testing.T) {
	toks, err := tokenize("INSERT INTO \"a\"\"b\" (`c``d`) VALUES ('it''s', 1.5e3, ?, ?) ON CONFLICT (\"x\") DO UPDATE SET \"x\" <> 2")
	if err != nil {
		t.Fatal(err)
	}
	want := []token{
		{kind: tWord, text: "INSERT"}, {kind: tWord, text: "INTO"}, {kind: tIdent, text: `a"b`},
		{kind: tPunct, text: "("}, {kind: tIdent, text: "c`d", depth: 1}, {kind: tPunct, text: ")"},
		{kind: tWord, text: "VALUES"}, {kind: tPunct, text: "("}, {kind: tString, text: "it's", depth: 1},
		{kind: tPunct, text: ",", depth: 1}, {kind: tNumber, text: "1.5e3", depth: 1}, {kind: tPunct, text: ",", depth: 1},
		{kind: tParam, text: "?", param: 1, depth: 1}, {kind: tPunct, text: ",", depth: 1},
		{kind: tParam, text: "?", param: 2, depth: 1}, {kind: tPunct, text: ")"},
		{kind: tWord, text: "ON"}, {kind: tWord, text: "CONFLICT"}, {kind: tPunct, text: "("},
		{kind: tIdent, text: "x", depth: 1}, {kind: tPunct, text: ")"}, {kind: tWord, text: "DO"},
		{kind: tWord, text: "UPDATE"}, {kind: tWord, text: "SET"}, {kind: tIdent, text: "x"},
		{kind: tPunct, text: "<>"}, {kind: tNumber, text: "2"},
	}
	if len(toks) != len(want) {
		t.Fatalf("got %d tokens %+v, want %d", len(toks), toks, len(want))
	}
	for i := range want {
		if toks[i] != want[i] {
			t.Errorf("token %d: got %+v, want %+v", i, toks[i], want[i])
		}
	}
	for _, bad := range []string{`"`, `""`, `'a`, `(`, `)`, `(]`, `$`, `$a`, `$1a`, `?1`, `1a`, `x -- y`, `x /* y */`,
		`E'a'`, `'\'`, `$1 ?`, "$1 `x`", `{`, `\`} {
		if _, err := tokenize(bad); err == nil {
			t.Errorf("tokenize(%q) succeeded", bad)
		}
	}
}

// FuzzCheckUpsert: no input panics, and whatever an admin (or a member) is
// allowed to send satisfies the invariants of the guard, checked here with
// code of its own.
func FuzzCheckUpsert(f *testing.F) {
	for _, tc := range upsertCases() {
		f.Add(tc.query, orgMask(tc.args))
	}
	// Found by the fuzzer.
	f.Add("(DO UPDATE)", uint16(0))
	f.Add("ON CONFLICT()DO NOTHING DO UPDATE", uint16(0))
	scopes := testScopes(f)
	f.Fuzz(func(t *testing.T, query string, mask uint16) {
		args := fuzzArgs(mask)
		for _, ctx := range scopes {
			_ = checkUpsert(ctx, query, args) // must not panic
		}
		if checkUpsert(scopes["admin"], query, args) == nil {
			assertUpsertInvariants(t, query, args, true)
		}
		if checkUpsert(scopes["member"], query, args) == nil {
			assertUpsertInvariants(t, query, args, false)
		}
	})
}

// fuzzArgs returns 16 arguments; argument i is the organization when bit i
// of mask is set (as an int or an int64), else another number.
func fuzzArgs(mask uint16) []any {
	args := make([]any, 16)
	for i := range args {
		switch {
		case mask&(1<<i) == 0:
			args[i] = 100 + i
		case i%2 == 0:
			args[i] = testOrg
		default:
			args[i] = int64(testOrg)
		}
	}
	return args
}

func orgMask(args []any) uint16 {
	var m uint16
	for i, a := range args {
		if i < 16 && (a == any(testOrg) || a == any(int64(testOrg))) {
			m |= 1 << i
		}
	}
	return m
}

// assertUpsertInvariants checks an accepted statement: if it does DO UPDATE
// anywhere, it is one INSERT INTO "T" whose SET only copies excluded or T
// columns (org_id only T's own) and whose updated row is pinned to testOrg;
// a member (mayUpdate false) never gets a DO UPDATE through.
func assertUpsertInvariants(t *testing.T, query string, args []any, mayUpdate bool) {
	toks, err := tokenize(query)
	if err != nil {
		if containsFoldASCII(query, "conflict") {
			t.Fatalf("accepted a statement that mentions conflict and does not tokenize: %v", err)
		}
		return
	}
	if !hasOnConflict(toks) {
		return // nothing can be rewritten without ON CONFLICT
	}
	set := -1
	for i := 0; i+1 < len(toks); i++ {
		if toks[i].isWord("DO") && toks[i+1].isWord("UPDATE") {
			if set >= 0 || toks[i].depth != 0 {
				t.Fatalf("accepted a nested or second DO UPDATE: %s", query)
			}
			set = i + 3
		}
	}
	if set < 0 {
		return
	}
	if !mayUpdate {
		t.Fatalf("accepted a member's DO UPDATE: %s", query)
	}
	if len(toks) < 4 || !toks[0].isWord("INSERT") || !toks[1].isWord("INTO") || toks[2].kind != tIdent || toks[3].isPunct(".") {
		t.Fatalf("accepted a DO UPDATE that is not INSERT INTO one table: %s", query)
	}
	table := toks[2].text
	end := set
	for end < len(toks) && !(toks[end].depth == 0 && (toks[end].isWord("WHERE") || toks[end].isWord("RETURNING") || toks[end].isPunct(";"))) {
		end++
	}
	assertSetInvariants(t, query, toks[set:end], table)
	if !wherePins(toks[end:], table, args) && !targetPins(toks) {
		t.Fatalf("accepted a DO UPDATE not pinned to the tenant: %s", query)
	}
}

func hasOnConflict(toks []token) bool {
	for i := 0; i+1 < len(toks); i++ {
		if toks[i].isWord("ON") && toks[i+1].isWord("CONFLICT") {
			return true
		}
	}
	return false
}

func assertSetInvariants(t *testing.T, query string, set []token, table string) {
	for i, tk := range set {
		switch {
		case tk.kind == tParam || tk.kind == tString || tk.kind == tNumber || tk.kind == tWord:
			t.Fatalf("accepted a SET with %q in it: %s", tk.text, query)
		case tk.kind == tIdent && tk.text == "excluded" && i+2 < len(set) && isOrgColumn(set[i+2].text):
			t.Fatalf("accepted a SET from excluded.org_id: %s", query)
		case tk.kind == tIdent && isOrgColumn(tk.text) && i+1 < len(set) && set[i+1].isPunct("="):
			if i+4 >= len(set) || set[i+2].text != table || set[i+4].text != tk.text {
				t.Fatalf("accepted a SET of org_id to something but its own: %s", query)
			}
		}
	}
}

// wherePins looks for `T.org_id = $N` or `org_id = $N`, either way round,
// between top-level ANDs (or the ends) of the WHERE at the start of rest,
// in a WHERE without top-level OR, NOT, CASE or BETWEEN.
func wherePins(rest []token, table string, args []any) bool {
	if len(rest) == 0 || !rest[0].isWord("WHERE") {
		return false
	}
	var where []token
	for _, tk := range rest[1:] {
		if tk.depth == 0 && (tk.isWord("RETURNING") || tk.isPunct(";")) {
			break
		}
		if tk.depth == 0 && (tk.isWord("OR") || tk.isWord("NOT") || tk.isWord("CASE") || tk.isWord("BETWEEN")) {
			return false
		}
		where = append(where, tk)
	}
	bounded := func(i, n int) bool {
		return (i == 0 || where[i-1].isWord("AND")) && (i+n == len(where) || where[i+n].isWord("AND"))
	}
	isOrg := func(p token) bool {
		return p.kind == tParam && p.param >= 1 && p.param <= len(args) && argIsOrgValue(args[p.param-1])
	}
	for i := range where {
		w := where[i:]
		switch {
		case len(w) >= 5 && w[0].isIdent(table) && w[1].isPunct(".") && w[2].isIdent("org_id") && w[3].isPunct("=") && isOrg(w[4]) && bounded(i, 5),
			len(w) >= 5 && isOrg(w[0]) && w[1].isPunct("=") && w[2].isIdent(table) && w[3].isPunct(".") && w[4].isIdent("org_id") && bounded(i, 5),
			len(w) >= 3 && w[0].isIdent("org_id") && w[1].isPunct("=") && isOrg(w[2]) && bounded(i, 3),
			len(w) >= 3 && isOrg(w[0]) && w[1].isPunct("=") && w[2].isIdent("org_id") && bounded(i, 3):
			return true
		}
	}
	return false
}

// targetPins looks for "org_id" as one column of the conflict target list.
func targetPins(toks []token) bool {
	for i := 0; i+4 < len(toks); i++ {
		if !toks[i].isWord("CONFLICT") || !toks[i+1].isPunct("(") {
			continue
		}
		for j := i + 2; j+1 < len(toks) && toks[j].depth > 0; j++ {
			if toks[j].isIdent("org_id") && toks[j].depth == 1 && (toks[j-1].isPunct("(") || toks[j-1].isPunct(",")) &&
				(toks[j+1].isPunct(",") || toks[j+1].isPunct(")")) {
				return true
			}
		}
	}
	return false
}

func argIsOrgValue(a any) bool { return a == any(testOrg) || a == any(int64(testOrg)) }
