package httpapi

import (
	"errors"

	"github.com/scopegate/scopegate/internal/policy"
	"github.com/scopegate/scopegate/internal/preload"
)

// countRefusal counts, in the metrics, a policy denial or a preload refusal
// answered to a client. Both errors carry their decision (the action; the
// entity and surface), and every one of them reaches the client through
// writeError: counting here keeps internal/policy and internal/preload free
// of observers, and costs the allowed path nothing.
func (s *Server) countRefusal(err error) {
	if s.metrics == nil {
		return
	}
	var (
		pol *policy.Error
		pe  *preload.Error
	)
	if errors.As(err, &pol) {
		s.metrics.PolicyDenied(string(pol.Decision.Action))
	}
	if errors.As(err, &pe) {
		s.metrics.PreloadRefused(string(pe.Entity), pe.Surface.String())
	}
}
