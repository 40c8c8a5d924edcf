// Package audit records what the system scope does: every mutation under a
// system scope writes an AuditEvent in the mutation's own transaction, and
// every query under it is logged with its reason, at debug level (the
// audit events are the record). A system scope is the one principal that
// can cross tenants, so nothing it does goes unrecorded.
package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/intercept"
	"github.com/scopegate/scopegate/internal/rules"
	"github.com/scopegate/scopegate/internal/scope"
)

// ErrNoTransaction is returned for a system-scope mutation outside a
// transaction: its audit event could not be written atomically with it.
var ErrNoTransaction = errors.New("audit: system-scope mutations must run in a transaction")

// Actor is the actor of every event the system scope writes.
const Actor = "system"

type observerKey struct{}

// WithObserver returns ctx in which each query and each mutation made under
// a system scope calls observe: the jobs runner counts its runs'
// operations with it (scopegate_system_scope_operations_total).
func WithObserver(ctx context.Context, observe func()) context.Context {
	return context.WithValue(ctx, observerKey{}, observe)
}

func observe(ctx context.Context) {
	if f, ok := ctx.Value(observerKey{}).(func()); ok {
		f()
	}
}

// mutation is what the hook needs of a generated mutation.
type mutation interface {
	ent.Mutation
	ID() (int, bool)
	IDs(context.Context) ([]int, error)
	Client() *ent.Client
}

// Hook writes one AuditEvent per row changed under a system scope, through
// the mutation's own transaction client, after the change succeeded. A
// system-scope mutation outside a transaction is refused before it runs.
func Hook() ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			s, ok := scope.FromContext(ctx)
			if !ok || !s.IsSystem() || m.Type() == ent.TypeAuditEvent {
				return next.Mutate(ctx, m)
			}
			mm, ok := m.(mutation)
			if !ok {
				return nil, fmt.Errorf("audit: %T cannot be audited", m)
			}
			if _, err := txOf(mm); err != nil {
				return nil, fmt.Errorf("%w (%s %s)", ErrNoTransaction, m.Op(), m.Type())
			}
			observe(ctx)
			// Read what an update or delete will touch before it runs:
			// afterwards deleted rows are gone.
			var (
				ids  []int
				orgs map[int]int
			)
			if !m.Op().Is(ent.OpCreate) {
				var err error
				if ids, err = mm.IDs(ctx); err != nil {
					return nil, fmt.Errorf("audit: ids of %s: %w", m.Type(), err)
				}
				if orgs, err = orgsOf(ctx, mm, ids); err != nil {
					return nil, err
				}
			}
			v, err := next.Mutate(ctx, m)
			if err != nil {
				return v, err
			}
			if n, ok := v.(int); ok && m.Op().Is(ent.OpDeleteOne) && n == 0 {
				// DeleteOneID of a missing (or, under InOrg, another
				// tenant's) row deletes nothing; ent turns the 0 into a
				// NotFoundError after the hooks, so nothing is recorded.
				return v, nil
			}
			if m.Op().Is(ent.OpCreate) {
				id, _ := mm.ID()
				ids = []int{id}
				if orgs, err = orgsOf(ctx, mm, ids); err != nil {
					return nil, err
				}
			}
			if err := record(ctx, mm, s, ids, orgs); err != nil {
				return nil, err
			}
			return v, nil
		})
	}
}

func txOf(m mutation) (*ent.Tx, error) {
	type txer interface{ Tx() (*ent.Tx, error) }
	t, ok := m.(txer)
	if !ok {
		return nil, ErrNoTransaction
	}
	return t.Tx()
}

func record(ctx context.Context, m mutation, s scope.Scope, ids []int, orgs map[int]int) error {
	if len(ids) == 0 {
		return nil
	}
	action := actionOf(m.Op())
	c := m.Client()
	builders := make([]*ent.AuditEventCreate, 0, len(ids))
	for _, id := range ids {
		b := c.AuditEvent.Create().
			SetActor(Actor).
			SetReason(s.Reason()).
			SetAction(action).
			SetObject(m.Type()).
			SetObjectID(strconv.Itoa(id))
		if org, ok := orgs[id]; ok {
			b.SetOrgID(org)
		}
		builders = append(builders, b)
	}
	if err := c.AuditEvent.CreateBulk(builders...).Exec(rules.AuditWriterContext(ctx)); err != nil {
		return fmt.Errorf("audit: writing %d events: %w", len(builders), err)
	}
	return nil
}

func actionOf(op ent.Op) string {
	switch {
	case op.Is(ent.OpCreate):
		return "create"
	case op.Is(ent.OpUpdate | ent.OpUpdateOne):
		return "update"
	case op.Is(ent.OpDelete | ent.OpDeleteOne):
		return "delete"
	}
	return op.String()
}

// orgsOf tells which tenant each touched row belongs to, so that a tenant's
// admins see the system's changes to their rows. It reads the rows, a
// create's too: an upsert's id may be the row its conflict hit, of another
// tenant than the insert named. Sessions belong to no tenant directly and
// are recorded without one.
func orgsOf(ctx context.Context, m mutation, ids []int) (map[int]int, error) {
	out := make(map[int]int, len(ids))
	if m.Type() == ent.TypeOrganization {
		for _, id := range ids {
			out[id] = id
		}
		return out, nil
	}
	orgs, err := m.Client().OrgsOf(ctx, m.Type(), ids)
	if err != nil {
		return nil, fmt.Errorf("audit: tenants of %s rows: %w", m.Type(), err)
	}
	return orgs, nil
}

// LogSystemQueries returns the interceptor that logs every query made under
// a system scope to log, with its reason, at debug level (nil: no log), and
// counts it for the observer in the query's context (WithObserver). The
// audit events are the record, and a batch job would otherwise bury its
// progress under a line per query. It is a plain interceptor: intermediate
// traversal steps are part of the one logged query. database.NewClient
// registers it on every client, with the logger of database.Options, so
// that each client logs where its owner says and nothing is global.
func LogSystemQueries(log *slog.Logger) ent.Interceptor {
	return intercept.Func(func(ctx context.Context, q intercept.Query) error {
		if s, ok := scope.FromContext(ctx); ok && s.IsSystem() {
			observe(ctx)
			if log != nil && log.Enabled(ctx, slog.LevelDebug) {
				org, _ := s.OrgID()
				log.DebugContext(ctx, "system scope query",
					slog.String("type", q.Type()),
					slog.String("reason", s.Reason()),
					slog.Int("org_id", org))
			}
		}
		return nil
	})
}
