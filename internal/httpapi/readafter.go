package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/repo"
)

// HeaderReadAfter carries read-your-writes across requests when reads go
// to replicas (docs/scaling.md, Read replicas). The answer to a request
// that wrote names the primary's WAL position after its commit; a client
// that sends it back on its next requests reads from a replica only once
// that replica has replayed it, else from the primary, and so sees its own
// writes.
const HeaderReadAfter = "Scopegate-Read-After"

// readAfter is the position a request's reads must be at or after: its
// Scopegate-Read-After header, 0 without one. A header that is not a WAL
// position is invalid input (400), whether or not the server has
// replicas, so that a client learns of its mistake at once.
func readAfter(r *http.Request) (database.LSN, error) {
	v := r.Header.Get(HeaderReadAfter)
	if v == "" {
		return 0, nil
	}
	lsn, err := database.ParseLSN(v)
	if err != nil {
		return 0, &repo.InvalidError{Fields: map[string]string{HeaderReadAfter: err.Error()}, Source: repo.FromQuery}
	}
	return lsn, nil
}

// safeMethod reports whether a request of method only reads, so that its
// reads may come from a replica: nothing it decides can rest on a
// replica's older rows and be written back.
func safeMethod(method string) bool { return method == http.MethodGet || method == http.MethodHead }

// positionWriter adds Scopegate-Read-After to the answer of a request that
// wrote, once its handler starts answering: by then its transactions have
// committed.
type positionWriter struct {
	http.ResponseWriter
	ctx      context.Context
	replicas *database.Replicas
	log      *slog.Logger
	done     bool
}

func (w *positionWriter) WriteHeader(code int) {
	w.position()
	w.ResponseWriter.WriteHeader(code)
}

func (w *positionWriter) Write(b []byte) (int, error) {
	w.position()
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w *positionWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *positionWriter) position() {
	if w.done {
		return
	}
	w.done = true
	if !database.UnitWrote(w.ctx) {
		return
	}
	lsn, err := w.replicas.Position(w.ctx)
	if err != nil {
		// The write stands; only its client's next read may come
		// from a replica that has not replayed it yet.
		w.log.WarnContext(w.ctx, "no WAL position for the answer of a write", slog.Any("error", err))
		return
	}
	w.Header().Set(HeaderReadAfter, lsn.String())
}

// retryOnPrimary reports whether a request that failed with err should be
// run again on the primary: it only reads, the database was unavailable,
// and it read from a replica, which failed it in the middle of a result
// (the seam runs a read that fails before its result again itself).
func retryOnPrimary(r *http.Request, err error) bool {
	return safeMethod(r.Method) && (errors.Is(err, repo.ErrUnavailable) || database.Unavailable(err)) &&
		r.Context().Err() == nil && database.RetryOnPrimary(r.Context())
}
