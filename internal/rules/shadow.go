package rules

import (
	"context"
	"sync/atomic"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/privacy"
)

// shadowOff switches every rule of this package off, for the shadow runs
// that check PostgreSQL's row-level security alone against the model
// (issue 10): the privacy policies allow, the tenant traverser and the edge
// narrowing add nothing. Only a test binary built with the scopegate_shadow
// tag can set it (SwitchOffForShadowRun); in every other build nothing
// writes it.
var shadowOff atomic.Bool

// shadowRule is the first rule of every policy: Allow, ending the
// evaluation, when the rules are switched off; Skip otherwise.
type shadowRule struct{}

func (shadowRule) EvalQuery(context.Context, ent.Query) error { return shadowDecision() }

func (shadowRule) EvalMutation(context.Context, ent.Mutation) error { return shadowDecision() }

func shadowDecision() error {
	if shadowOff.Load() {
		return privacy.Allow
	}
	return privacy.Skip
}
