// Package openapitest checks HTTP exchanges with the API against its
// OpenAPI 3.1 document (httpapi.OpenAPI), with
// github.com/pb33f/libopenapi-validator. Tests wrap their client's transport
// once (Validator.Client), so that every request they send and every answer
// they read is validated; a mismatch fails the round trip with an error that
// names the route, the status and the validator's messages.
//
// What is checked:
//   - the request: its path, method, path and query parameters and body
//     match an operation, unless the test marked it deliberately invalid
//     (Invalid); a request without credentials to a signed-in route must be
//     answered 401;
//   - the response: its status is one the operation documents, its body
//     matches that status's schema (closed objects: an undocumented field
//     fails), its documented headers match;
//   - a path that is not in the document must answer a 4xx error body
//     (404 not_found), and a documented path with a method it does not list
//     must answer 405 method_not_allowed with Allow.
//
// It is a test helper: nothing in the server imports it.
package openapitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/helpers"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"

	"github.com/scopegate/scopegate/internal/httpapi"
)

// ErrMismatch is the class of every error Check returns: an exchange the
// document does not describe.
var ErrMismatch = errors.New("openapi: exchange does not match the document")

// Validator checks exchanges against one document. It is safe for
// concurrent use.
type Validator struct {
	v      validator.Validator
	model  *v3.Document
	errors *base.Schema // components/schemas/Error
	schema schema_validation.SchemaValidator
}

// New returns a Validator of the document doc (JSON or YAML).
func New(doc []byte) (*Validator, error) {
	d, err := libopenapi.NewDocument(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi: parse: %w", err)
	}
	m, err := d.BuildV3Model()
	if err != nil {
		return nil, fmt.Errorf("openapi: build model: %w", err)
	}
	v, errs := validator.NewValidator(d)
	if len(errs) > 0 {
		return nil, fmt.Errorf("openapi: validator: %w", errors.Join(errs...))
	}
	if ok, errs := v.ValidateDocument(); !ok { // against the OpenAPI 3.1 schema
		return nil, fmt.Errorf("openapi: the document is not valid OpenAPI: %s", describe(errs))
	}
	out := &Validator{v: v, model: &m.Model, schema: schema_validation.NewSchemaValidator()}
	if m.Model.Components != nil && m.Model.Components.Schemas != nil {
		if p := m.Model.Components.Schemas.GetOrZero("Error"); p != nil {
			out.errors = p.Schema()
		}
	}
	if out.errors == nil {
		return nil, errors.New("openapi: the document has no components/schemas/Error")
	}
	return out, nil
}

var (
	serverOnce sync.Once
	server     *Validator
	serverErr  error
)

// Server returns the Validator of the document the server serves, built
// once per test binary (compiling its schemas is the expensive part).
func Server() (*Validator, error) {
	serverOnce.Do(func() { server, serverErr = New(httpapi.OpenAPI()) })
	return server, serverErr
}

type invalidKey struct{}

// Invalid marks req as deliberately invalid (malformed JSON, a wrong content
// type, an unknown field, an id that is not one): its request side is not
// checked, its response still is.
func Invalid(req *http.Request) *http.Request {
	return req.WithContext(context.WithValue(req.Context(), invalidKey{}, true))
}

func isInvalid(req *http.Request) bool {
	b, _ := req.Context().Value(invalidKey{}).(bool)
	return b
}

// Client returns a copy of c (nil: http.DefaultClient) whose transport
// validates every exchange.
func (v *Validator) Client(c *http.Client) *http.Client {
	if c == nil {
		c = http.DefaultClient
	}
	out := *c
	out.Transport = v.Transport(c.Transport)
	return &out
}

// ReportingClient is Client, but a mismatch goes to report (a test's
// Errorf, say) and the response is returned as it came, so that a test
// sees every mismatch rather than the first.
func (v *Validator) ReportingClient(c *http.Client, report func(error)) *http.Client {
	if c == nil {
		c = http.DefaultClient
	}
	out := *c
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	out.Transport = roundTripper{v: v, base: base, report: report}
	return &out
}

// Transport wraps base (nil: http.DefaultTransport) so that every exchange
// is validated; a mismatch is the round trip's error, with the route,
// status and the validator's messages.
func (v *Validator) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return roundTripper{v: v, base: base}
}

type roundTripper struct {
	v    *Validator
	base http.RoundTripper
	// report, if set, receives mismatches instead of the caller.
	report func(error)
}

func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return nil, fmt.Errorf("openapi: %s %s: a request body that cannot be read twice (use http.NewRequest with a bytes or strings reader)", req.Method, req.URL.Path)
		}
		r, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		reqBody, err = io.ReadAll(r)
		if err != nil {
			return nil, err
		}
	}
	res, err := rt.base.RoundTrip(req)
	if err != nil {
		return res, err
	}
	resBody, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(resBody))
	if err := rt.v.Check(req, reqBody, res, resBody); err != nil {
		if rt.report == nil {
			return nil, err
		}
		rt.report(err)
	}
	return res, nil
}

// Check validates one exchange: req with its body reqBody, answered by res
// with its body resBody (res.Body is not read).
func (v *Validator) Check(req *http.Request, reqBody []byte, res *http.Response, resBody []byte) error {
	vreq := req.Clone(req.Context())
	vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
	vreq.ContentLength = int64(len(reqBody))
	vres := *res
	vres.Body = io.NopCloser(bytes.NewReader(resBody))
	vres.Request = vreq

	fail := func(route, side string, msg string) error {
		return fmt.Errorf("%w: %s %s (route %s) -> %d: %s: %s; body %.300s",
			ErrMismatch, req.Method, req.URL.RequestURI(), route, res.StatusCode, side, msg, resBody)
	}

	pathItem, pathErrs, template := v.findPath(vreq)
	if pathItem == nil || helpers.ExtractOperation(vreq, pathItem) == nil {
		// Not an operation of the document: the server must say so.
		if err := v.checkFallback(vreq, &vres, resBody, pathItem, pathErrs); err != nil {
			return fail("none", "response", err.Error())
		}
		return nil
	}
	route := req.Method + " " + template

	if !isInvalid(req) {
		if ok, errs := v.v.ValidateHttpRequestSyncWithPathItem(vreq, pathItem, template); !ok {
			var security, other []*verrors.ValidationError
			for _, e := range errs {
				if e.ValidationType == helpers.SecurityValidation {
					security = append(security, e)
				} else {
					other = append(other, e)
				}
			}
			if len(other) > 0 {
				return fail(route, "request (mark it openapitest.Invalid if it is deliberately wrong)", describe(other))
			}
			// No credentials at all: the one documented answer is 401.
			if len(security) > 0 && res.StatusCode != http.StatusUnauthorized {
				return fail(route, "request without the credentials the route requires, answered other than 401", describe(security))
			}
		}
	}
	if ok, errs := v.v.ValidateHttpResponse(vreq, &vres); !ok {
		return fail(route, "response", describe(errs))
	}
	return nil
}

// findPath finds the document's path for req, whatever its method.
func (v *Validator) findPath(req *http.Request) (*v3.PathItem, []*verrors.ValidationError, string) {
	r := req.Clone(req.Context())
	item, errs, template := v.findPathFor(r)
	if item != nil {
		return item, errs, template
	}
	// The method may be the only mismatch: look the path up under each
	// method the document uses.
	for _, m := range []string{"GET", "POST", "PATCH", "DELETE", "PUT"} {
		r.Method = m
		if item, _, template := v.findPathFor(r); item != nil {
			return item, errs, template
		}
	}
	return nil, errs, ""
}

func (v *Validator) findPathFor(req *http.Request) (*v3.PathItem, []*verrors.ValidationError, string) {
	for p := v.model.Paths.PathItems.First(); p != nil; p = p.Next() {
		if matchTemplate(p.Key(), req.URL.Path) {
			if helpers.ExtractOperation(req, p.Value()) != nil {
				return p.Value(), nil, p.Key()
			}
		}
	}
	return nil, nil, ""
}

// matchTemplate reports whether path fits template, segment by segment,
// a {name} segment matching any one non-empty segment.
func matchTemplate(template, path string) bool {
	ts, ps := strings.Split(template, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i := range ts {
		if strings.HasPrefix(ts[i], "{") && strings.HasSuffix(ts[i], "}") {
			if ps[i] == "" {
				return false
			}
			continue
		}
		if ts[i] != ps[i] {
			return false
		}
	}
	return true
}

// checkFallback checks the answer to a request that is no operation of the
// document: pathItem is the documented path if only the method is wrong.
func (v *Validator) checkFallback(req *http.Request, res *http.Response, body []byte, pathItem *v3.PathItem, _ []*verrors.ValidationError) error {
	var want []int
	if pathItem != nil {
		want = []int{http.StatusMethodNotAllowed}
	}
	if res.StatusCode < 400 || res.StatusCode > 499 || want != nil && !slices.Contains(want, res.StatusCode) {
		if pathItem != nil {
			return fmt.Errorf("%s is not an operation of a documented path: want %v, got %d", req.Method, want, res.StatusCode)
		}
		return fmt.Errorf("the path is not in the document: want a 4xx error (404 not_found), got %d", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("an error answer with content type %q, not JSON", ct)
	}
	if ok, errs := v.schema.ValidateSchemaBytes(v.errors, body); !ok {
		return fmt.Errorf("not an Error body: %s", describe(errs))
	}
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return err
	}
	// The code must be the one the document gives that status.
	resp := v.componentResponseFor(res.StatusCode)
	if resp == "" {
		return fmt.Errorf("status %d is no error of the document", res.StatusCode)
	}
	if codes := v.codesOf(resp); !slices.Contains(codes, e.Error.Code) {
		return fmt.Errorf("code %q with status %d; the document gives it %v", e.Error.Code, res.StatusCode, codes)
	}
	if res.StatusCode == http.StatusMethodNotAllowed && res.Header.Get("Allow") == "" {
		return errors.New("405 without Allow")
	}
	return nil
}

// componentResponseFor names the components/responses entry an operation
// refers to for status (every operation uses the same one).
func (v *Validator) componentResponseFor(status int) string {
	code := strconv.Itoa(status)
	for p := v.model.Paths.PathItems.First(); p != nil; p = p.Next() {
		for o := p.Value().GetOperations().First(); o != nil; o = o.Next() {
			if o.Value().Responses == nil || o.Value().Responses.Codes == nil {
				continue
			}
			if r := o.Value().Responses.Codes.GetOrZero(code); r != nil && r.GoLow() != nil && r.GoLow().IsReference() {
				ref := r.GoLow().GetReference()
				return ref[strings.LastIndex(ref, "/")+1:]
			}
		}
	}
	// A status no operation answers (405): the component of that name.
	if status == http.StatusMethodNotAllowed {
		return "MethodNotAllowed"
	}
	return ""
}

// codesOf lists the error codes a components/responses entry allows.
func (v *Validator) codesOf(name string) []string {
	r := v.model.Components.Responses.GetOrZero(name)
	if r == nil {
		return nil
	}
	mt := r.Content.GetOrZero("application/json")
	if mt == nil || mt.Schema == nil {
		return nil
	}
	var codes []string
	var walk func(s *base.Schema, depth int)
	walk = func(s *base.Schema, depth int) {
		if s == nil || depth > 6 {
			return
		}
		for _, a := range s.AllOf {
			walk(a.Schema(), depth+1)
		}
		if s.Properties == nil {
			return
		}
		if e := s.Properties.GetOrZero("error"); e != nil {
			walk(e.Schema(), depth+1)
		}
		if c := s.Properties.GetOrZero("code"); c != nil {
			for _, n := range c.Schema().Enum {
				codes = append(codes, n.Value)
			}
		}
	}
	walk(mt.Schema.Schema(), 0)
	return codes
}

// describe writes the validator's errors on one line each: message,
// reason, and for a schema failure the failing field and why.
func describe(errs []*verrors.ValidationError) string {
	var b strings.Builder
	for i, e := range errs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Message)
		if e.Reason != "" && e.Reason != e.Message {
			b.WriteString(": " + e.Reason)
		}
		for _, s := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, " [%s: %s]", cmpOr(s.FieldPath, s.KeywordLocation), s.Reason)
		}
	}
	return b.String()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
