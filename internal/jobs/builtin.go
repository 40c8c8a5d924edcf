package jobs

import (
	"context"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/session"
)

// lockRows locks a batch's rows until its transaction ends, on the
// databases that can: PostgreSQL takes FOR UPDATE (a concurrent run or
// request waits for the batch instead of changing a row between Select and
// Apply). SQLite has no row locks and rejects the clause ("near FOR: syntax
// error"); it needs none, since it runs one writer at a time and the
// embedded database has a single connection.
func lockRows(s *sql.Selector) {
	if s.Dialect() != dialect.SQLite {
		s.ForUpdate()
	}
}

// ArchiveStale archives published jobs not updated since OlderThan ago, in
// every tenant (or the one of --org).
type ArchiveStale struct {
	OlderThan time.Duration
	// Cutoff is fixed when the job is built, so every batch of a run
	// agrees on what "stale" means.
	Cutoff time.Time
}

// NewArchiveStale returns the job with its cutoff computed from now.
func NewArchiveStale(olderThan time.Duration, now time.Time) *ArchiveStale {
	return &ArchiveStale{OlderThan: olderThan, Cutoff: now.Add(-olderThan)}
}

// Name implements Job.
func (*ArchiveStale) Name() string { return "archive-stale" }

// Description implements Job.
func (*ArchiveStale) Description() string {
	return "archive published jobs not updated for --older-than (all tenants, or --org)"
}

func (a *ArchiveStale) stale(q *ent.JobQuery) *ent.JobQuery {
	return q.Where(job.StatusEQ(job.StatusPublished), job.UpdatedAtLT(a.Cutoff))
}

// Count implements Job.
func (a *ArchiveStale) Count(ctx context.Context, c *ent.Client) (int, error) {
	return a.stale(c.Job.Query()).Count(ctx)
}

// Select implements Job.
func (a *ArchiveStale) Select(ctx context.Context, tx *ent.Tx, after, limit int) ([]int, error) {
	return a.stale(tx.Job.Query()).Where(job.IDGT(after)).Order(job.ByID()).Limit(limit).Unique(false).
		Select(job.FieldID).Modify(lockRows).Ints(ctx)
}

// Apply implements Job.
func (a *ArchiveStale) Apply(ctx context.Context, tx *ent.Tx, ids []int) (int, error) {
	// Re-check the condition in the UPDATE: a row changed since Select
	// (it is locked, but be exact) is left alone.
	return tx.Job.Update().
		Where(job.IDIn(ids...), job.StatusEQ(job.StatusPublished), job.UpdatedAtLT(a.Cutoff)).
		SetStatus(job.StatusArchived).
		Save(ctx)
}

// PurgeSessions deletes expired sessions.
type PurgeSessions struct{ Now time.Time }

// Name implements Job.
func (PurgeSessions) Name() string { return "purge-sessions" }

// Description implements Job.
func (PurgeSessions) Description() string { return "delete expired sessions" }

// Count implements Job.
func (p PurgeSessions) Count(ctx context.Context, c *ent.Client) (int, error) {
	return c.Session.Query().Where(session.ExpiresAtLTE(p.Now)).Count(ctx)
}

// Select implements Job.
func (p PurgeSessions) Select(ctx context.Context, tx *ent.Tx, after, limit int) ([]int, error) {
	return tx.Session.Query().Where(session.ExpiresAtLTE(p.Now), session.IDGT(after)).
		Order(session.ByID()).Limit(limit).Unique(false).Select(session.FieldID).Modify(lockRows).Ints(ctx)
}

// Apply implements Job.
func (p PurgeSessions) Apply(ctx context.Context, tx *ent.Tx, ids []int) (int, error) {
	return tx.Session.Delete().Where(session.IDIn(ids...), session.ExpiresAtLTE(p.Now)).Exec(ctx)
}
