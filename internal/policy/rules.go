package policy

// Action names what a scope wants to do: object.action. A typed constant, so
// a typo does not compile.
type Action string

// The actions of docs/design.md section 5.
const (
	JobRead       Action = "job.read"
	JobCreate     Action = "job.create"
	JobUpdate     Action = "job.update"
	JobDelete     Action = "job.delete"
	CompanyRead   Action = "company.read"
	CompanyCreate Action = "company.create"
	CompanyUpdate Action = "company.update"
	CompanyDelete Action = "company.delete"
	NoteCreate    Action = "note.create"
	NoteUpdate    Action = "note.update"
	NoteDelete    Action = "note.delete"
	// NoteInternal is writing a note as internal (on create, or by marking
	// one internal): members and clients could not read it back.
	NoteInternal Action = "note.internal"
	UserRead     Action = "user.read"
	UserCreate   Action = "user.create"
	UserUpdate   Action = "user.update"
	UserDelete   Action = "user.delete"
)

// Rule is one action's policy, LetMe-style: it is allowed when any allow
// list passes (every check of the list), unless any deny check passes; deny
// wins.
type Rule struct {
	Object      string            `json:"object"`
	Action      Action            `json:"action"`
	Allow       [][]string        `json:"allow"`
	Deny        []string          `json:"deny"`
	Description string            `json:"description"`
	Metadata    map[string]string `json:"metadata,omitempty"`
}

// The sections of docs/design.md the rules come from, served as each rule's
// "design" metadata: a path and an anchor a reader can follow.
const (
	designPolicy    = "docs/design.md#5-what-each-role-may-do"
	designRowsRule5 = "docs/design.md#3-who-sees-which-rows" // rule 5: who reads internal notes
)

// The policy, in the order of docs/design.md section 5.
var rules = []Rule{
	{Object: "job", Action: JobRead, Allow: [][]string{{"everyone"}}, Deny: []string{"banned"},
		Description: "Read a job the privacy rules show", Metadata: map[string]string{"design": designPolicy}},
	{Object: "job", Action: JobCreate, Allow: [][]string{{"role:admin"}, {"role:manager"}}, Deny: []string{"banned"},
		Description: "Create a job", Metadata: map[string]string{"design": designPolicy}},
	{Object: "job", Action: JobUpdate, Allow: [][]string{{"role:admin"}, {"role:manager", "manages_job"}}, Deny: []string{"banned"},
		Description: "Update a job: admins, and managers of that job", Metadata: map[string]string{"design": designPolicy, "loads": "job.managers"}},
	{Object: "job", Action: JobDelete, Allow: [][]string{{"role:admin"}}, Deny: []string{"banned"},
		Description: "Delete a job", Metadata: map[string]string{"design": designPolicy}},
	{Object: "company", Action: CompanyRead, Allow: [][]string{{"everyone"}}, Deny: []string{"banned"},
		Description: "Read a company the privacy rules show", Metadata: map[string]string{"design": designPolicy}},
	{Object: "company", Action: CompanyCreate, Allow: [][]string{{"role:admin"}}, Deny: []string{"banned"},
		Description: "Create a company", Metadata: map[string]string{"design": designPolicy}},
	{Object: "company", Action: CompanyUpdate, Allow: [][]string{{"role:admin"}}, Deny: []string{"banned"},
		Description: "Update a company", Metadata: map[string]string{"design": designPolicy}},
	{Object: "company", Action: CompanyDelete, Allow: [][]string{{"role:admin"}}, Deny: []string{"banned"},
		Description: "Delete a company", Metadata: map[string]string{"design": designPolicy}},
	{Object: "note", Action: NoteCreate, Allow: [][]string{{"role:admin"}, {"role:manager"}, {"role:member", "sees_job"}}, Deny: []string{"banned"},
		Description: "Write a note on a job (the object is the job)", Metadata: map[string]string{"design": designPolicy, "object": "the job"}},
	{Object: "note", Action: NoteUpdate, Allow: [][]string{{"role:admin"}, {"own_resource"}}, Deny: []string{"banned"},
		Description: "Edit a note: admins, and its author", Metadata: map[string]string{"design": designPolicy}},
	{Object: "note", Action: NoteDelete, Allow: [][]string{{"role:admin"}, {"own_resource"}}, Deny: []string{"banned"},
		Description: "Delete a note: admins, and its author", Metadata: map[string]string{"design": designPolicy}},
	{Object: "note", Action: NoteInternal, Allow: [][]string{{"role:admin"}, {"role:manager"}}, Deny: []string{"banned"},
		Description: "Write a note as internal: only roles that can read internal notes",
		Metadata:    map[string]string{"design": designRowsRule5, "object": "the job (create) or the note (update); the checks read only the role"}},
	{Object: "user", Action: UserRead, Allow: [][]string{{"everyone"}}, Deny: []string{"banned_not_self"},
		Description: "Read a user the privacy rules show; banned users only themselves", Metadata: map[string]string{"design": designPolicy}},
	{Object: "user", Action: UserCreate, Allow: [][]string{{"role:admin"}}, Deny: []string{"banned"},
		Description: "Create a user in the organization", Metadata: map[string]string{"design": designPolicy}},
	{Object: "user", Action: UserUpdate, Allow: [][]string{{"role:admin"}, {"self", "only_fields:name|phone"}}, Deny: []string{"banned"},
		Description: "Update a user: admins every field, users their own name and phone", Metadata: map[string]string{"design": designPolicy, "object": "policy.UserChange"}},
	{Object: "user", Action: UserDelete, Allow: [][]string{{"role:admin"}}, Deny: []string{"banned"},
		Description: "Delete a user", Metadata: map[string]string{"design": designPolicy}},
}
