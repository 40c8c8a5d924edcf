package httpapi

import (
	"reflect"
	"strconv"
	"testing"

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
