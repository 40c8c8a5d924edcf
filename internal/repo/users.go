package repo

import (
	"context"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/predicate"
	"github.com/scopegate/scopegate/ent/session"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/policy"
	"github.com/scopegate/scopegate/internal/preload"
)

// Users reads and changes users.
type Users struct{ Client *ent.Client }

// UserInput creates a user in the scope's organization.
type UserInput struct {
	Email     string
	Name      string
	Phone     string
	Role      string
	Password  string
	CompanyID *int // required for clients, refused for others
}

// UserPatch changes a user; nil fields are left alone. Users may change
// their own name and phone; the rest is for admins (policy user.update).
type UserPatch struct {
	Name      *string
	Phone     *string
	Role      *string
	Banned    *bool
	Active    *bool
	CompanyID *int
	// ClearCompanyID removes the company (company_id: null). Only a
	// user who is not a client, or stops being one, may be without one.
	ClearCompanyID bool
}

// fields names the fields a patch sets, for the only_fields check.
func (p UserPatch) fields() []string {
	var out []string
	for name, set := range map[string]bool{
		"name": p.Name != nil, "phone": p.Phone != nil, "role": p.Role != nil,
		"banned": p.Banned != nil, "active": p.Active != nil, "company_id": p.CompanyID != nil || p.ClearCompanyID,
	} {
		if set {
			out = append(out, name)
		}
	}
	return out
}

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 10

// HashPassword hashes a password with bcrypt.
func HashPassword(pw string) (string, error) {
	b, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	return string(b), err
}

// List returns a page of the users the scope may see.
func (r Users) List(ctx context.Context, surface preload.Surface, opts ListOptions) (Page[*ent.User], error) {
	return list(ctx, "list users", listed{entity: preload.User, surface: surface}, opts,
		func(ctx context.Context, p listPlan) ([]*ent.User, error) {
			q := r.Client.User.Query().Where(predicate.User(p.keyset)).Order(user.ByOrgID(), user.ByID()).Limit(p.limit + 1)
			return preload.Users(q, p.tree).All(ctx)
		},
		func(u *ent.User) (int, int) { return u.OrgID, u.ID })
}

// Get returns one user. ErrNotFound if it does not exist or the scope may not
// see it.
func (r Users) Get(ctx context.Context, surface preload.Surface, id int, opts GetOptions) (*ent.User, policy.Redacted, error) {
	return get(ctx, "get user", preload.User, surface, opts, func(ctx context.Context, tree preload.Tree) (*ent.User, error) {
		return preload.Users(r.Client.User.Query().Where(user.ID(id)), tree).Only(ctx)
	})
}

func validateRole(f fields, role string, companyID *int) {
	if role == "" {
		f.add("role", "is required")
		return
	}
	if user.RoleValidator(user.Role(role)) != nil {
		f.add("role", "must be admin, manager, member or client")
		return
	}
	switch {
	case role == string(user.RoleClient) && companyID == nil:
		f.add("company_id", "is required for clients")
	case role != string(user.RoleClient) && companyID != nil:
		f.add("company_id", "is for clients only")
	}
}

// Create creates a user in the scope's organization. A company the scope
// cannot see is ErrNotFound; an email in use (in any organization) is
// ErrConflict.
func (r Users) Create(ctx context.Context, in UserInput) (*ent.User, policy.Redacted, error) {
	const op = "create user"
	if err := policy.Authorize(ctx, policy.UserCreate, nil); err != nil {
		return nil, nil, classify(op, err)
	}
	in.Email = strings.ToLower(strings.TrimSpace(in.Email))
	f := fields{}
	f.text("email", in.Email, requiredText, MaxEmailLen)
	if in.Email != "" && !strings.Contains(in.Email, "@") {
		f.add("email", "must be an email address")
	}
	f.text("name", in.Name, requiredText, MaxNameLen)
	f.text("phone", in.Phone, optionalText, MaxPhoneLen)
	validateRole(f, in.Role, in.CompanyID)
	f.password(in.Password)
	if err := f.err(); err != nil {
		return nil, nil, classify(op, err)
	}
	hash, err := HashPassword(in.Password)
	if err != nil {
		return nil, nil, classify(op, err)
	}
	var out *ent.User
	err = database.WithTx(ctx, r.Client, func(tx *ent.Tx) (err error) {
		out, err = tx.User.Create().
			SetEmail(in.Email).SetName(in.Name).SetPhone(in.Phone).
			SetRole(user.Role(in.Role)).SetPasswordHash(hash).
			SetNillableCompanyID(in.CompanyID).
			Save(ctx)
		return err
	})
	if database.UniqueViolation(err, "users", "email") {
		err = &ConflictError{Reason: "a user with this email already exists", Err: err}
	}
	return written(ctx, op, out, err)
}

// Update changes a user. ErrNotFound if the scope cannot see them;
// ErrForbidden for a field the scope may not set; ErrConflict for a change
// that would leave the organization without an active, unbanned admin.
func (r Users) Update(ctx context.Context, id int, p UserPatch) (*ent.User, policy.Redacted, error) {
	const op = "update user"
	f := fields{}
	if p.Name != nil {
		f.text("name", *p.Name, nonEmptyText, MaxNameLen)
	}
	if p.Phone != nil {
		f.text("phone", *p.Phone, optionalText, MaxPhoneLen)
	}
	if p.Role != nil && user.RoleValidator(user.Role(*p.Role)) != nil {
		f.add("role", "must be admin, manager, member or client")
	}
	if err := f.err(); err != nil {
		return nil, nil, classify(op, err)
	}
	var out *ent.User
	err := database.WithTx(ctx, r.Client, func(tx *ent.Tx) error {
		if p.Role != nil || p.Banned != nil || p.Active != nil {
			if err := lockAdmins(ctx, tx); err != nil {
				return err
			}
		}
		u, err := tx.User.Query().Where(user.ID(id)).ForUpdate().Only(ctx)
		if err != nil {
			return err
		}
		if err := policy.Authorize(ctx, policy.UserUpdate, policy.UserChange{Target: u, Fields: p.fields()}); err != nil {
			return err
		}
		role := string(u.Role)
		if p.Role != nil {
			role = *p.Role
		}
		companyID := u.CompanyID
		if p.CompanyID != nil {
			companyID = p.CompanyID
		}
		if p.ClearCompanyID || p.Role != nil && role != string(user.RoleClient) && p.CompanyID == nil {
			companyID = nil // leaving the client role leaves the company
		}
		if p.Role != nil || p.CompanyID != nil || p.ClearCompanyID {
			v := fields{}
			validateRole(v, role, companyID)
			if err := v.err(); err != nil {
				return err
			}
		}
		if err := keepAnAdmin(ctx, tx, u, p); err != nil {
			return err
		}
		if same(p.Name, u.Name) && same(p.Phone, u.Phone) && same(p.Banned, u.Banned) && same(p.Active, u.Active) &&
			role == string(u.Role) && sameCompany(companyID, u.CompanyID) {
			out = u // nothing to write: no updated_at bump
			return nil
		}
		upd := tx.User.UpdateOne(u).
			SetNillableName(p.Name).SetNillablePhone(p.Phone).
			SetNillableBanned(p.Banned).SetNillableActive(p.Active)
		if p.Role != nil {
			upd.SetRole(user.Role(role))
		}
		// Clear the company only when there is one: the write policy
		// counts a clear as a change of company_id, which a user may not
		// make to themself.
		if companyID == nil && u.CompanyID != nil {
			upd.ClearCompanyID()
		} else if companyID != nil && p.CompanyID != nil {
			upd.SetCompanyID(*companyID)
		}
		out, err = upd.Save(ctx)
		return err
	})
	return written(ctx, op, out, err)
}

// lockAdmins locks the organization's active, unbanned admins in id order
// before a change that may remove one of them. Taking these locks first, in
// one order, makes two admins changing each other at once queue instead of
// deadlock; the second then sees the first's committed change.
func lockAdmins(ctx context.Context, tx *ent.Tx) error {
	_, err := tx.User.Query().
		Where(user.RoleEQ(user.RoleAdmin), user.Banned(false), user.Active(true)).
		Order(user.ByID()).ForUpdate().IDs(ctx)
	return err
}

// keepAnAdmin refuses a change that demotes, bans or deactivates the last
// active, unbanned admin of the organization. The other admins' rows are
// locked, so two admins demoting each other at once cannot both succeed.
func keepAnAdmin(ctx context.Context, tx *ent.Tx, u *ent.User, p UserPatch) error {
	stillAdmin := (p.Role == nil || *p.Role == string(user.RoleAdmin)) &&
		(p.Banned == nil || !*p.Banned) && (p.Active == nil || *p.Active)
	if !effectiveAdmin(u) || stillAdmin {
		return nil
	}
	return requireOtherAdmin(ctx, tx, u)
}

func effectiveAdmin(u *ent.User) bool { return u.Role == user.RoleAdmin && !u.Banned && u.Active }

func requireOtherAdmin(ctx context.Context, tx *ent.Tx, u *ent.User) error {
	others, err := tx.User.Query().
		Where(user.RoleEQ(user.RoleAdmin), user.Banned(false), user.Active(true), user.IDNEQ(u.ID)).
		Order(user.ByID()).ForUpdate().IDs(ctx)
	if err != nil {
		return err
	}
	if len(others) == 0 {
		return conflict("the organization's last admin")
	}
	return nil
}

// Delete deletes a user and their sessions. A user who wrote notes or
// created jobs is ErrConflict (ban them instead); so is the last admin.
func (r Users) Delete(ctx context.Context, id int) error {
	const op = "delete user"
	err := database.WithTx(ctx, r.Client, func(tx *ent.Tx) error {
		if err := lockAdmins(ctx, tx); err != nil {
			return err
		}
		u, err := authorized(ctx, policy.UserDelete, tx.User.Query().Where(user.ID(id)).ForUpdate().Only)
		if err != nil {
			return err
		}
		if effectiveAdmin(u) {
			if err := requireOtherAdmin(ctx, tx, u); err != nil {
				return err
			}
		}
		if _, err := tx.Session.Delete().Where(session.UserID(u.ID)).Exec(ctx); err != nil {
			return err
		}
		err = tx.User.DeleteOne(u).Exec(ctx)
		if database.ForeignKeyViolated(err) {
			return conflict("the user wrote notes or created jobs; ban them instead")
		}
		return err
	})
	return classifyQuery(op, err)
}
