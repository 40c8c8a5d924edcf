//go:build scopegate_shadow

package rules

// SwitchOffForShadowRun turns every ent rule of this package off (off =
// true) or back on, so that a shadow run can check PostgreSQL's row-level
// security alone against the model. It exists only in binaries built with
// the scopegate_shadow tag: no production build can call it.
func SwitchOffForShadowRun(off bool) { shadowOff.Store(off) }
