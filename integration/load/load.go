// Package load is a bounded HTTP load generator and the report it feeds:
// issue 11's benchmark of `scopegate serve` against a hand-written floor
// (./floor). A run sends a fixed number of requests at a fixed concurrency
// to one server; rounds of runs against several servers are interleaved, so
// that drift on a busy machine hits every server alike, and the report
// keeps the median of the per-round ratios.
package load

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Request is one request of a run and the status it must answer.
type Request struct {
	Method, Path, Body string
	Want               int
}

// Result is what one run measured.
type Result struct {
	N         int
	Elapsed   time.Duration
	Latencies []time.Duration // sorted
	Errors    int
	FirstErr  string
	// Mallocs and Bytes are the server's allocations per request, when it
	// exposes them (Metrics).
	Mallocs, Bytes float64
}

// RPS is the run's throughput in requests per second.
func (r Result) RPS() float64 { return float64(r.N) / r.Elapsed.Seconds() }

// Quantile returns the q-quantile of the latencies (nearest rank).
func (r Result) Quantile(q float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(q*float64(len(r.Latencies))+0.5) - 1
	return r.Latencies[min(max(i, 0), len(r.Latencies)-1)]
}

// Client returns an HTTP client that keeps up to conc idle connections to
// one host: the default keeps two, and a benchmark at concurrency 32 would
// then measure TCP handshakes.
func Client(conc int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConns:        conc,
		MaxIdleConnsPerHost: conc,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}, Timeout: time.Minute}
}

// Run sends n requests to base with conc workers; next(i) says what the
// i-th request is. Each answer is read in full; an answer with another
// status than Want counts as an error.
func Run(ctx context.Context, c *http.Client, base, token string, n, conc int, next func(i int) Request) Result {
	lat := make([]time.Duration, n)
	var (
		seq, errs atomic.Int64
		firstErr  sync.Once
		res       = Result{N: n}
		wg        sync.WaitGroup
	)
	fail := func(s string) {
		errs.Add(1)
		firstErr.Do(func() { res.FirstErr = s })
	}
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(seq.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				rq := next(i)
				var body io.Reader
				if rq.Body != "" {
					body = strings.NewReader(rq.Body)
				}
				req, err := http.NewRequestWithContext(ctx, rq.Method, base+rq.Path, body)
				if err != nil {
					fail(err.Error())
					continue
				}
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				if body != nil {
					req.Header.Set("Content-Type", "application/json")
				}
				t0 := time.Now()
				resp, err := c.Do(req)
				if err != nil {
					fail(err.Error())
					continue
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				if err != nil || resp.StatusCode != rq.Want {
					fail(fmt.Sprintf("%s %s: %d %s (%v)", rq.Method, rq.Path, resp.StatusCode, trim(b), err))
				}
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Errors = int(errs.Load())
	slices.Sort(lat)
	res.Latencies = lat
	return res
}

func trim(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// Memory reads a Go process's allocation counters from a Prometheus text
// endpoint (go_memstats_mallocs_total, go_memstats_alloc_bytes_total).
func Memory(c *http.Client, metricsURL string) (mallocs, bytes float64, err error) {
	resp, err := c.Get(metricsURL)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	found := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		// The server prefixes its collectors (scopegate_go_…); the floor
		// does not.
		switch strings.TrimPrefix(name, "scopegate_") {
		case "go_memstats_mallocs_total":
			mallocs, err = strconv.ParseFloat(value, 64)
			found++
		case "go_memstats_alloc_bytes_total":
			bytes, err = strconv.ParseFloat(value, 64)
			found++
		}
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", metricsURL, err)
		}
	}
	if found != 2 {
		return 0, 0, fmt.Errorf("%s: no go_memstats_mallocs_total or go_memstats_alloc_bytes_total", metricsURL)
	}
	return mallocs, bytes, sc.Err()
}

// RSS returns a process's resident set size in bytes, from /proc (Linux).
func RSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range bytes.Lines(b) {
		if rest, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			f := strings.Fields(string(rest))
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024, err
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// Median returns the median of xs (0 for none).
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
