package jobs_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"strings"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/auditevent"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/demo"
	"github.com/scopegate/scopegate/internal/jobs"
	"github.com/scopegate/scopegate/internal/scope"
)

// publishDrafts is a small custom job: it publishes every draft job.
// Select returns only rows that still need the work, so a run that was
// interrupted continues where it stopped when it is run again.
type publishDrafts struct{}

func (publishDrafts) Name() string        { return "publish-drafts" }
func (publishDrafts) Description() string { return "publish every draft job" }

func (publishDrafts) Count(ctx context.Context, c *ent.Client) (int, error) {
	return c.Job.Query().Where(job.StatusEQ(job.StatusDraft)).Count(ctx)
}

func (publishDrafts) Select(ctx context.Context, tx *ent.Tx, after, limit int) ([]int, error) {
	return tx.Job.Query().Where(job.StatusEQ(job.StatusDraft), job.IDGT(after)).
		Order(job.ByID()).Limit(limit).ForUpdate().IDs(ctx)
}

func (publishDrafts) Apply(ctx context.Context, tx *ent.Tx, ids []int) (int, error) {
	// The UPDATE re-checks the condition Select used.
	return tx.Job.Update().Where(job.IDIn(ids...), job.StatusEQ(job.StatusDraft)).
		SetStatus(job.StatusPublished).Save(ctx)
}

// A run works under a system scope whose reason names the job, the run and
// the operator's note. Each batch is one transaction, and every row it
// changes writes an audit event in that same transaction, with the reason
// and the row's tenant. The demo world has one draft in each of its two
// organizations; with batches of one row, the run takes two.
func ExampleRunner_Run() {
	ctx := context.Background()
	db, err := demo.OpenEmbedded(ctx, demo.InMemory, database.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	quiet := slog.New(slog.DiscardHandler) // the runner logs a summary line per run
	runner := jobs.NewRunner(db.Client, quiet, publishDrafts{})
	sum, err := runner.Run(ctx, "publish-drafts", jobs.Options{Note: "ticket OPS-7", BatchSize: 1})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("matched %d, changed %d, in %d batches\n", sum.Matched, sum.Changed, sum.Batches)

	// The audit trail, read under a system scope of its own. The run id
	// (a time and a random suffix) is replaced to keep the output stable.
	sys, err := scope.System("example: read the audit trail").Scope()
	if err != nil {
		log.Fatal(err)
	}
	sysCtx := scope.NewContext(ctx, sys)
	events, err := db.AuditEvent.Query().
		Where(auditevent.ReasonHasPrefix("job publish-drafts")).
		Order(auditevent.ByID()).All(sysCtx)
	if err != nil {
		log.Fatal(err)
	}
	slugs, err := demo.OrgSlugs(ctx, db.Client)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range events {
		fmt.Printf("%s %s of %s by %s: %s\n", e.Action, e.Object, slugs[*e.OrgID], e.Actor,
			strings.Replace(e.Reason, sum.RunID, "<run>", 1))
	}
	// Output:
	// matched 2, changed 2, in 2 batches
	// update Job of acme by system: job publish-drafts run <run>: ticket OPS-7
	// update Job of globex by system: job publish-drafts run <run>: ticket OPS-7
}
