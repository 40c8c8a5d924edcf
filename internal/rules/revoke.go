package rules

import (
	"context"
	"errors"
	"fmt"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/hook"
	"github.com/scopegate/scopegate/ent/session"
)

// ErrNeedsTransaction is returned for a mutation whose effects must land
// together but that runs outside a transaction.
var ErrNeedsTransaction = errors.New("rules: this change must run in a transaction")

// RevokeSessionsOnBan deletes the sessions of the users an update bans or
// deactivates, in the update's own transaction (docs/design.md section 3, rule 9): a
// banned user's bearer token must stop working the moment the ban commits,
// not when it expires. It runs after the privacy policy, so it deletes the
// sessions of rows the update was allowed to change, under the same scope.
func RevokeSessionsOnBan() ent.Hook {
	return hook.On(func(next ent.Mutator) ent.Mutator {
		return hook.UserFunc(func(ctx context.Context, m *ent.UserMutation) (ent.Value, error) {
			banned, setsBanned := m.Banned()
			active, setsActive := m.Active()
			if !(setsBanned && banned) && !(setsActive && !active) {
				return next.Mutate(ctx, m)
			}
			if _, err := m.Tx(); err != nil {
				return nil, fmt.Errorf("%w: banning or deactivating a user revokes their sessions", ErrNeedsTransaction)
			}
			// Read the rows first: the update may change what its
			// predicates match.
			ids, err := m.IDs(ctx)
			if err != nil {
				return nil, fmt.Errorf("rules: users to revoke: %w", err)
			}
			v, err := next.Mutate(ctx, m)
			if err != nil || len(ids) == 0 {
				return v, err
			}
			if _, err := m.Client().Session.Delete().Where(session.UserIDIn(ids...)).Exec(ctx); err != nil {
				return nil, fmt.Errorf("rules: revoking sessions: %w", err)
			}
			return v, nil
		})
	}, ent.OpUpdate|ent.OpUpdateOne)
}
