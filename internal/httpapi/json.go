package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// MaxBodyBytes caps every request body.
const MaxBodyBytes = 1 << 20

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

// decode reads exactly one JSON object into v: unknown fields, wrong types,
// trailing data and bodies over MaxBodyBytes are a bad request.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooBig):
			return badRequestf(fmt.Sprintf("body over %d bytes", MaxBodyBytes))
		case errors.As(err, &typeErr):
			return &badRequest{msg: "wrong type", fields: map[string]string{typeErr.Field: "must be " + typeErr.Type.String()}}
		case errors.Is(err, io.EOF):
			return badRequestf("empty body")
		}
		// encoding/json has no typed error for DisallowUnknownFields; its
		// message is the only way to name the field. The name is the
		// client's own input, cut short before it is echoed.
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			name = strings.Trim(name, `"`)
			if len(name) > 64 {
				name = name[:64]
			}
			return &badRequest{msg: "unknown field", fields: map[string]string{name: "unknown"}}
		}
		return badRequestf("malformed JSON: " + err.Error())
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequestf("trailing data after the JSON object")
	}
	return nil
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
