package httpapi

import (
	"testing"
	"time"
)

// TestLoginLimiter: failures count per (email, address) and per address;
// an attempt counts when it starts, so parallel guesses cannot all pass
// before the first failure is recorded; a success forgets the pair's
// failures; the wait is until the blocking window ends.
func TestLoginLimiter(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	l := &loginLimiter{pairLimit: 3, addrLimit: 5, window: time.Minute, now: func() time.Time { return now }, seen: map[string]*window{}}
	for i := 0; i < 3; i++ { // three attempts in flight, none finished
		if _, ok := l.begin("a@x", "10.0.0.1"); !ok {
			t.Fatalf("attempt %d refused", i)
		}
	}
	now = now.Add(20 * time.Second)
	if wait, ok := l.begin("a@x", "10.0.0.1"); ok || wait != 40*time.Second {
		t.Errorf("fourth attempt: %v %v, want refused for 40s", ok, wait)
	}
	if _, ok := l.begin("a@x", "10.0.0.2"); !ok {
		t.Error("the same email from another address was refused")
	}
	l.succeeded("a@x", "10.0.0.2")
	if _, ok := l.begin("b@x", "10.0.0.1"); !ok {
		t.Error("another email behind the address was refused")
	}
	if _, ok := l.begin("c@x", "10.0.0.1"); !ok {
		t.Error("another email behind the address was refused")
	}
	if _, ok := l.begin("d@x", "10.0.0.1"); ok {
		t.Error("a sixth failure from one address was allowed")
	}
	l.succeeded("b@x", "10.0.0.1") // uncounts one of the address's
	if _, ok := l.begin("d@x", "10.0.0.1"); !ok {
		t.Error("a success did not uncount its attempt")
	}
	now = now.Add(41 * time.Second)
	if _, ok := l.begin("a@x", "10.0.0.1"); !ok {
		t.Error("still refused after the window")
	}
}
