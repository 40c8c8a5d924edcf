package database

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/internal/scope"
)

// checkUpsert guards INSERT … ON CONFLICT … DO UPDATE, which ent's privacy
// rules cannot see: the mutation rules check the row being inserted, never
// the row the conflict lands on nor the values of the DO UPDATE. So:
//
//   - a statement without ON CONFLICT, or with ON CONFLICT … DO NOTHING,
//     rewrites nothing and passes;
//   - the all-tenant system scope may upsert anything;
//   - no scope, the authenticator and users other than unbanned admins may
//     not DO UPDATE at all: they do not see every row of their tenant, so
//     the row the conflict hits may be hidden from them;
//   - an admin or an InOrg system scope may, when the statement has the
//     shape checked by checkUpdate.
//
// The statement is read as tokens, never matched as text: a literal or a
// quoted identifier may contain any words, and `"excluded"."org_id"` looks
// like the target table's org_id to a pattern while pinning nothing.
func checkUpsert(ctx context.Context, query string, args any) error {
	if !containsFoldASCII(query, "conflict") {
		// Without these letters there is no CONFLICT keyword, so this
		// cannot be an upsert: every other statement skips the tokenizer.
		return nil
	}
	s, ok := scope.FromContext(ctx)
	org, narrowed := s.OrgID()
	toks, err := tokenize(query)
	if err != nil {
		return fmt.Errorf("%w: cannot read the statement: %w", ErrUnsafeUpsert, err)
	}
	at, err := findOnConflict(toks)
	if err != nil || at < 0 {
		return err
	}
	update, err := doesUpdate(toks[at+2:])
	if err != nil || !update {
		return err
	}
	if ok && s.IsSystem() && !narrowed {
		// The all-tenant system scope may rewrite any row, but not what
		// no mutation may change either.
		return checkProtected(toks, args)
	}
	if err := mayUpsert(s, ok); err != nil {
		return err
	}
	return checkUpdate(toks, args, org)
}

// checkProtected holds every scope, the all-tenant system scope included,
// to the columns no update may set from an upsert: immutable fields keep
// their value, and update-hook columns take only their harmless value.
func checkProtected(toks []token, args any) error {
	st, err := parseUpsert(toks)
	if err != nil {
		return broke(rule1, err)
	}
	inserted := make(map[string]bool, len(st.columns))
	for _, c := range st.columns {
		inserted[c] = true
	}
	for _, a := range splitTokens(st.set, 0, func(t token) bool { return t.isPunct(",") }) {
		if len(a) == 0 || a[0].kind != tIdent {
			return broke(rule3, fmt.Errorf("%s: not an assignment to a column", render(a)))
		}
		col := a[0].text
		_, hook := updateHookColumns[st.table][col]
		if !hook && !slices.Contains(ent.ImmutableColumns[st.table], col) {
			continue
		}
		if err := checkAssignment(a, st.table, inserted); err != nil {
			return broke(rule3, fmt.Errorf("%s: %w", render(a), err))
		}
		if err := checkHookColumn(st, a, args); err != nil {
			return broke(rule3, fmt.Errorf("%s: %w", render(a), err))
		}
	}
	return nil
}

// mayUpsert refuses an ON CONFLICT … DO UPDATE to every scope but an
// unbanned admin and an InOrg system scope (the all-tenant system scope was
// let through before).
func mayUpsert(s scope.Scope, ok bool) error {
	_, narrowed := s.OrgID()
	switch {
	case !ok || !narrowed || s.IsAuthenticator():
		return unsafe("no tenant to keep it in")
	case s.IsSystem():
		return nil
	case s.IsUser() && s.Role() == scope.RoleAdmin && !s.Banned():
		return nil
	}
	return unsafe("only unbanned admins, who see every row of their tenant, may upsert")
}

// unsafe wraps ErrUnsafeUpsert with the reason an upsert was refused.
func unsafe(reason string) error { return fmt.Errorf("%w: %s", ErrUnsafeUpsert, reason) }

// The rules of checkUpdate, named in its refusals.
const (
	rule1 = "rule 1 (INSERT INTO one table … ON CONFLICT … DO UPDATE SET …)"
	rule2 = "rule 2 (the updated row is pinned to the tenant)"
	rule3 = "rule 3 (SET takes the inserted value or keeps the row's own)"
)

// broke wraps ErrUnsafeUpsert and err, saying which rule err breaks.
func broke(rule string, err error) error { return fmt.Errorf("%w: %s: %w", ErrUnsafeUpsert, rule, err) }

// findOnConflict returns the index of the ON of the statement's one ON
// CONFLICT, or -1 without one. An ON CONFLICT inside parentheses (a CTE),
// a second one (SQLite chains them) or a second statement is refused: each
// would hide an upsert from the checks below, which read one INSERT.
func findOnConflict(toks []token) (int, error) {
	at := -1
	for i, t := range toks {
		if t.isPunct(";") && i != len(toks)-1 {
			return -1, unsafe("more than one statement")
		}
		if !t.isWord("ON") || i+1 == len(toks) || !toks[i+1].isWord("CONFLICT") {
			continue
		}
		switch {
		case t.depth != 0:
			return -1, unsafe("ON CONFLICT inside parentheses")
		case at >= 0:
			return -1, unsafe("more than one ON CONFLICT")
		}
		at = i
	}
	return at, nil
}

// doesUpdate reads what follows ON CONFLICT and reports whether the
// conflict action is DO UPDATE (false for DO NOTHING). After DO NOTHING
// only RETURNING columns may follow: anything else is no statement ent
// writes, and might hide a DO UPDATE.
func doesUpdate(rest []token) (bool, error) {
	for i, t := range rest {
		if t.depth != 0 || !t.isWord("DO") {
			continue
		}
		if i+1 < len(rest) && rest[i+1].isWord("UPDATE") {
			return true, nil
		}
		if i+1 == len(rest) || !rest[i+1].isWord("NOTHING") {
			break
		}
		if err := parseEnd(&parser{toks: rest[i+2:]}); err != nil {
			return false, fmt.Errorf("%w: after DO NOTHING: %w", ErrUnsafeUpsert, err)
		}
		return false, nil
	}
	return false, unsafe("ON CONFLICT is followed by neither DO NOTHING nor DO UPDATE")
}

// checkUpdate checks an admin's or an InOrg system scope's DO UPDATE:
//
//  1. it is INSERT INTO "T" (…) VALUES (…)… ON CONFLICT … DO UPDATE SET …
//     [WHERE …] [RETURNING …], T a single identifier;
//  2. the row it rewrites is pinned to the scope's organization: by a
//     conflict target naming "org_id" (the conflicting row then has the
//     inserted org_id, which must be the scope's), or by a top-level
//     conjunct "T"."org_id" = $N of the DO UPDATE's WHERE, $N the scope's
//     organization;
//  3. each assignment takes the value the INSERT carried ("excluded") or
//     keeps the row's own: a value set only on the update side would skip
//     the mutation rules (link checks, the write policy), and "org_id"
//     keeps its own value, always.
func checkUpdate(toks []token, args any, org int) error {
	st, err := parseUpsert(toks)
	if err != nil {
		return broke(rule1, err)
	}
	if err := checkPinned(st, args, org); err != nil {
		return err
	}
	return checkAssignments(st, args)
}

// checkPinned enforces rule 2 of checkUpdate.
func checkPinned(st *upsertStmt, args any, org int) error {
	if whereFiltersOrg(st.where, st.table, args, org) {
		return nil
	}
	names, err := targetNamesOrg(st.target)
	if err != nil {
		return broke(rule2, err)
	}
	if !names {
		return broke(rule2, fmt.Errorf(`the conflict target does not name "org_id" and the DO UPDATE has `+
			`no top-level WHERE "%s"."org_id" = <the scope's organization %d>`, st.table, org))
	}
	// The conflict target pins the updated row to the inserted org_id, so
	// that value must be the scope's whatever the mutation rules said.
	if err := insertsOrg(st, args, org); err != nil {
		return broke(rule2, fmt.Errorf(`the conflict target names "org_id", but %w`, err))
	}
	return nil
}

// checkAssignments enforces rule 3 of checkUpdate.
func checkAssignments(st *upsertStmt, args any) error {
	inserted := make(map[string]bool, len(st.columns))
	for _, c := range st.columns {
		inserted[c] = true
	}
	for _, a := range splitTokens(st.set, 0, func(t token) bool { return t.isPunct(",") }) {
		if err := checkAssignment(a, st.table, inserted); err != nil {
			return broke(rule3, fmt.Errorf("%s: %w", render(a), err))
		}
		if err := checkHookColumn(st, a, args); err != nil {
			return broke(rule3, fmt.Errorf("%s: %w", render(a), err))
		}
	}
	return nil
}

// updateHookColumns are columns whose change an update hook acts on, with
// the one value that needs no action: banning or deactivating a user
// revokes their sessions (docs/design.md section 3, rule 9). An upsert's DO UPDATE
// runs no update hook, so it may copy only that value from the insert.
var updateHookColumns = map[string]map[string]any{
	user.Table: {user.FieldBanned: false, user.FieldActive: true},
}

// checkHookColumn refuses an assignment from "excluded" of an update-hook
// column unless every inserted row carries the column's harmless value.
func checkHookColumn(st *upsertStmt, a []token, args any) error {
	col := a[0].text
	safe, ok := updateHookColumns[st.table][col]
	if !ok || a[2].text == st.table {
		return nil
	}
	at := slices.Index(st.columns, col)
	for i, row := range st.rows {
		v := row[at]
		if len(v) != 1 || v[0].kind != tParam || !argEquals(args, v[0].param, safe) {
			return fmt.Errorf("row %d may change %q, which only an update may (its hook revokes sessions)", i+1, col)
		}
	}
	return nil
}

// argEquals reports whether the 1-based argument n of args equals want.
func argEquals(args any, n int, want any) bool {
	list, ok := args.([]any)
	return ok && n >= 1 && n <= len(list) && list[n-1] == want
}

// checkAssignment checks one `"col" = "excluded"."col"` or
// `"col" = "T"."col"`.
func checkAssignment(a []token, table string, inserted map[string]bool) error {
	if len(a) != 5 || a[0].kind != tIdent || !a[1].isPunct("=") || a[2].kind != tIdent ||
		!a[3].isPunct(".") || a[4].kind != tIdent {
		return errors.New(`not "col" = "excluded"."col" or "col" = "<table>"."col"`)
	}
	col, from, src := a[0].text, a[2].text, a[4].text
	switch {
	case src != col:
		return fmt.Errorf("takes the value of another column (%q)", src)
	case isOrgColumn(col) && from != table:
		// "excluded"."org_id" is the inserted value: it could move the row.
		return fmt.Errorf(`"org_id" may only keep its own value ("%s"."org_id")`, table)
	case from == table:
		return nil
	case from != "excluded":
		return fmt.Errorf("reads table %q", from)
	case slices.Contains(ent.ImmutableColumns[table], col):
		// An immutable field (a note's author, a job's creator) is
		// never changed by a mutation; the upsert may not either.
		return fmt.Errorf("column %q is immutable", col)

	case !inserted[col]:
		// "excluded"."col" of a column the INSERT left out is its default,
		// which no mutation rule saw.
		return fmt.Errorf("column %q is not inserted", col)
	}
	return nil
}

// whereFiltersOrg reports whether the DO UPDATE's WHERE is a conjunction
// one of whose terms is "T"."org_id" = $N (or $N = "T"."org_id", or the
// unqualified "org_id", which means T's) with $N the scope's organization.
// Its top level may only hold the keywords of conjunctionWords: an OR or a
// NOT could undo the term, and the AND of BETWEEN or of a CASE WHEN is no
// conjunction (CASE WHEN "a" = $1 AND <term> AND "b" = $2 THEN TRUE …).
func whereFiltersOrg(where []token, table string, args any, org int) bool {
	for _, t := range where {
		if t.depth == 0 && t.kind == tWord && !conjunctionWords[upperASCII(t.text)] {
			return false
		}
	}
	for _, term := range splitTokens(where, 0, func(t token) bool { return t.isWord("AND") }) {
		if n, ok := orgEquals(term, table); ok && argIsOrg(args, n, org) {
			return true
		}
	}
	return false
}

// conjunctionWords are the keywords that may sit at the top level of a
// WHERE read as a conjunction: none of them can reach over an AND.
var conjunctionWords = map[string]bool{
	"AND": true, "IS": true, "NULL": true, "TRUE": true, "FALSE": true, "IN": true, "LIKE": true,
	"ILIKE": true, "ESCAPE": true, "DISTINCT": true, "FROM": true, "ANY": true, "ALL": true, "SOME": true,
	"EXISTS": true,
}

// orgEquals returns N for a term `<org column of table> = $N` or
// `$N = <org column of table>`.
func orgEquals(term []token, table string) (int, bool) {
	for _, eq := range []int{1, 3} {
		if eq >= len(term) || !term[eq].isPunct("=") {
			continue
		}
		left, right := term[:eq], term[eq+1:]
		if len(left) == 1 && left[0].kind == tParam && isTableOrg(right, table) {
			return left[0].param, true
		}
		if len(right) == 1 && right[0].kind == tParam && isTableOrg(left, table) {
			return right[0].param, true
		}
	}
	return 0, false
}

// isTableOrg reports whether toks are "T"."org_id" or "org_id" alone. Any
// other qualifier, "excluded" above all, is not T's row.
func isTableOrg(toks []token, table string) bool {
	switch len(toks) {
	case 1:
		return toks[0].isIdent("org_id")
	case 3:
		return toks[0].isIdent(table) && toks[1].isPunct(".") && toks[2].isIdent("org_id")
	}
	return false
}

// targetNamesOrg reports whether a conflict target `("a", "b") [WHERE …]`
// has the bare column "org_id" among its columns. ON CONSTRAINT and an
// omitted target (SQLite) name no column; other shapes are errors.
func targetNamesOrg(target []token) (bool, error) {
	if len(target) == 0 || target[0].isWord("ON") {
		return false, nil
	}
	p := &parser{toks: target}
	inner, ok := p.group()
	if !ok {
		return false, errors.New("the conflict target is not a parenthesised column list")
	}
	if !p.done() && !(p.word("WHERE") && !p.done()) {
		return false, errors.New("the conflict target is not a column list and an optional WHERE")
	}
	for _, item := range splitTokens(inner, 1, func(t token) bool { return t.isPunct(",") }) {
		if len(item) == 1 && item[0].isIdent("org_id") {
			return true, nil
		}
	}
	return false, nil
}

// insertsOrg checks that every inserted row carries the scope's
// organization as its "org_id", as a placeholder.
func insertsOrg(st *upsertStmt, args any, org int) error {
	at := -1
	for i, c := range st.columns {
		if !isOrgColumn(c) {
			continue
		}
		if at >= 0 {
			return errors.New(`"org_id" is inserted twice`)
		}
		at = i
	}
	if at < 0 {
		return errors.New(`the INSERT does not set "org_id"`)
	}
	for i, row := range st.rows {
		if len(row) != len(st.columns) {
			return fmt.Errorf("row %d has %d values for %d columns", i+1, len(row), len(st.columns))
		}
		if v := row[at]; len(v) != 1 || v[0].kind != tParam || !argIsOrg(args, v[0].param, org) {
			return fmt.Errorf("row %d does not insert the scope's organization %d", i+1, org)
		}
	}
	return nil
}

// argIsOrg reports whether the 1-based argument n of args is org.
func argIsOrg(args any, n, org int) bool {
	list, ok := args.([]any)
	if !ok || n < 1 || n > len(list) {
		return false
	}
	switch v := list[n-1].(type) {
	case int:
		return v == org
	case int64:
		return v == int64(org)
	case int32:
		return int64(v) == int64(org)
	}
	return false
}

// isOrgColumn reports whether name is org_id, in any case: SQLite folds
// the case of quoted identifiers too.
func isOrgColumn(name string) bool { return equalFoldASCII(name, "org_id") }

// upsertStmt is an INSERT … ON CONFLICT … DO UPDATE cut into its parts.
type upsertStmt struct {
	table   string
	columns []string
	rows    [][][]token // VALUES rows, each cut into its values
	target  []token     // between ON CONFLICT and DO
	set     []token     // the assignments
	where   []token     // the DO UPDATE's condition, nil without one
}

// parseUpsert cuts toks into an upsertStmt, or says which part is not of
// the shape ent writes.
func parseUpsert(toks []token) (*upsertStmt, error) {
	p := &parser{toks: toks}
	st := &upsertStmt{}
	if !p.word("INSERT") || !p.word("INTO") {
		return nil, errors.New("not INSERT INTO")
	}
	var ok bool
	if st.table, ok = p.ident(); !ok || p.peekPunct(".") {
		return nil, errors.New("the target table is not one identifier")
	}
	if equalFoldASCII(st.table, "excluded") {
		return nil, errors.New(`a table named "excluded" cannot be told from the inserted row`)
	}
	if err := parseInsertRows(p, st); err != nil {
		return nil, err
	}
	if !p.word("ON") || !p.word("CONFLICT") {
		return nil, errors.New("ON CONFLICT does not follow VALUES")
	}
	st.target = p.until(func(t token) bool { return t.isWord("DO") })
	if !p.word("DO") || !p.word("UPDATE") || !p.word("SET") {
		return nil, errors.New("not DO UPDATE SET")
	}
	if err := parseUpdateTail(p, st); err != nil {
		return nil, err
	}
	return st, nil
}

// parseInsertRows reads `("a", "b") VALUES (…), (…)`.
func parseInsertRows(p *parser, st *upsertStmt) error {
	cols, ok := p.group()
	if !ok {
		return errors.New("no column list")
	}
	for _, c := range splitTokens(cols, 1, func(t token) bool { return t.isPunct(",") }) {
		if len(c) != 1 || c[0].kind != tIdent {
			return errors.New("the column list is not a list of identifiers")
		}
		st.columns = append(st.columns, c[0].text)
	}
	if !p.word("VALUES") {
		return errors.New("no VALUES")
	}
	for {
		row, ok := p.group()
		if !ok {
			return errors.New("VALUES is not a list of parenthesised rows")
		}
		st.rows = append(st.rows, splitTokens(row, 1, func(t token) bool { return t.isPunct(",") }))
		if !p.punct(",") {
			return nil
		}
	}
}

// parseUpdateTail reads `<assignments> [WHERE …] [RETURNING "a", …] [;]`.
func parseUpdateTail(p *parser, st *upsertStmt) error {
	end := func(t token) bool { return t.isWord("WHERE") || t.isWord("RETURNING") || t.isPunct(";") }
	if st.set = p.until(end); len(st.set) == 0 {
		return errors.New("no assignments")
	}
	if p.word("WHERE") {
		end = func(t token) bool { return t.isWord("RETURNING") || t.isPunct(";") }
		if st.where = p.until(end); len(st.where) == 0 {
			return errors.New("an empty WHERE")
		}
	}
	return parseEnd(p)
}

// parseEnd reads the end of the statement: `[RETURNING "a", …] [;]`.
func parseEnd(p *parser) error {
	if p.word("RETURNING") {
		// ent returns columns; an expression here could read rows the
		// scope may not see.
		for {
			if _, ok := p.ident(); !ok {
				return errors.New("RETURNING is not a list of columns")
			}
			if !p.punct(",") {
				break
			}
		}
	}
	p.punct(";")
	if !p.done() {
		return fmt.Errorf("unexpected %s at the end", render(p.toks[p.pos:p.pos+1]))
	}
	return nil
}

// parser walks the tokens of one statement. Its methods consume only
// tokens at the depth of the statement's top level (0) unless said
// otherwise.
type parser struct {
	toks []token
	pos  int
}

func (p *parser) done() bool { return p.pos >= len(p.toks) }

// word consumes the keyword kw.
func (p *parser) word(kw string) bool {
	if p.done() || !p.toks[p.pos].isWord(kw) {
		return false
	}
	p.pos++
	return true
}

// punct consumes the punctuation s.
func (p *parser) punct(s string) bool {
	if !p.peekPunct(s) {
		return false
	}
	p.pos++
	return true
}

func (p *parser) peekPunct(s string) bool { return !p.done() && p.toks[p.pos].isPunct(s) }

// ident consumes a quoted identifier.
func (p *parser) ident() (string, bool) {
	if p.done() || p.toks[p.pos].kind != tIdent {
		return "", false
	}
	p.pos++
	return p.toks[p.pos-1].text, true
}

// group consumes `( … )` and returns what is inside.
func (p *parser) group() ([]token, bool) {
	if !p.peekPunct("(") {
		return nil, false
	}
	depth := p.toks[p.pos].depth
	for i := p.pos + 1; i < len(p.toks); i++ {
		if t := p.toks[i]; t.depth == depth && t.isPunct(")") {
			inner := p.toks[p.pos+1 : i]
			p.pos = i + 1
			return inner, true
		}
	}
	return nil, false // tokenize balanced the brackets: not reached
}

// until consumes the tokens before the first top-level one for which stop
// holds (or the end), and returns them.
func (p *parser) until(stop func(token) bool) []token {
	start := p.pos
	for !p.done() && !(p.toks[p.pos].depth == 0 && stop(p.toks[p.pos])) {
		p.pos++
	}
	return p.toks[start:p.pos]
}

// splitTokens cuts toks at the separators sitting at depth. A list without
// tokens gives no parts; an empty part stays, to be refused by its reader.
func splitTokens(toks []token, depth int, sep func(token) bool) [][]token {
	if len(toks) == 0 {
		return nil
	}
	var parts [][]token
	start := 0
	for i, t := range toks {
		if t.depth == depth && sep(t) {
			parts = append(parts, toks[start:i])
			start = i + 1
		}
	}
	return append(parts, toks[start:])
}

// render writes tokens back as SQL, for error messages.
func render(toks []token) string {
	var b strings.Builder
	for i, t := range toks {
		if i > 0 && !t.isPunct(".") && !toks[i-1].isPunct(".") {
			b.WriteByte(' ')
		}
		switch t.kind {
		case tIdent:
			b.WriteString(`"` + strings.ReplaceAll(t.text, `"`, `""`) + `"`)
		case tString:
			b.WriteString(`'` + strings.ReplaceAll(t.text, `'`, `''`) + `'`)
		default:
			b.WriteString(t.text)
		}
	}
	return b.String()
}

// tokKind is the kind of a token.
type tokKind uint8

const (
	tWord   tokKind = iota + 1 // keyword or unquoted identifier
	tIdent                     // quoted identifier ("x" or `x`), text unescaped
	tString                    // string literal, text unescaped
	tParam                     // placeholder ($N, or ? numbered by position)
	tNumber                    // numeric literal
	tPunct                     // ( ) [ ] , . ; or a run of operator characters
)

// token is one lexical unit of a statement.
type token struct {
	kind  tokKind
	text  string
	param int // a placeholder's 1-based argument number
	depth int // brackets around the token; ( and ) sit outside their own
}

// isWord reports whether t is the keyword kw, in any ASCII case (as
// PostgreSQL and SQLite read keywords: "ON" and "on" alike, a quoted "ON"
// never).
func (t token) isWord(kw string) bool { return t.kind == tWord && equalFoldASCII(t.text, kw) }

func (t token) isPunct(s string) bool { return t.kind == tPunct && t.text == s }

func (t token) isIdent(name string) bool { return t.kind == tIdent && t.text == name }

// tokenize reads a PostgreSQL or SQLite statement as ent writes it. What it
// cannot read for certain the way the database would (comments, dollar
// quotes, prefixed or backslashed literals, numbers or placeholders run
// into words, placeholders of both dialects) is an error: the guard fails
// closed rather than guess.
func tokenize(src string) ([]token, error) {
	lx := &lexer{src: src}
	for lx.pos < len(src) {
		if err := lx.next(); err != nil {
			return nil, fmt.Errorf("at byte %d: %w", lx.pos, err)
		}
	}
	switch {
	case len(lx.open) > 0:
		return nil, errors.New("unclosed bracket")
	case lx.postgres && lx.sqlite:
		return nil, errors.New("mixes PostgreSQL ($N) and SQLite (? or `x`) syntax")
	}
	return lx.toks, nil
}

// lexer is the state of tokenize.
type lexer struct {
	src      string
	pos      int
	open     []byte // brackets open at pos
	marks    int    // ? placeholders read so far
	postgres bool   // read a $N placeholder
	sqlite   bool   // read a ? placeholder or a backquoted identifier
	toks     []token
}

// next reads the token at pos, or skips a space.
func (lx *lexer) next() error {
	c, rest := lx.src[lx.pos], lx.src[lx.pos:]
	switch {
	case strings.ContainsRune(" \t\n\r\f\v", rune(c)):
		lx.pos++
		return nil
	case strings.HasPrefix(rest, "--"), strings.HasPrefix(rest, "/*"):
		return errors.New("comment")
	case c == '"':
		return lx.quoted('"', tIdent)
	case c == '`':
		lx.sqlite = true
		return lx.quoted('`', tIdent)
	case c == '\'':
		return lx.literal()
	case c == '$':
		return lx.dollarParam()
	case c == '?':
		return lx.mark()
	case isDigit(c), c == '.' && len(rest) > 1 && isDigit(rest[1]):
		return lx.number()
	case isIdentStart(c):
		return lx.word()
	case c == '(' || c == '[':
		lx.emit(token{kind: tPunct, text: string(c)}, 1)
		lx.open = append(lx.open, c)
		return nil
	case c == ')' || c == ']':
		return lx.closeBracket(c)
	case c == ',' || c == ';' || c == '.':
		lx.emit(token{kind: tPunct, text: string(c)}, 1)
		return nil
	case strings.IndexByte(opChars, c) >= 0:
		return lx.operator()
	}
	return fmt.Errorf("unexpected character %q", c)
}

// opChars are the characters of operators (=, <>, ::, ||, …).
const opChars = "+-*/<>=~!@#%^&|:"

// emit appends t at the current depth and advances pos by n bytes.
func (lx *lexer) emit(t token, n int) {
	t.depth = len(lx.open)
	lx.toks = append(lx.toks, t)
	lx.pos += n
}

func (lx *lexer) closeBracket(c byte) error {
	want := byte('(')
	if c == ']' {
		want = '['
	}
	if len(lx.open) == 0 || lx.open[len(lx.open)-1] != want {
		return fmt.Errorf("unmatched %q", c)
	}
	lx.open = lx.open[:len(lx.open)-1]
	lx.emit(token{kind: tPunct, text: string(c)}, 1)
	return nil
}

// quoted reads a quoted identifier or literal whose quote is escaped by
// doubling it.
func (lx *lexer) quoted(q byte, kind tokKind) error {
	var b strings.Builder
	for i := lx.pos + 1; i < len(lx.src); i++ {
		if lx.src[i] != q {
			b.WriteByte(lx.src[i])
			continue
		}
		if i+1 < len(lx.src) && lx.src[i+1] == q {
			b.WriteByte(q)
			i++
			continue
		}
		if kind == tIdent && b.Len() == 0 {
			return errors.New("empty quoted identifier")
		}
		lx.emit(token{kind: kind, text: b.String()}, i+1-lx.pos)
		return nil
	}
	return fmt.Errorf("unterminated %c", q)
}

// literal reads a string literal. E'…', U&'…' and the like, and any
// backslash (an escape where standard_conforming_strings is off), could end
// the literal elsewhere than this lexer thinks: refused.
func (lx *lexer) literal() error {
	if lx.pos > 0 && (isIdentPart(lx.src[lx.pos-1]) || lx.src[lx.pos-1] == '&') {
		return errors.New("prefixed string literal")
	}
	if err := lx.quoted('\'', tString); err != nil {
		return err
	}
	if strings.ContainsRune(lx.toks[len(lx.toks)-1].text, '\\') {
		return errors.New("backslash in a string literal")
	}
	return nil
}

// dollarParam reads $N. A $ not followed by digits is a dollar quote or a
// named parameter: refused.
func (lx *lexer) dollarParam() error {
	end := lx.pos + 1
	for end < len(lx.src) && isDigit(lx.src[end]) {
		end++
	}
	if end == lx.pos+1 {
		return errors.New("$ without a parameter number")
	}
	if end < len(lx.src) && isIdentPart(lx.src[end]) {
		return errors.New("parameter run into a word")
	}
	n, err := strconv.Atoi(lx.src[lx.pos+1 : end])
	if err != nil {
		return fmt.Errorf("parameter number: %w", err)
	}
	lx.postgres = true
	lx.emit(token{kind: tParam, text: lx.src[lx.pos:end], param: n}, end-lx.pos)
	return nil
}

// mark reads SQLite's ?, numbered by its position. ?NNN picks its own
// number: refused.
func (lx *lexer) mark() error {
	if lx.pos+1 < len(lx.src) && isIdentPart(lx.src[lx.pos+1]) {
		return errors.New("? run into a word or a number")
	}
	lx.marks++
	lx.sqlite = true
	lx.emit(token{kind: tParam, text: "?", param: lx.marks}, 1)
	return nil
}

// number reads digits[.digits][e[+-]digits]. A number run into a word
// (1OR) is two tokens for PostgreSQL 15, an error for later versions, and
// something else again here: refused.
func (lx *lexer) number() error {
	s, i := lx.src, lx.pos
	digits := func() {
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	digits()
	if i < len(s) && s[i] == '.' {
		i++
		digits()
	}
	if i+1 < len(s) && (s[i] == 'e' || s[i] == 'E') && (isDigit(s[i+1]) ||
		(i+2 < len(s) && (s[i+1] == '+' || s[i+1] == '-') && isDigit(s[i+2]))) {
		i += 2
		digits()
	}
	if i < len(s) && (isIdentPart(s[i]) || s[i] == '.') {
		return errors.New("number run into a word")
	}
	lx.emit(token{kind: tNumber, text: s[lx.pos:i]}, i-lx.pos)
	return nil
}

// word reads a keyword or an unquoted identifier.
func (lx *lexer) word() error {
	end := lx.pos + 1
	for end < len(lx.src) && isIdentPart(lx.src[end]) {
		end++
	}
	lx.emit(token{kind: tWord, text: lx.src[lx.pos:end]}, end-lx.pos)
	return nil
}

// operator reads a run of operator characters as one token, so that only
// a lone = reads as equality.
func (lx *lexer) operator() error {
	end := lx.pos
	for end < len(lx.src) && strings.IndexByte(opChars, lx.src[end]) >= 0 {
		if r := lx.src[end:]; strings.HasPrefix(r, "--") || strings.HasPrefix(r, "/*") {
			return errors.New("comment")
		}
		end++
	}
	lx.emit(token{kind: tPunct, text: lx.src[lx.pos:end]}, end-lx.pos)
	return nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isIdentStart follows PostgreSQL: letters, _ and any byte of a multi-byte
// UTF-8 character.
func isIdentStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c >= 0x80
}

func isIdentPart(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '$' }

// equalFoldASCII compares like SQL keywords do: ASCII letters in any case,
// every other byte exactly (strings.EqualFold would also match the Kelvin
// sign to k, which no database reads as a keyword).
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

// containsFoldASCII reports whether s contains sub in any ASCII case.
func containsFoldASCII(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if equalFoldASCII(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// upperASCII upper-cases the ASCII letters of s, as a key of a keyword set.
func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
