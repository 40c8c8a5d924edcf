//go:build scopegate_shadow

package pgtest

import "github.com/scopegate/scopegate/internal/rules"

func switchOffRules() bool {
	rules.SwitchOffForShadowRun(true)
	return true
}
