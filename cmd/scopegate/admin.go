package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/organization"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/demo"
	"github.com/scopegate/scopegate/internal/repo"
	"github.com/scopegate/scopegate/internal/scope"
)

// systemContext returns ctx with a system scope whose reason names the
// command: operator commands are audited like batch jobs.
func systemContext(ctx context.Context, reason string) (context.Context, error) {
	s, err := scope.System("cli: " + reason).Scope()
	if err != nil {
		return nil, err
	}
	return scope.NewContext(ctx, s), nil
}

func seedDemo(fs *flag.FlagSet) action {
	db := addDBFlags(fs)
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected argument %q", args[0])
		}
		d, err := db.open(ctx, e)
		if err != nil {
			return err
		}
		defer d.Close()
		wrote, err := demo.Seed(ctx, d.Client)
		if err != nil {
			return err
		}
		if !wrote {
			fmt.Fprintln(e.stdout, "the demo world is already there")
		} else {
			fmt.Fprintln(e.stdout, "seeded the demo world")
		}
		printLogins(e)
		return nil
	}
}

func orgCreate(fs *flag.FlagSet) action {
	db := addDBFlags(fs)
	name := fs.String("name", "", "organization `name` (required)")
	slug := fs.String("slug", "", "unique `slug` (required)")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected argument %q", args[0])
		}
		if *name == "" || *slug == "" {
			return usagef("--name and --slug are required")
		}
		d, err := db.open(ctx, e)
		if err != nil {
			return err
		}
		defer d.Close()
		sctx, err := systemContext(ctx, "org create "+*slug)
		if err != nil {
			return err
		}
		var o *ent.Organization
		err = database.WithTx(sctx, d.Client, func(tx *ent.Tx) (err error) {
			o, err = tx.Organization.Create().SetName(*name).SetSlug(*slug).Save(sctx)
			return err
		})
		if ent.IsConstraintError(err) {
			return fmt.Errorf("organization %q exists already", *slug)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "created organization %d %q (%s)\n", o.ID, o.Slug, o.Name)
		return nil
	}
}

// userCreate bootstraps a user without a token: the operator's system scope,
// narrowed to the organization, goes through the same repository (and so the
// same validation and password hashing) as POST /api/users.
func userCreate(fs *flag.FlagSet) action {
	db := addDBFlags(fs)
	org := fs.String("org", "", "organization `slug` (required)")
	email := fs.String("email", "", "`email` (required)")
	name := fs.String("name", "", "`name` (required)")
	role := fs.String("role", "", "`role`: admin, manager, member or client (required)")
	password := fs.String("password", "", "`password`, at least 10 characters (required)")
	phone := fs.String("phone", "", "`phone`")
	companyID := fs.Int("company-id", 0, "company `id` (clients only)")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected argument %q", args[0])
		}
		var missing []string
		for flagName, v := range map[string]string{"org": *org, "email": *email, "name": *name, "role": *role, "password": *password} {
			if v == "" {
				missing = append(missing, "--"+flagName)
			}
		}
		if len(missing) > 0 {
			return usagef("missing %s", strings.Join(missing, ", "))
		}
		d, err := db.open(ctx, e)
		if err != nil {
			return err
		}
		defer d.Close()
		sctx, err := systemContext(ctx, "user create "+*email)
		if err != nil {
			return err
		}
		o, err := d.Organization.Query().Where(organization.Slug(*org)).Only(sctx)
		if ent.IsNotFound(err) {
			return fmt.Errorf("no organization with slug %q", *org)
		}
		if err != nil {
			return err
		}
		s, err := scope.System("cli: user create " + *email).InOrg(o.ID).Scope()
		if err != nil {
			return err
		}
		in := repo.UserInput{Email: *email, Name: *name, Phone: *phone, Role: *role, Password: *password}
		if *companyID != 0 {
			in.CompanyID = companyID
		}
		u, err := repo.New(d.Client).Users.Create(scope.NewContext(ctx, s), in)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "created user %d %s (%s) in %s\n", u.ID, u.Email, u.Role, o.Slug)
		return nil
	}
}

// userByEmail loads a user under a system scope, for commands that act on
// behalf of or about a user.
func userByEmail(ctx context.Context, c *ent.Client, email string) (*ent.User, error) {
	u, err := c.User.Query().Where(user.Email(strings.ToLower(email))).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, fmt.Errorf("no user with email %q", email)
	}
	return u, err
}
