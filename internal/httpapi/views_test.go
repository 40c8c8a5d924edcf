package httpapi

import (
	"encoding/json"
	"testing"
	"time"
)

// TestJSONTimeWritesWhatTimeWrites: jsonTime is only a faster path to the
// bytes time.Time's MarshalJSON writes, for every precision and zone.
func TestJSONTimeWritesWhatTimeWrites(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("", 5*3600+1800), time.FixedZone("x", -7*3600)}
	for _, loc := range zones {
		for _, ts := range []time.Time{
			time.Date(2026, 11, 30, 12, 0, 0, 0, loc),
			time.Date(2026, 1, 2, 3, 4, 5, 123000000, loc),
			time.Date(1999, 12, 31, 23, 59, 59, 999999999, loc),
			time.Date(2026, 6, 1, 0, 0, 0, 1000, loc),
			time.Now().In(loc),
		} {
			want, err := json.Marshal(ts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(jsonTime(ts))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("%v: jsonTime writes %s, time.Time %s", ts, got, want)
			}
		}
	}
}
