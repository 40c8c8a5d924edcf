package logging

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/internal/logging/logtest"
)

func TestHandlerAddsRequestID(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, "json", slog.LevelInfo)
	require.NoError(t, err)
	ctx := NewContext(context.Background(), "abc123")

	log.InfoContext(ctx, "in a request", "k", 1)
	log.Info("outside")
	log.With("a", "b").WarnContext(ctx, "with attrs")
	log.WithGroup("g").InfoContext(ctx, "in a group", "k", 2)
	log.DebugContext(ctx, "below the level")

	got := logtest.Lines(t, buf.String())
	require.Len(t, got, 4)
	assert.Equal(t, "abc123", got[0][RequestIDKey])
	assert.EqualValues(t, 1, got[0]["k"])
	assert.NotContains(t, got[1], RequestIDKey)
	assert.Equal(t, "abc123", got[2][RequestIDKey])
	assert.Equal(t, "b", got[2]["a"])
	assert.Equal(t, "abc123", got[3][RequestIDKey], "the id stays a top-level key under a group")
	assert.Equal(t, map[string]any{"k": 2.0}, got[3]["g"])
	assert.NotContains(t, buf.String(), "below the level")
}

func TestNewHandlerDoesNotWrapTwice(t *testing.T) {
	var buf bytes.Buffer
	h := NewHandler(slog.NewTextHandler(&buf, nil))
	assert.Same(t, h, NewHandler(h))
	slog.New(NewHandler(h)).InfoContext(NewContext(context.Background(), "x1"), "once")
	assert.Equal(t, 1, strings.Count(buf.String(), "request_id=x1"), buf.String())
}

func TestParse(t *testing.T) {
	for in, want := range map[string]slog.Level{"debug": slog.LevelDebug, "INFO": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError} {
		got, err := ParseLevel(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err := ParseLevel("loud")
	assert.ErrorContains(t, err, `not "loud"`)
	_, err = New(&bytes.Buffer{}, "xml", slog.LevelInfo)
	assert.ErrorContains(t, err, `not "xml"`)
}
