package database

import (
	"database/sql/driver"
	"math"
	"testing"
	"time"
)

// literal is the one place where a value becomes SQL text: everything it
// writes is a single quoted literal (or NULL), and it refuses what cannot
// be one.
func TestLiteral(t *testing.T) {
	at := time.Date(2026, 11, 30, 9, 45, 1, 123456000, time.UTC)
	for _, c := range []struct {
		in   driver.Value
		want string
	}{
		{nil, "NULL"},
		{int64(-42), "'-42'"},
		{3.25, "'3.25'"},
		{true, "'true'"},
		{false, "'false'"},
		{"plain", "'plain'"},
		{"o'hara", "'o''hara'"},
		{`back\slash`, ` E'back\\slash'`},
		{`'); DROP TABLE jobs; --`, `'''); DROP TABLE jobs; --'`},
		{"ünï 例", "'ünï 例'"},
		{at, "'2026-11-30 09:45:01.123456Z'"},
	} {
		got, ok := literal(c.in)
		if !ok || got != c.want {
			t.Errorf("literal(%#v) = %q, %v; want %q", c.in, got, ok, c.want)
		}
	}
	for _, v := range []driver.Value{"nul\x00byte", "bad \xff utf-8", math.NaN(), math.Inf(1), []byte("bytes"), uint8(1)} {
		if got, ok := literal(v); ok {
			t.Errorf("literal(%#v) = %q, want refused", v, got)
		}
	}
}

func TestPreparable(t *testing.T) {
	for q, want := range map[string]bool{
		`SELECT 1`:                      true,
		`WITH x AS (SELECT 1) SELECT 1`: true,
		`INSERT INTO t VALUES ($1)`:     true,
		`update t set a = $1`:           true,
		`(SELECT 1) UNION (SELECT 2)`:   true,
		`EXPLAIN SELECT $1`:             false,
		`SET LOCAL x = 1`:               false,
		`BEGIN`:                         false,
	} {
		if got := preparable(q); got != want {
			t.Errorf("preparable(%q) = %v, want %v", q, got, want)
		}
	}
}
