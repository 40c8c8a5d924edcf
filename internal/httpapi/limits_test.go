package httpapi

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"testing"

	"github.com/lib/pq"

	"github.com/scopegate/scopegate/internal/repo"
)

// requestTypes is every request body the API decodes.
var requestTypes = []any{jobRequest{}, noteRequest{}, companyRequest{}, userRequest{}, loginRequest{}}

// TestRequestLimits: every string and id list of every request body
// carries the limit checkLimits enforces, and the limits are the
// repositories' (which are the schema's where it has one).
func TestRequestLimits(t *testing.T) {
	want := map[string]int{
		"jobRequest.title": repo.MaxTitleLen, "jobRequest.description": repo.MaxDescriptionLen,
		"jobRequest.manager_ids": MaxIDs, "noteRequest.body": repo.MaxNoteBodyLen,
		"companyRequest.name": repo.MaxNameLen, "userRequest.email": repo.MaxEmailLen,
		"userRequest.name": repo.MaxNameLen, "userRequest.phone": repo.MaxPhoneLen,
		"userRequest.password": repo.MaxPasswordBytes, "loginRequest.email": repo.MaxEmailLen,
		"loginRequest.password": repo.MaxPasswordBytes,
	}
	for _, v := range requestTypes {
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			f := rt.Field(i)
			ft := f.Type
			if o, ok := reflect.New(ft).Interface().(optional); ok {
				ft = o.valueType()
			}
			if ft.Kind() != reflect.String && ft.Kind() != reflect.Slice {
				continue
			}
			name := rt.Name() + "." + jsonName(f)
			tag := f.Tag.Get("max")
			if tag == "" {
				tag = f.Tag.Get("maxbytes")
			}
			n, err := strconv.Atoi(tag)
			if err != nil {
				t.Errorf("%s has no limit (max or maxbytes tag)", name)
				continue
			}
			if w, ok := want[name]; ok && w != n {
				t.Errorf("%s: limit %d, want %d", name, n, w)
			}
		}
	}
}

// TestDataErrorsAreInvalid: a value PostgreSQL refuses (class 22, a NUL
// byte among them) is the client's input: 422 in a body, 400 in a query,
// never 500, even where no layer classified it first.
func TestDataErrorsAreInvalid(t *testing.T) {
	s := &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	r := httptest.NewRequest(http.MethodPost, "/api/jobs", nil)
	for _, code := range []pq.ErrorCode{"22021", "22001", "22003", "22P02", "22P05"} {
		err := fmt.Errorf("auth: login: %w", &pq.Error{Code: code, Message: "invalid byte sequence"})
		if status, body := s.classify(r, err, true); status != http.StatusUnprocessableEntity || body.Code != "invalid" || len(body.Fields) != 1 {
			t.Errorf("%s in a body: %d %+v, want 422 invalid naming a field", code, status, body)
		}
		if status, _ := s.classify(r, err, false); status != http.StatusBadRequest {
			t.Errorf("%s in a query: %d, want 400", code, status)
		}
	}
}
