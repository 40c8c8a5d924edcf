package repo

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/scopegate/scopegate/ent"
)

// The longest text each field takes, in characters: the schema's
// MaxRuneLen where it has one, and for the text columns (which have none)
// the API's. The HTTP layer checks the same limits before any work.
const (
	MaxTitleLen       = 200
	MaxDescriptionLen = 20000
	MaxNameLen        = 200
	MaxEmailLen       = 320
	MaxPhoneLen       = 50
	MaxNoteBodyLen    = 20000
	// MaxPasswordBytes is bcrypt's limit: it reads no more
	// (bcrypt.ErrPasswordTooLong).
	MaxPasswordBytes = 72
)

// The ways a text field is checked.
const (
	optionalText = iota // may be empty
	requiredText        // a create without it, or with "", is invalid
	nonEmptyText        // a patch may leave it out but not empty it
)

// text checks one text field and says what is wrong in the field's terms.
// PostgreSQL cannot store a NUL byte (22021): refused here, not there.
func (f fields) text(name, v string, mode, maxLen int) {
	switch {
	case v == "" && mode == requiredText:
		f.add(name, "is required")
	case v == "" && mode == nonEmptyText:
		f.add(name, "must not be empty")
	case strings.IndexByte(v, 0) >= 0:
		f.add(name, "must not contain a NUL character")
	case !utf8.ValidString(v):
		f.add(name, "must be valid UTF-8")
	case utf8.RuneCountInString(v) > maxLen:
		f.add(name, fmt.Sprintf("must be at most %d characters", maxLen))
	}
}

// password checks a new password.
func (f fields) password(pw string) {
	switch {
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		f.add("password", fmt.Sprintf("must be at least %d characters", MinPasswordLen))
	case len(pw) > MaxPasswordBytes:
		f.add("password", fmt.Sprintf("must be at most %d bytes", MaxPasswordBytes))
	case strings.IndexByte(pw, 0) >= 0:
		f.add("password", "must not contain a NUL character")
	}
}

// same reports whether a patch field leaves the value cur as it is: it is
// not given, or given equal.
func same[T comparable](v *T, cur T) bool { return v == nil || *v == cur }

// sameIDs reports whether ids names exactly the users of cur, in any order
// and with any repetition.
func sameIDs(ids []int, cur []*ent.User) bool {
	want := make(map[int]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	if len(want) != len(cur) {
		return false
	}
	for _, u := range cur {
		if !want[u.ID] {
			return false
		}
	}
	return true
}

// sameCompany reports whether two optional company ids are equal.
func sameCompany(a, b *int) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}
