// Package logging owns the process's one slog logger (docs/design.md section 11):
// its format and level, and the request id every line written while
// serving a request carries. The HTTP server puts the id in the request's
// context (NewContext); the Handler adds it to every record logged with
// that context (InfoContext(ctx, ...)), whichever package logs it.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

type ctxKey struct{}

// NewContext returns ctx carrying the request id id.
func NewContext(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// RequestID returns the request id ctx carries, if any.
func RequestID(ctx context.Context) (string, bool) {
	id, ok := ctx.Value(ctxKey{}).(string)
	return id, ok && id != ""
}

// RequestIDKey is the attribute under which the Handler writes the id.
const RequestIDKey = "request_id"

// Handler adds the request id of the record's context to every record, so
// that a line logged while serving a request names the request, whoever
// logs it. It wraps another handler, which formats and writes.
type Handler struct {
	next slog.Handler
	// base and ops rebuild next with the id before any group: once
	// WithGroup was called, a record's attributes land in the group.
	base    slog.Handler
	ops     []func(slog.Handler) slog.Handler
	grouped bool
}

var _ slog.Handler = (*Handler)(nil)

// NewHandler returns h with request ids added. A *Handler is returned as
// it is: wrapping twice would write the id twice.
func NewHandler(h slog.Handler) *Handler {
	if lh, ok := h.(*Handler); ok {
		return lh
	}
	return &Handler{next: h, base: h}
}

// Enabled reports whether the wrapped handler handles level.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle writes r with the request id of ctx, if any, as its first
// attribute, outside any group.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	id, ok := RequestID(ctx)
	if !ok {
		return h.next.Handle(ctx, r)
	}
	if !h.grouped {
		// The id first, then the record's own attributes.
		rr := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
		rr.AddAttrs(slog.String(RequestIDKey, id))
		r.Attrs(func(a slog.Attr) bool { rr.AddAttrs(a); return true })
		return h.next.Handle(ctx, rr)
	}
	// Groups were opened: rebuild the chain with the id added before
	// them, so that it stays a top-level key. Rare (nothing here logs
	// under a group); correct before fast.
	next := h.base.WithAttrs([]slog.Attr{slog.String(RequestIDKey, id)})
	for _, op := range h.ops {
		next = op(next)
	}
	return next.Handle(ctx, r)
}

// WithAttrs returns a Handler whose records carry attrs.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	op := func(n slog.Handler) slog.Handler { return n.WithAttrs(attrs) }
	return h.with(op, false)
}

// WithGroup returns a Handler whose later attributes are in the group name.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	op := func(n slog.Handler) slog.Handler { return n.WithGroup(name) }
	return h.with(op, true)
}

func (h *Handler) with(op func(slog.Handler) slog.Handler, group bool) *Handler {
	ops := append(h.ops[:len(h.ops):len(h.ops)], op)
	return &Handler{next: op(h.next), base: h.base, ops: ops, grouped: h.grouped || group}
}

// The formats of --log-format.
const (
	FormatText = "text"
	FormatJSON = "json"
)

// ParseLevel reads a level of --log-level: debug, info, warn or error.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("log level must be debug, info, warn or error, not %q", s)
}

// New returns a logger writing to w in format (text or json) from level
// up, with request ids added (Handler).
func New(w io.Writer, format string, level slog.Level) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch strings.ToLower(strings.TrimSpace(format)) {
	case FormatText:
		h = slog.NewTextHandler(w, opts)
	case FormatJSON:
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("log format must be text or json, not %q", format)
	}
	return slog.New(NewHandler(h)), nil
}
