package preload

import (
	"errors"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/internal/listing"
)

func TestRegistryIsValid(t *testing.T) {
	require.NoError(t, Validate())
}

// TestDesignTable holds the registry to the table of docs/design.md
// section 4, read from the design itself, cell by cell: an entry is
// allowed on a surface exactly where the table does not say "no", it
// filters exactly where the table says "only", and it has a per-parent
// cap exactly where the table says "at most N per". Nothing is listed that
// the table does not have, so a registry entry without its row in the
// design (or the reverse) fails here. (What each filter and order keeps is
// the preload oracle's business: integration/oracle_preload_test.go.)
func TestDesignTable(t *testing.T) {
	rows := designPreloadRows(t)
	require.NotEmpty(t, rows, "no preload table in docs/design.md section 4")
	atMost := regexp.MustCompile(`at most (\d+) per`)
	for key, cells := range rows {
		entity, edge, ok := strings.Cut(key, ".")
		require.True(t, ok, "row %q of docs/design.md section 4 is not entity.edge", key)
		for s, cell := range map[Surface]string{SurfaceUser: cells[0], SurfaceAdmin: cells[1]} {
			d, ok := describe(Entity(entity), s, edge)
			if cell == "no" {
				assert.False(t, ok, "%s must be refused on %s", key, s)
				continue
			}
			if !assert.True(t, ok, "%s must be allowed on %s", key, s) {
				continue
			}
			assert.Equal(t, strings.Contains(cell, " only"), d.Filter != "all", "%s on %s: the design says %q, the registry filters %q", key, s, cell, d.Filter)
			limit := 0
			if m := atMost.FindStringSubmatch(cell); m != nil {
				limit, _ = strconv.Atoi(m[1])
			}
			assert.Equal(t, limit, d.Limit, "%s on %s: per-parent cap", key, s)
		}
	}
	// Nothing beyond the table.
	for _, d := range Describe() {
		_, ok := rows[string(d.Entity)+"."+d.Edge]
		assert.True(t, ok, "the registry lists %s.%s on %s; docs/design.md section 4 has no row for it", d.Entity, d.Edge, d.Surface)
	}
	d, _ := describe(Job, SurfaceUser, "managers")
	assert.Equal(t, "updated_at newest first", d.Order)
	d, _ = describe(Job, SurfaceAdmin, "managers")
	assert.Equal(t, "updated_at newest first", d.Order)
	d, _ = describe(Job, SurfaceUser, "notes")
	assert.Equal(t, NotesPerJob, d.Limit)
}

// designPreloadRows reads the table of docs/design.md section 4: its rows
// by their first cell (job.managers), each with its user and admin cells.
func designPreloadRows(t *testing.T) map[string][2]string {
	t.Helper()
	b, err := os.ReadFile("../../docs/design.md")
	require.NoError(t, err)
	rows := map[string][2]string{}
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "## ") {
			in = strings.HasPrefix(line, "## 4. ")
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if !in || !strings.HasPrefix(line, "|") || len(cells) != 3 {
			continue
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if cells[0] == "entity.edge" || strings.HasPrefix(cells[0], "---") {
			continue
		}
		rows[cells[0]] = [2]string{cells[1], cells[2]}
	}
	return rows
}

func TestParseMergesPaths(t *testing.T) {
	tree, err := Parse(Job, SurfaceUser, "notes,notes.author,company,notes.author")
	require.NoError(t, err)
	assert.Equal(t, []string{"company", "notes.author"}, tree.Paths())
	assert.Len(t, tree.nodes, 3, "company, notes and notes.author, each once")

	tree, err = Parse(Company, SurfaceAdmin, "jobs.notes.author,jobs.managers")
	require.NoError(t, err)
	assert.Equal(t, []string{"jobs.managers", "jobs.notes.author"}, tree.Paths())

	tree, err = Parse(Job, SurfaceUser, "")
	require.NoError(t, err)
	assert.Empty(t, tree.Paths())
	assert.Empty(t, tree.nodes)
}

func TestParseRefuses(t *testing.T) {
	cases := []struct {
		name    string
		entity  Entity
		surface Surface
		raw     string
		path    string
		reason  Reason
	}{
		{"UnknownEdge", Job, SurfaceUser, "company,owner", "owner", ReasonUnknown},
		{"AdminOnlyOnUserSurface", Job, SurfaceUser, "creator", "creator", ReasonUnknown},
		{"AdminOnlyManagedJobs", User, SurfaceUser, "managed_jobs", "managed_jobs", ReasonUnknown},
		{"NestedUnknown", Job, SurfaceUser, "notes.job", "notes.job", ReasonUnknown},
		{"NestedAdminOnly", Company, SurfaceUser, "jobs.creator", "jobs.creator", ReasonUnknown},
		{"TooDeep", Company, SurfaceAdmin, "jobs.notes.author.company", "jobs.notes.author.company", ReasonTooDeep},
		{"Whitespace", Job, SurfaceUser, "company, managers", " managers", ReasonMalformed},
		{"EmptySegment", Job, SurfaceUser, "notes..author", "notes..author", ReasonMalformed},
		{"TrailingComma", Job, SurfaceUser, "company,", "", ReasonMalformed},
		{"Uppercase", Job, SurfaceUser, "Company", "Company", ReasonMalformed},
		{"SQLish", Job, SurfaceUser, "company;drop", "company;drop", ReasonMalformed},
		// With several faults: syntax first, anywhere in the request;
		// then the first unlisted path in sorted order, cut after its
		// first unlisted edge.
		{"MalformedAfterUnlisted", Job, SurfaceUser, "owner,Company", "Company", ReasonMalformed},
		{"TooDeepUnderUnlisted", Job, SurfaceUser, "owner.a.b.c", "owner.a.b.c", ReasonTooDeep},
		{"FirstUnlistedSorted", Job, SurfaceUser, "zeta,company.bogus", "company.bogus", ReasonUnknown},
		{"CutAtFirstUnlisted", Job, SurfaceUser, "notes.job.author", "notes.job", ReasonUnknown},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.entity, c.surface, c.raw)
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrNotAllowed))
			var pe *Error
			require.True(t, errors.As(err, &pe))
			assert.Equal(t, c.path, pe.Path)
			assert.Equal(t, c.entity, pe.Entity)
			assert.Equal(t, c.surface, pe.Surface)
			assert.Equal(t, c.reason, pe.Reason)
			assert.Equal(t, Allowed(c.entity, c.surface), pe.Allowed)
			assert.NotEmpty(t, pe.Allowed)
			assert.Contains(t, err.Error(), "allowed: ")
		})
	}
}

// TestApplyChecksEntity: a tree goes only on a query of the entity it was
// parsed for; the zero Tree goes on any.
func TestApplyChecksEntity(t *testing.T) {
	client := ent.NewClient()
	tree, err := Parse(Company, SurfaceUser, "jobs")
	require.NoError(t, err)
	assert.NotPanics(t, func() { Companies(client.Company.Query(), tree) })
	assert.Panics(t, func() { Jobs(client.Job.Query(), tree) })
	assert.NotPanics(t, func() { Jobs(client.Job.Query(), Tree{}) })
}

func TestSurfaces(t *testing.T) {
	_, err := ParseSurface("superadmin")
	assert.ErrorIs(t, err, ErrUnknownSurface)
	_, err = ParseSurface("")
	assert.ErrorIs(t, err, ErrUnknownSurface)
	for _, s := range Surfaces {
		got, err := ParseSurface(s.String())
		require.NoError(t, err)
		assert.Equal(t, s, got)
	}
	assert.Equal(t, "user", SurfaceUser.String())
	assert.Equal(t, "admin", SurfaceAdmin.String())
	// A Surface nobody set is the narrower one.
	assert.Equal(t, SurfaceUser, Surface{})
}

func TestAllowed(t *testing.T) {
	assert.Equal(t, []string{"company", "company.jobs", "company.jobs.company", "company.jobs.managers", "company.jobs.notes",
		"managers", "managers.company", "managers.company.jobs", "notes", "notes.author", "notes.author.company"},
		Allowed(Job, SurfaceUser))
}

func TestRender(t *testing.T) {
	for _, f := range listing.Formats {
		var b strings.Builder
		require.NoError(t, Render(&b, f), f)
		assert.Contains(t, b.String(), "managers", f)
	}
	assert.ErrorIs(t, Render(&strings.Builder{}, "yaml"), listing.ErrUnknownFormat)
}

// FuzzParse: no input panics, and every accepted path is in the registry.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"company,managers,notes.author", "notes,notes.author", "", ",", "a..b", "jobs.notes.author.company", "creator"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, e := range entities() {
			for _, s := range Surfaces {
				tree, err := Parse(e, s, raw)
				if err != nil {
					var pe *Error
					if !errors.As(err, &pe) {
						t.Fatalf("untyped error %v", err)
					}
					continue
				}
				allowed := map[string]bool{}
				for _, p := range Allowed(e, s) {
					allowed[p] = true
				}
				for _, p := range tree.Paths() {
					if !allowed[p] {
						t.Fatalf("accepted %q on %s/%s, not in registry", p, e, s)
					}
				}
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(Job, SurfaceUser, "company,managers,notes.author"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseApply is the preload work of one list request, without the
// database: parse the request and add its eager loads to a job query. ent
// builds the eager loads without a driver, so no SQL is sent.
func BenchmarkParseApply(b *testing.B) {
	client := ent.NewClient()
	b.ReportAllocs()
	for b.Loop() {
		tree, err := Parse(Job, SurfaceUser, "company,managers,notes.author")
		if err != nil {
			b.Fatal(err)
		}
		Jobs(client.Job.Query(), tree)
	}
}
