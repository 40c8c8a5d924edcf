package logtest

import (
	"fmt"
	"sync"
	"testing"
)

// TestBufferTakesConcurrentWrites: lines written from many goroutines all
// arrive whole (run with -race to see the lock matter).
func TestBufferTakesConcurrentWrites(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fmt.Fprintf(&b, "{\"n\":%d}\n", i)
		}()
	}
	wg.Wait()
	if got := Lines(t, b.String()); len(got) != 20 {
		t.Fatalf("%d lines, want 20: %q", len(got), b.String())
	}
}

// TestLinesRejectsText: a line that is not a JSON object fails the test.
func TestLinesRejectsText(t *testing.T) {
	for _, out := range []string{"{\"a\":1}\nplain text\n", "[1]\n", ""} {
		ft := &fakeTB{TB: t}
		func() {
			defer func() { recover() }() // Fatalf ends the helper early
			Lines(ft, out)
		}()
		if !ft.failed {
			t.Errorf("Lines(%q) did not fail", out)
		}
	}
}

type fakeTB struct {
	testing.TB
	failed bool
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(string, ...any) {
	f.failed = true
	panic("fatal")
}
