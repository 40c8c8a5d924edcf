package main

import (
	"flag"
	"strconv"
)

// idValue is a flag holding a row id. Its zero value prints as nothing, so
// that help does not show (default "0") for an id that has no default.
type idValue int

func (v *idValue) String() string {
	if v == nil || *v == 0 {
		return ""
	}
	return strconv.Itoa(int(*v))
}

func (v *idValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return errNotAnID
	}
	*v = idValue(n)
	return nil
}

// errNotAnID is what the flag package reports as "invalid value … for flag
// --id: must be a positive whole number".
var errNotAnID = errorString("must be a positive whole number")

type errorString string

func (e errorString) Error() string { return string(e) }

// idFlag defines an id flag on fs: 0 (not given), or a positive number.
func idFlag(fs *flag.FlagSet, name, usage string) *int {
	var v idValue
	fs.Var(&v, name, usage)
	return (*int)(&v)
}
