// Package jobs runs batch work under an explicit, audited system scope: rows
// are processed in keyset-ordered batches, each in its own transaction with
// its audit events, so a run can be interrupted between batches and resumed
// by running it again.
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/organization"
	"github.com/scopegate/scopegate/internal/audit"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/scope"
)

// DefaultBatchSize is how many rows one transaction handles.
const DefaultBatchSize = 500

// ErrUnknownJob is returned for a job name that is not registered.
var ErrUnknownJob = errors.New("jobs: unknown job")

// ErrUnknownOrg is returned, before any work, for an --org slug that names
// no organization.
var ErrUnknownOrg = errors.New("jobs: unknown organization")

// ErrInterrupted is returned when a run stopped early because it was asked
// to; the batches done so far are committed, and running again continues.
var ErrInterrupted = errors.New("jobs: interrupted")

// Job is one kind of batch work. Its methods run under the run's system
// scope, inside the batch's transaction. Select must only return rows that
// still need the work, so that a second run skips what the first finished:
// that is what makes runs resumable without a checkpoint table.
type Job interface {
	Name() string
	Description() string
	// Count returns how many rows the job would touch.
	Count(ctx context.Context, c *ent.Client) (int, error)
	// Select returns up to limit ids greater than after, in ascending order,
	// of rows that need the work, locking them.
	Select(ctx context.Context, tx *ent.Tx, after, limit int) ([]int, error)
	// Apply does the work on ids and returns how many rows changed.
	Apply(ctx context.Context, tx *ent.Tx, ids []int) (int, error)
}

// Progress receives the progress of a run. Implementations draw a bar on a
// terminal or log lines elsewhere.
type Progress interface {
	Start(total int)
	Add(n int)
	Finish()
}

// Options of one run.
type Options struct {
	// DryRun counts the rows without writing anything.
	DryRun bool
	// OrgSlug narrows the system scope to one organization.
	OrgSlug string
	// Note is the operator's reason, added to the scope's reason.
	Note string
	// BatchSize: 0 means DefaultBatchSize.
	BatchSize int
	// Stop, when closed, ends the run after the current batch.
	Stop <-chan struct{}
	// Progress may be nil.
	Progress Progress
}

// Summary is what a run did.
type Summary struct {
	Job     string
	RunID   string
	Reason  string
	DryRun  bool
	Matched int // rows that needed the work when the run started
	// Changed and Batches are what the run wrote. A dry run writes
	// nothing: Changed is 0, and Batches is how many a real run would
	// take for Matched rows.
	Changed int
	Batches int
	// BatchSize is the rows per batch the run used (or would use).
	BatchSize int
	Duration  time.Duration
	Stopped   bool
}

// String is the one-line summary printed at the end of a run.
func (s Summary) String() string {
	if s.DryRun {
		// What a real run started now would do: it changes every
		// matched row (Apply re-checks the very filter Count used).
		return fmt.Sprintf("%s run %s: dry run, nothing written; would change %d %s in %d %s of up to %d, %s",
			s.Job, s.RunID, s.Matched, plural(s.Matched, "row"), s.Batches, plural(s.Batches, "batch"), s.BatchSize,
			s.Duration.Round(time.Millisecond))
	}
	state := "done"
	if s.Stopped {
		state = "interrupted (run again to continue)"
	}
	return fmt.Sprintf("%s run %s: %s; changed %d of %d rows in %d batches, %s",
		s.Job, s.RunID, state, s.Changed, s.Matched, s.Batches, s.Duration.Round(time.Millisecond))
}

// Runner runs jobs against one database.
type Runner struct {
	Client *ent.Client
	Log    *slog.Logger
	Jobs   map[string]Job
	// Metrics, if set, counts each query and mutation a run makes under
	// its system scope.
	Metrics Metrics
	// Now is the clock of run ids and durations; nil is time.Now. Tests
	// set it instead of a global, so they can run in parallel.
	Now func() time.Time
}

// Metrics counts what runs do. internal/metrics implements it.
type Metrics interface {
	// SystemScopeOperations returns the counter of job's operations
	// under its system scope.
	SystemScopeOperations(job string) func()
}

// NewRunner returns a runner for jobs.
func NewRunner(c *ent.Client, log *slog.Logger, jobs ...Job) *Runner {
	if log == nil {
		log = slog.Default()
	}
	r := &Runner{Client: c, Log: log, Jobs: map[string]Job{}}
	for _, j := range jobs {
		r.Register(j)
	}
	return r
}

// Register adds a job.
func (r *Runner) Register(j Job) { r.Jobs[j.Name()] = j }

// Names lists the registered jobs.
func (r *Runner) Names() []string {
	var out []string
	for n := range r.Jobs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Runner) newRunID() string {
	var b [4]byte
	rand.Read(b[:])
	return r.now().UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}

// Run runs the job called name. The system scope's reason names the job,
// the run id and the operator's note, and lands in every audit event.
func (r *Runner) Run(ctx context.Context, name string, o Options) (Summary, error) {
	j, ok := r.Jobs[name]
	if !ok {
		return Summary{}, fmt.Errorf("%w %q (known: %s)", ErrUnknownJob, name, strings.Join(r.Names(), ", "))
	}
	start := r.now()
	sum := Summary{Job: name, RunID: r.newRunID(), DryRun: o.DryRun}
	sum.Reason = fmt.Sprintf("job %s run %s", name, sum.RunID)
	if n := strings.TrimSpace(o.Note); n != "" {
		sum.Reason += ": " + n
	}
	if r.Metrics != nil {
		ctx = audit.WithObserver(ctx, r.Metrics.SystemScopeOperations(name))
	}
	ctx, err := r.systemContext(ctx, sum.Reason, o.OrgSlug)
	if err != nil {
		return sum, err
	}
	size := o.BatchSize
	if size <= 0 {
		size = DefaultBatchSize
	}
	sum.BatchSize = size
	if sum.Matched, err = j.Count(ctx, r.Client); err != nil {
		return sum, fmt.Errorf("jobs: %s: count: %w", name, err)
	}
	if o.DryRun {
		sum.Batches = (sum.Matched + size - 1) / size
		sum.Duration = r.now().Sub(start)
		return sum, nil
	}
	if o.Progress != nil {
		o.Progress.Start(sum.Matched)
		defer o.Progress.Finish()
	}
	// A batch in flight finishes even if the caller's context is
	// cancelled: Stop (or the caller's cancellation) is only looked at
	// between batches.
	work := context.WithoutCancel(ctx)
	after := 0
	for {
		if stopped(ctx, o.Stop) {
			sum.Stopped = true
			break
		}
		var ids []int
		var changed int
		err := database.WithTx(work, r.Client, func(tx *ent.Tx) error {
			var err error
			if ids, err = j.Select(work, tx, after, size); err != nil || len(ids) == 0 {
				return err
			}
			changed, err = j.Apply(work, tx, ids)
			return err
		})
		if err != nil {
			sum.Duration = r.now().Sub(start)
			return sum, fmt.Errorf("jobs: %s: batch after id %d: %w", name, after, err)
		}
		if len(ids) == 0 {
			break
		}
		after = ids[len(ids)-1]
		sum.Batches++
		sum.Changed += changed
		if o.Progress != nil {
			o.Progress.Add(changed)
		}
	}
	sum.Duration = r.now().Sub(start)
	r.Log.InfoContext(ctx, "job run", slog.String("summary", sum.String()), slog.String("reason", sum.Reason))
	if sum.Stopped {
		return sum, ErrInterrupted
	}
	return sum, nil
}

func stopped(ctx context.Context, stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	case <-ctx.Done():
		return true
	default:
		return false
	}
}

// systemContext builds the run's system scope, narrowed to one organization
// when a slug is given. The slug is looked up under the all-tenant scope.
func (r *Runner) systemContext(ctx context.Context, reason, slug string) (context.Context, error) {
	all, err := scope.System(reason).Scope()
	if err != nil {
		return nil, err
	}
	ctx = scope.NewContext(ctx, all)
	if slug == "" {
		return ctx, nil
	}
	org, err := r.Client.Organization.Query().Where(organization.Slug(slug)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, fmt.Errorf("%w: no organization with slug %q: %w", ErrUnknownOrg, slug, err)
	}
	if err != nil {
		return nil, fmt.Errorf("jobs: organization %q: %w", slug, err)
	}
	narrowed, err := scope.System(reason).InOrg(org.ID).Scope()
	if err != nil {
		return nil, err
	}
	return scope.NewContext(ctx, narrowed), nil
}

func plural(n int, word string) string {
	switch {
	case n == 1:
		return word
	case word == "batch":
		return "batches"
	}
	return word + "s"
}
