package binary

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Answer is one HTTP exchange as a test sees it.
type Answer struct {
	Status     int
	Body       []byte
	RetryAfter string // the Retry-After header
	// Header is the answer's header (nil without an answer).
	Header http.Header
	// Err is a transport error (no answer at all, Status 0) or a body
	// cut short.
	Err  error
	Took time.Duration // from sending the request to the end of the body
}

// ErrorCode is the code of an error answer's body ("" if none).
func (a Answer) ErrorCode() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	json.Unmarshal(a.Body, &e)
	return e.Error.Code
}

// Client keeps up to idle idle connections to a server, so that that many
// clients in parallel reuse theirs, and gives up on any request after
// timeout (a hang is a failure, not a wait).
func Client(idle int, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		MaxIdleConns: idle, MaxIdleConnsPerHost: idle, IdleConnTimeout: time.Minute,
	}}
}

// Send sends one request with c: a JSON body if body is not empty, a
// bearer token if token is not. It never fails the test: whatever
// happened is in the Answer.
func Send(ctx context.Context, c *http.Client, method, url, token, body string) Answer {
	return SendHeader(ctx, c, method, url, token, body, nil)
}

// SendHeader is Send with the request's headers of header added.
func SendHeader(ctx context.Context, c *http.Client, method, url, token, body string, header http.Header) Answer {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return Answer{Err: err}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	start := time.Now()
	res, err := c.Do(req)
	if err != nil {
		return Answer{Err: err, Took: time.Since(start)}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return Answer{Status: res.StatusCode, Body: b, RetryAfter: res.Header.Get("Retry-After"), Header: res.Header, Err: err, Took: time.Since(start)}
}

// Login signs in at the server at base with c (POST /api/session) and
// returns the bearer token; it fails the test unless the answer is 201
// with a token.
func Login(tb testing.TB, c *http.Client, base, email, password string) string {
	tb.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	a := Send(context.Background(), c, "POST", base+"/api/session", "", string(body))
	if a.Err != nil || a.Status != http.StatusCreated {
		tb.Fatalf("login %s: %d %v %s", email, a.Status, a.Err, a.Body)
	}
	var out struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(a.Body, &out); err != nil || out.Token == "" {
		tb.Fatalf("login %s: %s", email, a.Body)
	}
	return out.Token
}
