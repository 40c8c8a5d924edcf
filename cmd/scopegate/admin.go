package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"sort"
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
	jobCount := fs.Int("jobs", demo.DefaultJobs, fmt.Sprintf("`number` of jobs the demo world should have, %d to %d: the ones past the first %d\n"+
		"      are added (half of them published), also to a world already there", demo.DefaultJobs, demo.MaxJobs, demo.DefaultJobs))
	return func(ctx context.Context, e *env, args []string) error {
		if *jobCount < demo.DefaultJobs || *jobCount > demo.MaxJobs {
			return usagef("--jobs must be %d to %d, not %d", demo.DefaultJobs, demo.MaxJobs, *jobCount)
		}
		d, err := db.open(ctx, e)
		if err != nil {
			return err
		}
		defer d.Close()
		res, err := demo.SeedWith(ctx, d.Client, demo.Options{Jobs: *jobCount, Progress: newProgress(e.stderr)})
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("interrupted: the jobs committed so far stay; run the same command again to add the rest: %w", err)
		}
		if err != nil {
			return err
		}
		switch {
		case res.Seeded:
			fmt.Fprintln(e.stdout, "seeded the demo world")
		default:
			fmt.Fprintln(e.stdout, "the demo world is already there")
		}
		if res.Added > 0 {
			fmt.Fprintf(e.stdout, "added %d jobs: the demo organizations have %d\n", res.Added, res.Jobs)
		}
		printLogins(e)
		return nil
	}
}

// slugPattern is what an organization's slug may be (docs/design.md section 7):
// lowercase letters, digits and dashes, starting and ending with a letter or
// digit (so that it never reads as a flag), at most 63 characters.
var slugPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

func orgCreate(fs *flag.FlagSet) action {
	db := addDBFlags(fs)
	name := fs.String("name", "", "organization `name` (required)")
	slug := fs.String("slug", "", "unique `slug`: lowercase letters, digits and dashes (required)")
	return func(ctx context.Context, e *env, args []string) error {
		if err := requireFlags(map[string]string{"name": *name, "slug": *slug}); err != nil {
			return err
		}
		if !slugPattern.MatchString(*slug) {
			return usagef("--slug %q: use lowercase letters, digits and dashes (e.g. acme-staffing), starting and ending with a letter or digit, at most 63 characters", *slug)
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

// requireFlags returns a usage error naming the flags whose value is
// empty, in name order: "missing --email, --name".
func requireFlags(values map[string]string) error {
	var missing []string
	for name, v := range values {
		if v == "" {
			missing = append(missing, "--"+name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	if len(missing) == len(values) && len(values) == 2 {
		return usagef("%s and %s are required", missing[0], missing[1])
	}
	return usagef("missing %s", strings.Join(missing, ", "))
}

// orgScope returns ctx under the operator's system scope narrowed to the
// organization of slug (looked up under an all-tenant one), for commands
// that write into one tenant through the repositories, as its admin would.
func orgScope(ctx context.Context, c *ent.Client, slug, reason string) (context.Context, *ent.Organization, error) {
	sctx, err := systemContext(ctx, reason)
	if err != nil {
		return nil, nil, err
	}
	o, err := c.Organization.Query().Where(organization.Slug(slug)).Only(sctx)
	if ent.IsNotFound(err) {
		return nil, nil, fmt.Errorf("no organization with slug %q", slug)
	}
	if err != nil {
		return nil, nil, err
	}
	s, err := scope.System("cli: " + reason).InOrg(o.ID).Scope()
	if err != nil {
		return nil, nil, err
	}
	return scope.NewContext(ctx, s), o, nil
}

// companyCreate creates a company in an organization, under the operator's
// system scope narrowed to it, through the same repository (and so the same
// validation) as POST /api/companies.
func companyCreate(fs *flag.FlagSet) action {
	db := addDBFlags(fs)
	org := fs.String("org", "", "organization `slug` (required)")
	name := fs.String("name", "", "company `name` (required)")
	return func(ctx context.Context, e *env, args []string) error {
		if err := requireFlags(map[string]string{"org": *org, "name": *name}); err != nil {
			return err
		}
		d, err := db.open(ctx, e)
		if err != nil {
			return err
		}
		defer d.Close()
		octx, o, err := orgScope(ctx, d.Client, *org, "company create "+*name)
		if err != nil {
			return err
		}
		c, _, err := repo.New(d.Client).Companies.Create(octx, repo.CompanyInput{Name: *name})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "created company %d %q in %s\n", c.ID, c.Name, o.Slug)
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
	password := fs.String("password", "", "`password`, at least 10 characters (required, or --password-stdin);\n"+
		"      visible to other users of the machine while the command runs")
	passwordStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	phone := fs.String("phone", "", "`phone`")
	companyID := idFlag(fs, "company-id", "company `id` (clients only)")
	return func(ctx context.Context, e *env, args []string) error {
		if *passwordStdin {
			if *password != "" {
				return usagef("--password and --password-stdin exclude each other")
			}
			p, err := readPassword(e.stdin)
			if err != nil {
				return err
			}
			*password = p
		}
		if err := requireFlags(map[string]string{"org": *org, "email": *email, "name": *name, "role": *role, "password": *password}); err != nil {
			if *passwordStdin && *password == "" {
				return usagef("%v (standard input was empty)", err)
			}
			return err
		}
		d, err := db.open(ctx, e)
		if err != nil {
			return err
		}
		defer d.Close()
		octx, o, err := orgScope(ctx, d.Client, *org, "user create "+*email)
		if err != nil {
			return err
		}
		in := repo.UserInput{Email: *email, Name: *name, Phone: *phone, Role: *role, Password: *password}
		if *companyID != 0 {
			in.CompanyID = companyID
		}
		u, _, err := repo.New(d.Client).Users.Create(octx, in) // the system scope: nothing is redacted
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "created user %d %s (%s) in %s\n", u.ID, u.Email, u.Role, o.Slug)
		return nil
	}
}

// readPassword reads the first line of r, without its line ending: what
// 'printf %s "$PW" | scopegate user create --password-stdin' and a
// password file both give.
func readPassword(r io.Reader) (string, error) {
	if r == nil {
		return "", nil
	}
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
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
