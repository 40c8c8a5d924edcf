// Package logtest captures what a logger writes, for tests: a buffer that a
// server's goroutines may write while the test reads it, and the JSON lines
// of a log (logging.New with format "json").
package logtest

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
)

// Buffer is an output stream safe for concurrent writes and reads.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Lines decodes every line of out as a JSON object; a line that is not one
// fails the test at once.
func Lines(tb testing.TB, out string) []map[string]any {
	tb.Helper()
	var got []map[string]any
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			tb.Fatalf("not a JSON line: %q: %v", l, err)
		}
		got = append(got, m)
	}
	return got
}
