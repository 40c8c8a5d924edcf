// Package world builds seeded random multi-tenant worlds for the leak oracle
// (and for any later oracle, such as one for the preload registry), reads
// them back as plain Go values, and says, from the text of docs/design.md section 3
// alone, which rows each scope must see. It never calls internal/rules: the
// point is to have a second, independent answer to compare the data layer
// with.
//
// Three parts:
//
//   - Generate creates a world through ent under an all-tenant system scope
//     (so the seeding itself is audited, like any operator command).
//   - Load reads the world back with raw SQL, bypassing every privacy rule:
//     that snapshot is the ground truth the expectations are computed from.
//   - Snapshot.Sees and friends are the expected visibility, one function per
//     rule of section 3.
package world

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/auditevent"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/scope"
)

// Entity types, as ent names them.
const (
	Organization = ent.TypeOrganization
	User         = ent.TypeUser
	Session      = ent.TypeSession
	Company      = ent.TypeCompany
	Job          = ent.TypeJob
	Note         = ent.TypeNote
	AuditEvent   = ent.TypeAuditEvent
)

// Types lists every entity type of the schema.
var Types = []string{Organization, User, Session, Company, Job, Note, AuditEvent}

// Edge is one edge of the ent schema, from one type to another.
type Edge struct {
	From string
	Name string // as in the schema: "managed_jobs"
	To   string
	// Unique edges hold at most one row (job.company); the others a list.
	Unique bool
}

// Go returns the edge's name in generated code: "ManagedJobs", as in
// QueryManagedJobs, WithManagedJobs and Edges.ManagedJobs.
func (e Edge) Go() string {
	var b strings.Builder
	for _, part := range strings.Split(e.Name, "_") {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func (e Edge) String() string { return e.From + "." + e.Name }

// Edges lists every edge of the schema (the oracle checks by reflection that
// the generated code has no other).
var Edges = []Edge{
	{Organization, "users", User, false},
	{Organization, "companies", Company, false},
	{Organization, "jobs", Job, false},
	{Organization, "notes", Note, false},
	{Organization, "sessions", Session, false},
	{User, "org", Organization, true},
	{User, "company", Company, true},
	{User, "managed_jobs", Job, false},
	{User, "notes", Note, false},
	{User, "sessions", Session, false},
	{User, "created_jobs", Job, false},
	{Session, "org", Organization, true},
	{Session, "user", User, true},
	{Company, "org", Organization, true},
	{Company, "jobs", Job, false},
	{Company, "clients", User, false},
	{Job, "org", Organization, true},
	{Job, "company", Company, true},
	{Job, "managers", User, false},
	{Job, "notes", Note, false},
	{Job, "creator", User, true},
	{Note, "org", Organization, true},
	{Note, "job", Job, true},
	{Note, "author", User, true},
}

// EdgesFrom returns the edges leaving typ.
func EdgesFrom(typ string) []Edge {
	var out []Edge
	for _, e := range Edges {
		if e.From == typ {
			out = append(out, e)
		}
	}
	return out
}

// Row types of the snapshot: only the columns some rule or query shape
// looks at.
type (
	OrgRow struct {
		ID   int
		Slug string
	}
	UserRow struct {
		ID        int
		OrgID     int
		Email     string
		Role      scope.Role
		Banned    bool
		Active    bool
		CompanyID *int
		UpdatedAt time.Time // orders a job's managers in a preload
	}
	SessionRow struct {
		ID     int
		OrgID  int
		UserID int
	}
	CompanyRow struct {
		ID       int
		OrgID    int
		Archived bool
	}
	JobRow struct {
		ID          int
		OrgID       int
		CompanyID   int
		Status      job.Status
		CreatedByID int
		Managers    []int     // user ids, sorted
		CreatedAt   time.Time // orders a company's jobs in a preload
	}
	NoteRow struct {
		ID        int
		OrgID     int
		JobID     int
		AuthorID  int
		Internal  bool
		CreatedAt time.Time // orders a job's notes in a preload
	}
	AuditRow struct {
		ID     int
		OrgID  *int
		Object string
	}
)

// Snapshot is a world as stored, read with raw SQL.
type Snapshot struct {
	Orgs      map[int]*OrgRow
	Users     map[int]*UserRow
	Sessions  map[int]*SessionRow
	Companies map[int]*CompanyRow
	Jobs      map[int]*JobRow
	Notes     map[int]*NoteRow
	Audits    map[int]*AuditRow

	ids map[string][]int            // type -> sorted ids
	adj map[string]map[int][]int    // edge -> from id -> sorted to ids
	col map[string]map[int]rowValue // type -> id -> column values
}

type rowValue map[string]any

// IDs returns every id of typ, sorted.
func (s *Snapshot) IDs(typ string) []int { return s.ids[typ] }

// MaxID returns the largest id of typ (0 if none).
func (s *Snapshot) MaxID(typ string) int {
	ids := s.ids[typ]
	if len(ids) == 0 {
		return 0
	}
	return ids[len(ids)-1]
}

// Neighbors returns the ids an edge leads to from id, sorted, whatever the
// scope (the raw graph).
func (s *Snapshot) Neighbors(e Edge, id int) []int { return s.adj[e.String()][id] }

// Value returns the stored value of a column of one row: int, string, bool,
// or nil for SQL NULL. Only the columns listed in Columns are known.
func (s *Snapshot) Value(typ string, id int, column string) any {
	v, ok := s.col[typ][id][column]
	if !ok {
		panic(fmt.Sprintf("world: no column %s.%s", typ, column))
	}
	return v
}

// OrgOf returns the organization a row belongs to: an organization's own
// id, a tenant-owned row's org_id, a session's user's, an audit event's
// org_id (nil if it has none).
func (s *Snapshot) OrgOf(typ string, id int) any {
	switch typ {
	case Organization:
		return id
	case Session:
		return s.Users[s.Sessions[id].UserID].OrgID
	}
	return s.Value(typ, id, "org_id")
}

// Columns lists, per type, the columns Value knows: the ones the oracle
// groups by and filters on.
var Columns = map[string][]string{
	Organization: {"id"},
	User:         {"org_id", "role", "banned"},
	Session:      {"user_id"},
	Company:      {"org_id", "archived"},
	Job:          {"org_id", "status", "company_id"},
	Note:         {"org_id", "internal", "job_id"},
	AuditEvent:   {"org_id", "object"},
}

// Load reads the whole world with raw SQL. It runs no ent code, so no
// privacy rule can hide a row from it.
func Load(ctx context.Context, db *sql.DB) (*Snapshot, error) {
	s := &Snapshot{
		Orgs: map[int]*OrgRow{}, Users: map[int]*UserRow{}, Sessions: map[int]*SessionRow{},
		Companies: map[int]*CompanyRow{}, Jobs: map[int]*JobRow{}, Notes: map[int]*NoteRow{},
		Audits: map[int]*AuditRow{},
	}
	type load struct {
		query string
		scan  func(rows *sql.Rows) error
	}
	loads := []load{
		{`SELECT id, slug FROM organizations`, func(rows *sql.Rows) error {
			var r OrgRow
			err := rows.Scan(&r.ID, &r.Slug)
			s.Orgs[r.ID] = &r
			return err
		}},
		{`SELECT id, org_id, email, role, banned, active, company_id, updated_at FROM users`, func(rows *sql.Rows) error {
			var (
				r  UserRow
				co sql.NullInt64
			)
			err := rows.Scan(&r.ID, &r.OrgID, &r.Email, &r.Role, &r.Banned, &r.Active, &co, &r.UpdatedAt)
			if co.Valid {
				c := int(co.Int64)
				r.CompanyID = &c
			}
			s.Users[r.ID] = &r
			return err
		}},
		{`SELECT id, org_id, user_id FROM sessions`, func(rows *sql.Rows) error {
			var r SessionRow
			err := rows.Scan(&r.ID, &r.OrgID, &r.UserID)
			s.Sessions[r.ID] = &r
			return err
		}},
		{`SELECT id, org_id, archived FROM companies`, func(rows *sql.Rows) error {
			var r CompanyRow
			err := rows.Scan(&r.ID, &r.OrgID, &r.Archived)
			s.Companies[r.ID] = &r
			return err
		}},
		{`SELECT id, org_id, company_id, status, created_by_id, created_at FROM jobs`, func(rows *sql.Rows) error {
			var r JobRow
			err := rows.Scan(&r.ID, &r.OrgID, &r.CompanyID, &r.Status, &r.CreatedByID, &r.CreatedAt)
			s.Jobs[r.ID] = &r
			return err
		}},
		{`SELECT job_id, user_id FROM job_managers ORDER BY job_id, user_id`, func(rows *sql.Rows) error {
			var j, u int
			if err := rows.Scan(&j, &u); err != nil {
				return err
			}
			if s.Jobs[j] == nil {
				return fmt.Errorf("job_managers row for missing job %d", j)
			}
			s.Jobs[j].Managers = append(s.Jobs[j].Managers, u)
			return nil
		}},
		{`SELECT id, org_id, job_id, author_id, internal, created_at FROM notes`, func(rows *sql.Rows) error {
			var r NoteRow
			err := rows.Scan(&r.ID, &r.OrgID, &r.JobID, &r.AuthorID, &r.Internal, &r.CreatedAt)
			s.Notes[r.ID] = &r
			return err
		}},
		{`SELECT id, org_id, object FROM audit_events`, func(rows *sql.Rows) error {
			var (
				r   AuditRow
				org sql.NullInt64
			)
			err := rows.Scan(&r.ID, &org, &r.Object)
			if org.Valid {
				o := int(org.Int64)
				r.OrgID = &o
			}
			s.Audits[r.ID] = &r
			return err
		}},
	}
	for _, l := range loads {
		rows, err := db.QueryContext(ctx, l.query)
		if err != nil {
			return nil, fmt.Errorf("world: %s: %w", l.query, err)
		}
		for rows.Next() {
			if err := l.scan(rows); err != nil {
				rows.Close()
				return nil, fmt.Errorf("world: %s: %w", l.query, err)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("world: %s: %w", l.query, err)
		}
	}
	s.index()
	return s, nil
}

// index computes ids, adjacency and column values from the rows.
func (s *Snapshot) index() {
	s.ids = map[string][]int{
		Organization: keys(s.Orgs), User: keys(s.Users), Session: keys(s.Sessions),
		Company: keys(s.Companies), Job: keys(s.Jobs), Note: keys(s.Notes), AuditEvent: keys(s.Audits),
	}
	s.adj = map[string]map[int][]int{}
	link := func(from, name string, a, b int) {
		k := from + "." + name
		if s.adj[k] == nil {
			s.adj[k] = map[int][]int{}
		}
		s.adj[k][a] = append(s.adj[k][a], b)
	}
	s.col = map[string]map[int]rowValue{}
	set := func(typ string, id int, v rowValue) {
		if s.col[typ] == nil {
			s.col[typ] = map[int]rowValue{}
		}
		s.col[typ][id] = v
	}
	for _, o := range s.Orgs {
		set(Organization, o.ID, rowValue{"id": o.ID})
	}
	for _, u := range s.Users {
		link(User, "org", u.ID, u.OrgID)
		link(Organization, "users", u.OrgID, u.ID)
		if u.CompanyID != nil {
			link(User, "company", u.ID, *u.CompanyID)
			link(Company, "clients", *u.CompanyID, u.ID)
		}
		set(User, u.ID, rowValue{"org_id": u.OrgID, "role": string(u.Role), "banned": u.Banned})
	}
	for _, se := range s.Sessions {
		link(Session, "org", se.ID, se.OrgID)
		link(Organization, "sessions", se.OrgID, se.ID)
		link(Session, "user", se.ID, se.UserID)
		link(User, "sessions", se.UserID, se.ID)
		set(Session, se.ID, rowValue{"org_id": se.OrgID, "user_id": se.UserID})
	}
	for _, c := range s.Companies {
		link(Company, "org", c.ID, c.OrgID)
		link(Organization, "companies", c.OrgID, c.ID)
		set(Company, c.ID, rowValue{"org_id": c.OrgID, "archived": c.Archived})
	}
	for _, j := range s.Jobs {
		link(Job, "org", j.ID, j.OrgID)
		link(Organization, "jobs", j.OrgID, j.ID)
		link(Job, "company", j.ID, j.CompanyID)
		link(Company, "jobs", j.CompanyID, j.ID)
		link(Job, "creator", j.ID, j.CreatedByID)
		link(User, "created_jobs", j.CreatedByID, j.ID)
		for _, m := range j.Managers {
			link(Job, "managers", j.ID, m)
			link(User, "managed_jobs", m, j.ID)
		}
		set(Job, j.ID, rowValue{"org_id": j.OrgID, "status": string(j.Status), "company_id": j.CompanyID})
	}
	for _, n := range s.Notes {
		link(Note, "org", n.ID, n.OrgID)
		link(Organization, "notes", n.OrgID, n.ID)
		link(Note, "job", n.ID, n.JobID)
		link(Job, "notes", n.JobID, n.ID)
		link(Note, "author", n.ID, n.AuthorID)
		link(User, "notes", n.AuthorID, n.ID)
		set(Note, n.ID, rowValue{"org_id": n.OrgID, "internal": n.Internal, "job_id": n.JobID})
	}
	for _, a := range s.Audits {
		var org any
		if a.OrgID != nil {
			org = *a.OrgID
		}
		set(AuditEvent, a.ID, rowValue{"org_id": org, "object": a.Object})
	}
	for _, m := range s.adj {
		for id := range m {
			slices.Sort(m[id])
		}
	}
}

func keys[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Viewer is a scope, as the expectations see it.
type Viewer struct {
	// System is an all-tenant system scope (OrgID 0) or a system scope
	// narrowed with InOrg(OrgID).
	System bool
	OrgID  int
	// User is the signed-in user of a user scope, as stored when the scope
	// was built.
	User *UserRow
}

// SystemViewer is System(reason), narrowed to org unless org is 0.
func SystemViewer(org int) Viewer { return Viewer{System: true, OrgID: org} }

// UserViewer is the scope of u.
func UserViewer(u *UserRow) Viewer { return Viewer{OrgID: u.OrgID, User: u} }

// Scope builds the real scope the viewer stands for.
func (v Viewer) Scope(reason string) (scope.Scope, error) {
	if v.System {
		s := scope.System(reason)
		if v.OrgID != 0 {
			s = s.InOrg(v.OrgID)
		}
		return s.Scope()
	}
	u := v.User
	return scope.ForUser(scope.User{
		ID: u.ID, OrgID: u.OrgID, Role: u.Role, CompanyID: u.CompanyID,
		Banned: u.Banned, Active: u.Active,
	})
}

func (v Viewer) String() string {
	switch {
	case v.System && v.OrgID == 0:
		return "system(all tenants)"
	case v.System:
		return fmt.Sprintf("system(InOrg %d)", v.OrgID)
	}
	u := v.User
	co := "-"
	if u.CompanyID != nil {
		co = fmt.Sprint(*u.CompanyID)
	}
	return fmt.Sprintf("user %d (role %s, org %d, banned %t, active %t, company %s)",
		u.ID, u.Role, u.OrgID, u.Banned, u.Active, co)
}

// Sees reports whether the viewer must see row id of typ (docs/design.md section 3).
func (s *Snapshot) Sees(v Viewer, typ string, id int) bool {
	switch typ {
	case Organization:
		return s.seesOrganization(v, s.Orgs[id])
	case User:
		return s.seesUser(v, s.Users[id])
	case Session:
		return s.seesSession(v, s.Sessions[id])
	case Company:
		return s.seesCompany(v, s.Companies[id])
	case Job:
		return s.seesJob(v, s.Jobs[id])
	case Note:
		return s.seesNote(v, s.Notes[id])
	case AuditEvent:
		return s.seesAudit(v, s.Audits[id])
	}
	panic("world: unknown type " + typ)
}

// Visible returns the ids of typ the viewer must see, sorted.
func (s *Snapshot) Visible(v Viewer, typ string) []int {
	return s.Filter(v, typ, s.IDs(typ))
}

// Reach follows e from every id of from and keeps what the viewer must see,
// sorted and without duplicates: the expected answer of a traversal, or of
// an eager load of one parent, from rows the viewer sees (rule 7).
func (s *Snapshot) Reach(v Viewer, e Edge, from []int) []int {
	var to []int
	for _, id := range from {
		to = append(to, s.Neighbors(e, id)...)
	}
	return s.Filter(v, e.To, to)
}

// OfOrg returns the ids of typ that belong to organization org (OrgOf),
// sorted: the raw ownership, whatever any scope sees.
func (s *Snapshot) OfOrg(typ string, org int) []int {
	out := []int{}
	for _, id := range s.IDs(typ) {
		if s.OrgOf(typ, id) == any(org) {
			out = append(out, id)
		}
	}
	return out
}

// Filter keeps the ids the viewer must see, sorted and without duplicates.
func (s *Snapshot) Filter(v Viewer, typ string, ids []int) []int {
	out := []int{}
	for _, id := range ids {
		if s.Sees(v, typ, id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// inTenant is rule 2, for a row of organization org: a user scope and an
// InOrg system scope see only their organization's rows; the all-tenant
// system scope sees every row (rule 1).
func inTenant(v Viewer, org int) bool {
	if v.System && v.OrgID == 0 {
		return true
	}
	return org == v.OrgID
}

// activeUser is the head of every role rule: a user scope of a user who is
// not banned (rule 3: a banned user sees their org and themselves only).
func activeUser(v Viewer) (*UserRow, bool) {
	if v.System || v.User.Banned {
		return nil, false
	}
	return v.User, true
}

// byRole is the head of the rules 4 to 6 of a row of organization org: a
// row outside the viewer's tenant is hidden (rule 2), the system scope sees
// the rest (rule 1), a banned user none of it (rule 3), and an active user
// what rule says for their role.
func byRole(v Viewer, org int, rule func(me *UserRow) bool) bool {
	if !inTenant(v, org) {
		return false
	}
	if v.System {
		return true
	}
	me, ok := activeUser(v)
	return ok && rule(me)
}

// seesOrganization: rule 3, every user sees their own organization row,
// banned users too.
func (s *Snapshot) seesOrganization(v Viewer, o *OrgRow) bool {
	return o != nil && inTenant(v, o.ID)
}

// seesUser: rules 3 to 6. Admins, managers and members see every user of
// the organization; a client sees themselves and the managers of jobs they
// can see; a banned user sees themselves.
func (s *Snapshot) seesUser(v Viewer, x *UserRow) bool {
	if x == nil || !inTenant(v, x.OrgID) {
		return false
	}
	if v.System {
		return true
	}
	if x.ID == v.User.ID {
		return true
	}
	me, ok := activeUser(v)
	if !ok {
		return false
	}
	if me.Role != scope.RoleClient {
		return true
	}
	for _, j := range s.Neighbors(userManagedJobs, x.ID) {
		if s.seesJob(v, s.Jobs[j]) {
			return true
		}
	}
	return false
}

// seesSession: sessions belong to the tenant of their user; admins see
// those of the organization's users, everyone else only their own.
func (s *Snapshot) seesSession(v Viewer, x *SessionRow) bool {
	return x != nil && byRole(v, s.Users[x.UserID].OrgID, func(me *UserRow) bool {
		return me.Role == scope.RoleAdmin || x.UserID == me.ID
	})
}

// seesCompany: rules 4 to 6. Every role but clients sees all companies of
// the organization; a client their own.
func (s *Snapshot) seesCompany(v Viewer, x *CompanyRow) bool {
	return x != nil && byRole(v, x.OrgID, func(me *UserRow) bool {
		if me.Role == scope.RoleClient {
			return me.CompanyID != nil && *me.CompanyID == x.ID
		}
		return true
	})
}

// seesJob: rules 4 to 6. Admins see every job of the organization;
// managers and members published jobs and the jobs they manage; clients the
// published jobs of their company.
func (s *Snapshot) seesJob(v Viewer, x *JobRow) bool {
	return x != nil && byRole(v, x.OrgID, func(me *UserRow) bool {
		published := x.Status == job.StatusPublished
		switch me.Role {
		case scope.RoleAdmin:
			return true
		case scope.RoleManager, scope.RoleMember:
			_, manages := slices.BinarySearch(x.Managers, me.ID)
			return published || manages
		case scope.RoleClient:
			return published && me.CompanyID != nil && x.CompanyID == *me.CompanyID
		}
		return false
	})
}

// seesNote: rules 4 to 6. Notes on jobs the user can see (in the user's
// organization); members and clients only the public ones.
func (s *Snapshot) seesNote(v Viewer, x *NoteRow) bool {
	return x != nil && byRole(v, x.OrgID, func(me *UserRow) bool {
		if me.Role == scope.RoleAdmin {
			return true
		}
		if x.Internal && me.Role != scope.RoleManager {
			return false
		}
		return s.seesJob(v, s.Jobs[x.JobID])
	})
}

// seesAudit: rule 4, admins see their organization's audit events; an event
// without an organization belongs to no tenant and only the all-tenant
// system scope sees it.
func (s *Snapshot) seesAudit(v Viewer, x *AuditRow) bool {
	if x == nil {
		return false
	}
	if v.System && v.OrgID == 0 {
		return true
	}
	if x.OrgID == nil || !inTenant(v, *x.OrgID) {
		return false
	}
	if v.System {
		return true
	}
	me, ok := activeUser(v)
	return ok && me.Role == scope.RoleAdmin
}

var userManagedJobs = Edge{User, "managed_jobs", Job, false}

// Op is a kind of bulk mutation.
type Op int

// The bulk mutations the oracle runs.
const (
	Update Op = iota
	Delete
)

func (o Op) String() string { return [...]string{"update", "delete"}[o] }

// MayMutate reports whether the viewer may run a bulk op on typ at all. When
// it may, the op reaches exactly the rows it sees (Sees); when it may not,
// the op fails. A banned user may mutate nothing; users never mutate
// organizations or audit events, and may delete (not update) sessions.
func MayMutate(v Viewer, typ string, op Op) bool {
	if v.System {
		return true
	}
	if v.User.Banned {
		return false
	}
	switch typ {
	case Organization, AuditEvent:
		return false
	case Session:
		return op == Delete
	}
	return true
}

// MayWrite reports whether the viewer may make op on row id of typ, by the
// write policy of docs/design.md section 5, written here independently of
// internal/policy. It answers for rows the viewer sees; a row it does not
// see is not found whatever this says. The oracle's updates change only a
// timestamp, which every write right covers: a user may "update" their own
// row (their name and phone, and nothing else, are theirs to change).
func (s *Snapshot) MayWrite(v Viewer, typ string, op Op, id int) bool {
	if !MayMutate(v, typ, op) {
		return false
	}
	if v.System {
		return true
	}
	me := v.User
	admin := me.Role == scope.RoleAdmin
	switch typ {
	case Session:
		return true // their own sessions, or an admin their tenant's: what they see
	case Company:
		return admin
	case Job:
		if op == Delete {
			return admin
		}
		_, manages := slices.BinarySearch(s.Jobs[id].Managers, me.ID)
		return admin || me.Role == scope.RoleManager && manages
	case Note:
		return admin || s.Notes[id].AuthorID == me.ID
	case User:
		if op == Delete {
			return admin
		}
		return admin || id == me.ID
	}
	return false
}

// MayWriteAll reports whether the viewer may make op on every one of ids:
// a bulk mutation is all or nothing.
func (s *Snapshot) MayWriteAll(v Viewer, typ string, op Op, ids []int) bool {
	for _, id := range ids {
		if !s.MayWrite(v, typ, op, id) {
			return false
		}
	}
	return MayMutate(v, typ, op)
}

// Deletable reports whether row id of typ can be deleted without breaking a
// foreign key (they are NO ACTION; the job_managers rows cascade).
func (s *Snapshot) Deletable(typ string, id int) bool {
	var dependents []Edge
	switch typ {
	case Organization:
		dependents = EdgesFrom(Organization)
	case User:
		dependents = []Edge{{User, "created_jobs", Job, false}, {User, "notes", Note, false}, {User, "sessions", Session, false}}
	case Company:
		dependents = []Edge{{Company, "jobs", Job, false}}
	case Job:
		dependents = []Edge{{Job, "notes", Note, false}}
	}
	for _, e := range dependents {
		if len(s.Neighbors(e, id)) > 0 {
			return false
		}
	}
	return true
}

// Generate creates a world from seed through client, under the all-tenant
// system scope in ctx, in one transaction. The same seed on a fresh
// database gives the same rows with the same ids.
//
// The world has three or four organizations with rows (and sometimes one
// without any), users of every role, banned and inactive ones among them, clients
// tied to companies, jobs of every status, managers, internal and public
// notes, sessions, and a handful of audit events (those the seeding wrote,
// trimmed). No row links two tenants: the tenant-safe foreign keys refuse
// it, even to the system scope (integration TestTenantSafeKeys).
//
// For the preload oracle, users' updated_at and jobs' and notes' created_at
// are drawn from a few whole hours, so that orders meet ties and must fall
// back to the id; and one or two jobs get more than 20 notes, most of them
// public, so that the per-parent limit on job.notes cuts something. Those
// values come from a second random stream, so the rest of a seed's world is
// what it was before they existed.
func Generate(ctx context.Context, client *ent.Client, seed int64) error {
	r := rand.New(rand.NewPCG(uint64(seed), 0x5c09e6a7e))
	return database.WithTx(ctx, client, func(tx *ent.Tx) error {
		g := &generator{ctx: ctx, tx: tx, r: r, seed: seed,
			x: rand.New(rand.NewPCG(uint64(seed), 0x7157a4e5))}
		return g.run()
	})
}

type generator struct {
	ctx  context.Context
	tx   *ent.Tx
	r    *rand.Rand
	x    *rand.Rand // timestamps and busy jobs: see Generate
	seed int64

	orgs      []int
	companies map[int][]int       // org -> company ids
	users     map[int][]*ent.User // org -> users
	byRole    map[int]map[string][]int
	all       []*ent.User
	jobs      []*ent.Job

	n int // serial for unique names
}

func (g *generator) chance(p float64) bool { return g.r.Float64() < p }

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func (g *generator) serial() int { g.n++; return g.n }

// stamp returns one of a few whole hours: rows that share one tie in every
// order that uses it.
func (g *generator) stamp() time.Time {
	return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(g.x.IntN(8)) * time.Hour)
}

func (g *generator) run() error {
	ctx, tx, r := g.ctx, g.tx, g.r
	g.companies = map[int][]int{}
	g.users = map[int][]*ent.User{}
	g.byRole = map[int]map[string][]int{}

	nOrgs := 3
	if g.chance(0.25) {
		nOrgs = 4
	}
	for i := 0; i < nOrgs; i++ {
		n := g.serial()
		o, err := tx.Organization.Create().SetName(fmt.Sprintf("Org %d", n)).
			SetSlug(fmt.Sprintf("org-%d-%d", g.seed, n)).Save(ctx)
		if err != nil {
			return err
		}
		g.orgs = append(g.orgs, o.ID)
	}
	for _, org := range g.orgs {
		for i, n := 0, 2+r.IntN(2); i < n; i++ {
			c, err := tx.Company.Create().SetOrgID(org).SetName(fmt.Sprintf("Company %d", g.serial())).
				SetArchived(g.chance(0.2)).Save(ctx)
			if err != nil {
				return err
			}
			g.companies[org] = append(g.companies[org], c.ID)
		}
	}
	if err := g.createUsers(); err != nil {
		return err
	}
	if err := g.createJobs(); err != nil {
		return err
	}
	if err := g.createNotes(); err != nil {
		return err
	}
	if err := g.createBusyJobs(); err != nil {
		return err
	}
	if err := g.createSessions(); err != nil {
		return err
	}
	if g.chance(0.5) {
		// An organization without rows: the only kind that can be deleted.
		n := g.serial()
		if _, err := tx.Organization.Create().SetName(fmt.Sprintf("Empty %d", n)).
			SetSlug(fmt.Sprintf("empty-%d-%d", g.seed, n)).Save(ctx); err != nil {
			return err
		}
	}
	return g.trimAudit()
}

func (g *generator) createUsers() error {
	roles := []user.Role{user.RoleAdmin, user.RoleManager, user.RoleMember, user.RoleClient}
	for _, org := range g.orgs {
		g.byRole[org] = map[string][]int{}
		for _, role := range roles {
			for i, n := 0, 1+g.r.IntN(2); i < n; i++ {
				b := g.tx.User.Create().SetOrgID(org).
					SetEmail(fmt.Sprintf("u%d-%d@example.test", g.seed, g.serial())).
					SetName(fmt.Sprintf("%s %d", role, i)).
					SetRole(role).
					SetBanned(g.chance(0.12)).
					SetActive(!g.chance(0.15)).
					SetUpdatedAt(g.stamp())
				if role == user.RoleClient {
					b.SetCompanyID(pick(g.r, g.companies[org]))
				}
				u, err := b.Save(g.ctx)
				if err != nil {
					return err
				}
				g.users[org] = append(g.users[org], u)
				g.byRole[org][string(role)] = append(g.byRole[org][string(role)], u.ID)
				g.all = append(g.all, u)
			}
		}
	}
	// Every world has at least one banned and one inactive user.
	var banned, inactive bool
	for _, u := range g.all {
		banned = banned || u.Banned
		inactive = inactive || !u.Active
	}
	if !banned {
		u := pick(g.r, g.all)
		if err := g.tx.User.UpdateOne(u).SetBanned(true).Exec(g.ctx); err != nil {
			return err
		}
	}
	if !inactive {
		u := pick(g.r, g.all)
		if err := g.tx.User.UpdateOne(u).SetActive(false).Exec(g.ctx); err != nil {
			return err
		}
	}
	return nil
}

func (g *generator) createJobs() error {
	// Published jobs are what most rules turn on: half of the jobs.
	statuses := []job.Status{job.StatusDraft, job.StatusPublished, job.StatusPublished, job.StatusArchived}
	for _, org := range g.orgs {
		for _, co := range g.companies[org] {
			n := 1 + g.r.IntN(3)
			if g.chance(0.2) {
				n = 0 // a company without jobs: the only kind that can be deleted
			}
			for i := 0; i < n; i++ {
				creators := append(slices.Clone(g.byRole[org]["admin"]), g.byRole[org]["manager"]...)
				b := g.tx.Job.Create().SetOrgID(org).SetCompanyID(co).
					SetTitle(fmt.Sprintf("Job %d", g.serial())).
					SetStatus(pick(g.r, statuses)).
					SetCreatedByID(pick(g.r, creators)).
					SetCreatedAt(g.stamp()).
					AddManagerIDs(g.managersFor(org)...)
				if g.chance(0.5) {
					b.SetSalaryMax(1000 * g.r.IntN(100))
				}
				j, err := b.Save(g.ctx)
				if err != nil {
					return err
				}
				g.jobs = append(g.jobs, j)
			}
		}
	}
	return nil
}

// managersFor picks a job's managers: a few users of its organization,
// mostly managers.
func (g *generator) managersFor(org int) []int {
	var ids []int
	for i, n := 0, g.r.IntN(3); i < n; i++ {
		if g.chance(0.6) {
			ids = append(ids, pick(g.r, g.byRole[org]["manager"]))
		} else {
			ids = append(ids, pick(g.r, g.users[org]).ID)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

func (g *generator) createNotes() error {
	for _, j := range g.jobs {
		for i, n := 0, g.r.IntN(4); i < n; i++ {
			if _, err := g.tx.Note.Create().SetOrgID(j.OrgID).SetJobID(j.ID).SetAuthorID(pick(g.r, g.users[j.OrgID]).ID).
				SetBody(fmt.Sprintf("note %d", g.serial())).SetInternal(g.chance(0.5)).
				SetCreatedAt(g.stamp()).
				Save(g.ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// createBusyJobs gives a published job (and, half the time, one more job of
// any status) 21 to 26 public notes of its organization and up to 5
// internal ones: more than the 20 newest a job's notes preload keeps per job
// on the user surface.
func (g *generator) createBusyJobs() error {
	var busy []*ent.Job
	for _, j := range g.jobs {
		if j.Status == job.StatusPublished {
			busy = append(busy, j)
			break
		}
	}
	if len(g.jobs) > 0 && g.x.IntN(2) == 0 {
		busy = append(busy, pick(g.x, g.jobs))
	}
	for _, j := range busy {
		public, internal := 21+g.x.IntN(6), g.x.IntN(6)
		for i := range public + internal {
			if _, err := g.tx.Note.Create().SetOrgID(j.OrgID).SetJobID(j.ID).
				SetAuthorID(pick(g.x, g.users[j.OrgID]).ID).
				SetBody(fmt.Sprintf("note %d", g.serial())).SetInternal(i >= public).
				SetCreatedAt(g.stamp()).
				Save(g.ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

func (g *generator) createSessions() error {
	for _, u := range g.all {
		n := 0
		switch f := g.r.Float64(); {
		case f < 0.1:
			n = 2
		case f < 0.45:
			n = 1
		}
		if n == 0 {
			continue
		}
		// Sessions are created by logging in, under the authenticator
		// scope: not even the system scope creates them (docs/design.md section 5).
		login, err := scope.Authenticator(scope.AuthLookup{Email: u.Email})
		if err != nil {
			return err
		}
		ctx := scope.NewContext(g.ctx, login)
		for i := 0; i < n; i++ {
			if _, err := g.tx.Session.Create().SetUserID(u.ID).SetOrgID(u.OrgID).
				SetTokenHash(fmt.Sprintf("hash-%d-%d", g.seed, g.serial())).
				SetExpiresAt(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)).
				Save(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// trimAudit keeps a few of the audit events the seeding wrote: two or three
// per organization and one or two without an organization (the sessions').
// Every other row is compared one id at a time, so a world with an audit
// event per row would spend most of its time on them.
func (g *generator) trimAudit() error {
	events, err := g.tx.AuditEvent.Query().Order(auditevent.ByID()).All(g.ctx)
	if err != nil {
		return err
	}
	perOrg := map[int][]int{}
	var none []int
	for _, e := range events {
		if e.OrgID == nil {
			none = append(none, e.ID)
		} else {
			perOrg[*e.OrgID] = append(perOrg[*e.OrgID], e.ID)
		}
	}
	var keep []int
	sample := func(ids []int, n int) {
		g.r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
		keep = append(keep, ids[:min(n, len(ids))]...)
	}
	for _, org := range g.orgs {
		sample(perOrg[org], 2+g.r.IntN(2))
	}
	sample(none, 1+g.r.IntN(2))
	_, err = g.tx.AuditEvent.Delete().Where(auditevent.IDNotIn(keep...)).Exec(g.ctx)
	return err
}
