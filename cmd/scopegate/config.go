package main

import (
	"flag"
	"log/slog"
	"strings"

	"github.com/scopegate/scopegate/internal/logging"
)

// Every flag has an environment variable (docs/design.md section 11). Most are
// SCOPEGATE_ and the flag's name in upper case, '-' as '_' (--batch-size:
// SCOPEGATE_BATCH_SIZE); applyEnv sets them, so a command sees one value
// whichever way it was given. A few flags' commands read their variables
// themselves, because there are several in an order (DATABASE_URL,
// MIGRATE_DATABASE_URL), an old name, or empty means something
// (SCOPEGATE_OPS_ADDR=): their help texts name them.

// Environment variables of the logging flags.
const (
	envLogFormat = "SCOPEGATE_LOG_FORMAT"
	envLogLevel  = "SCOPEGATE_LOG_LEVEL"
	envAddr      = "SCOPEGATE_ADDR"
)

// ownEnv are the flags whose commands read their environment themselves.
var ownEnv = map[string]bool{
	"database-url": true, // DATABASE_URL, or MIGRATE_DATABASE_URL then DATABASE_URL
	"dev-url":      true, // SCOPEGATE_DEV_DATABASE_URL, SCOPEGATE_TEST_DATABASE_URL, DATABASE_URL
	"db-max-conns": true, // SCOPEGATE_DB_MAX_CONNS, then DATABASE_MAX_CONNS (deprecated)
	"ops-addr":     true, // SCOPEGATE_OPS_ADDR, where empty disables the listener
	"pprof":        true, // SCOPEGATE_PPROF
	"replica-url":  true, // DATABASE_REPLICA_URL, a list beside DATABASE_URL
}

// noEnv are the flags that must be typed: a confirmation left in the
// environment would confirm every later run.
var noEnv = map[string]bool{"yes": true}

// envNames are the names that are not SCOPEGATE_<FLAG>: where the plain
// name would mislead, or two commands' flags of one name mean different
// things. Keyed by the command (without the program name) and the flag.
var envNames = map[string]string{
	"migrate diff --dir": "SCOPEGATE_MIGRATIONS_DIR",
	"migrate hash --dir": "SCOPEGATE_MIGRATIONS_DIR",
	"db grant --role":    "SCOPEGATE_APP_ROLE", // beside SCOPEGATE_APP_PASSWORD; user create's --role is a user's role
}

// flagEnv returns the environment variable applyEnv reads for the flag
// name of the command at path, or "" for a flag it leaves alone.
func flagEnv(path []string, name string) string {
	if ownEnv[name] || noEnv[name] {
		return ""
	}
	if v, ok := envNames[strings.Join(path[1:], " ")+" --"+name]; ok {
		return v
	}
	return "SCOPEGATE_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// applyEnv sets every flag not given on the command line from its
// environment variable, if set: a flag given beats its variable, even at
// its default value. A bad value is a usage error naming the variable.
func applyEnv(e *env, fs *flag.FlagSet, path []string) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name := flagEnv(path, f.Name)
		if err != nil || given[f.Name] || name == "" {
			return
		}
		v, ok := e.lookup(name)
		if !ok {
			return
		}
		if serr := fs.Set(f.Name, v); serr != nil {
			err = usagef("%s=%q: %v", name, v, serr)
		}
	})
	return err
}

// logFlags are every command's --log-format and --log-level, checked when
// set, so that a bad value names the flag or the variable it came from.
type logFlags struct {
	format *formatValue
	level  *levelValue
}

func addLogFlags(fs *flag.FlagSet, level slog.Level) logFlags {
	f := logFlags{format: &formatValue{logging.FormatText}, level: &levelValue{level}}
	fs.Var(f.format, "log-format", "log `format` on stderr: text or json")
	fs.Var(f.level, "log-level", "log `level`: debug, info, warn or error")
	return f
}

// logger builds the command's logger on e.stderr.
func (f logFlags) logger(e *env) (*slog.Logger, error) {
	return logging.New(e.stderr, f.format.s, f.level.l)
}

type formatValue struct{ s string }

func (v *formatValue) String() string { return v.s }
func (v *formatValue) Set(s string) error {
	if _, err := logging.New(nil, s, slog.LevelInfo); err != nil {
		return err
	}
	v.s = s
	return nil
}

type levelValue struct{ l slog.Level }

func (v *levelValue) String() string { return strings.ToLower(v.l.String()) }
func (v *levelValue) Set(s string) error {
	l, err := logging.ParseLevel(s)
	if err != nil {
		return err
	}
	v.l = l
	return nil
}
