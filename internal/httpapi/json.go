package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/scopegate/scopegate/internal/repo"
)

// MaxBodyBytes caps every request body.
const MaxBodyBytes = 1 << 20

// MaxIDs caps every list of ids in a body (manager_ids): PostgreSQL takes at
// most 65,535 parameters in one statement, and the link checks put each id
// in one.
const MaxIDs = 100

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"error":{"code":"internal","message":"internal error"}}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// errUnsupportedMediaType is a body that is not application/json.
var errUnsupportedMediaType = errors.New("the body must be application/json")

// decode reads exactly one JSON object into v, a pointer to a request
// struct: a body that is not application/json is 415; an empty body, one
// over MaxBodyBytes, one that is not an object, unknown fields, wrong types
// and trailing data are a bad request (400). Then every string and id list
// of v is checked against the limits its struct tags declare (checkLimits):
// a NUL byte, an over-long string or too many ids is invalid (422), named by
// its field. Messages speak of JSON, never of Go types.
func decode(r *http.Request, v any) error {
	if r.ContentLength != 0 {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			return errUnsupportedMediaType
		}
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return badRequestf(fmt.Sprintf("the body is over the limit of %d bytes (1 MiB)", MaxBodyBytes))
		}
		return badRequestf("the body could not be read")
	}
	trimmed := bytes.TrimLeft(b, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return badRequestf("empty body")
	case trimmed[0] != '{':
		// null, a list, a string, a number: json would take null as an
		// empty object and name a Go type for the rest.
		return badRequestf("the body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &typeErr):
			name := typeErr.Field
			if i := strings.LastIndexByte(name, '.'); i >= 0 {
				name = name[i+1:]
			}
			return &badRequest{msg: "wrong type", fields: map[string]string{name: wantJSON(v, name)}}
		case errors.As(err, &syntaxErr):
			return badRequestf("malformed JSON: " + syntaxErr.Error())
		case errors.Is(err, io.ErrUnexpectedEOF):
			return badRequestf("malformed JSON: unexpected end of the body")
		}
		// encoding/json has no typed error for DisallowUnknownFields; its
		// message is the only way to name the field. The name is the
		// client's own input, cut short before it is echoed.
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			name = strings.Trim(name, `"`)
			if len(name) > 64 {
				name = name[:64]
			}
			name = strings.ToValidUTF8(strings.ReplaceAll(name, "\x00", ""), "")
			return &badRequest{msg: "unknown field", fields: map[string]string{name: "unknown"}}
		}
		return badRequestf("malformed JSON")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequestf("trailing data after the JSON object")
	}
	return checkLimits(v)
}

// wantJSON says, in JSON's terms, what the field named name of the request
// struct *v must hold.
func wantJSON(v any, name string) string {
	rt := reflect.TypeOf(v).Elem()
	for i := range rt.NumField() {
		f := rt.Field(i)
		if jsonName(f) != name {
			continue
		}
		t := f.Type
		if o, ok := reflect.New(t).Interface().(optional); ok {
			t = o.valueType()
		}
		switch t.Kind() {
		case reflect.String:
			return "must be a string"
		case reflect.Bool:
			return "must be true or false"
		case reflect.Int:
			return "must be an integer from " + strconv.Itoa(minInt) + " to " + strconv.Itoa(maxInt)
		case reflect.Slice:
			return "must be a list of ids (integers)"
		}
	}
	return "has the wrong type"
}

const (
	maxInt = int(^uint(0) >> 1)
	minInt = -maxInt - 1
)

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

// checkLimits checks every string and id list of the request struct *v
// against its tags: `max:"N"` is a string's length in characters or a
// list's length, `maxbytes:"N"` a string's length in bytes (a bcrypt
// password). No string may hold a NUL byte: PostgreSQL cannot store one
// (error 22021). Every string and list field must carry a limit
// (TestRequestLimits checks that), so that this one walk covers every body.
func checkLimits(v any) error {
	rv := reflect.ValueOf(v).Elem()
	rt := rv.Type()
	bad := map[string]string{}
	for i := range rt.NumField() {
		f := rt.Field(i)
		name := jsonName(f)
		val := rv.Field(i).Interface()
		if o, ok := val.(optional); ok {
			var set bool
			if val, set = o.value(); !set {
				continue
			}
		}
		switch x := val.(type) {
		case string:
			if msg := checkString(f, x); msg != "" {
				bad[name] = msg
			}
		case []int:
			if n, _ := strconv.Atoi(f.Tag.Get("max")); len(x) > n {
				bad[name] = fmt.Sprintf("must hold at most %d ids", n)
			}
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return &repo.InvalidError{Fields: bad}
}

func checkString(f reflect.StructField, s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		return "must not contain a NUL character"
	}
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	if n, err := strconv.Atoi(f.Tag.Get("maxbytes")); err == nil && len(s) > n {
		return fmt.Sprintf("must be at most %d bytes", n)
	}
	if n, err := strconv.Atoi(f.Tag.Get("max")); err == nil && utf8.RuneCountInString(s) > n {
		return fmt.Sprintf("must be at most %d characters", n)
	}
	return ""
}

// optional is what checkLimits and wantJSON need of an Optional field.
type optional interface {
	value() (any, bool)
	valueType() reflect.Type
}

// Optional is a PATCH field: Set says whether it was present, Null whether
// it was null.
type Optional[T any] struct {
	Set   bool
	Null  bool
	Value T
}

// UnmarshalJSON implements json.Unmarshaler.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

func (o Optional[T]) value() (any, bool) { return o.Value, o.Set && !o.Null }

func (o Optional[T]) valueType() reflect.Type { return reflect.TypeFor[T]() }

// ptr returns the value if set and not null.
func (o Optional[T]) ptr() *T {
	if !o.Set || o.Null {
		return nil
	}
	v := o.Value
	return &v
}

// nullNotAllowed lists the fields that were sent as null but may not be.
func nullNotAllowed(fields map[string]bool) error {
	bad := map[string]string{}
	for name, isNull := range fields {
		if isNull {
			bad[name] = "may not be null"
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return &badRequest{msg: "null field", fields: bad}
}

// nullable is a request body that knows which of its fields may not be
// null: nulls maps each of them to whether the client sent it as null.
type nullable interface{ nulls() map[string]bool }

// decodeBody decodes r's body into a B (decode) and rejects a null in any
// field B's nulls names, so that no handler can forget the second step.
func decodeBody[B nullable](r *http.Request) (B, error) {
	var in B
	if err := decode(r, &in); err != nil {
		return in, err
	}
	return in, nullNotAllowed(in.nulls())
}

// idAndBody is decodeBody for a request on …/{id}: an id that cannot name a
// row is 404 before the body is read, as it is for GET and DELETE.
func idAndBody[B nullable](r *http.Request) (int, B, error) {
	id, err := pathID(r)
	if err != nil {
		var zero B
		return 0, zero, err
	}
	in, err := decodeBody[B](r)
	return id, in, err
}
