//go:build !scopegate_shadow

package pgtest

// switchOffRules cannot switch the ent rules off: only a binary built with
// -tags scopegate_shadow can.
func switchOffRules() bool { return false }
