package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/scopegate/scopegate/internal/version"
)

// env is what a command may touch of the process: its output streams and
// its environment. Tests pass their own.
type env struct {
	// stdin is read only by commands asked to (user create
	// --password-stdin); nil reads as empty.
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// lookupenv, if set, also tells an empty variable from an unset one,
	// for the settings where empty means something (SCOPEGATE_OPS_ADDR=
	// disables the ops listener). Without it, empty is unset.
	lookupenv func(string) (string, bool)
	// log is the command's logger (--log-format, --log-level), on
	// stderr; runLeaf sets it, and makes it slog's default while the
	// command runs, so that every package logs through it.
	log *slog.Logger
}

// logger returns the command's logger, or a text logger on stderr for a
// command run without runLeaf (tests of one setting).
func (e *env) logger() *slog.Logger {
	if e.log != nil {
		return e.log
	}
	return slog.New(slog.NewTextHandler(e.stderr, nil))
}

// lookup returns the environment variable k and whether it is set.
func (e *env) lookup(k string) (string, bool) {
	if e.lookupenv != nil {
		return e.lookupenv(k)
	}
	v := e.getenv(k)
	return v, v != ""
}

// flagGiven reports whether the flag name was on the command line: a flag
// beats its environment variable even when given its default value.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// command is one node of the command tree (see commands.go): a group, which
// has subcommands, or a leaf, which has setup.
type command struct {
	name    string
	args    string // positional arguments for the synopsis, e.g. "NAME"
	summary string // one line, shown in the parent's list
	help    string // shown by --help below the synopsis
	// setup defines the leaf's flags on fs and returns its action, which
	// runs once the flags are parsed, with the positional arguments.
	setup func(fs *flag.FlagSet) action
	subs  []*command
	// verbose: the leaf logs at info by default (serve), not warn,
	// which keeps a command's progress bar and results readable.
	verbose bool
}

// setupLeaf defines the leaf's flags, the logging flags among them, on fs.
func setupLeaf(cmd *command, fs *flag.FlagSet) (action, logFlags) {
	act := cmd.setup(fs)
	level := slog.LevelWarn
	if cmd.verbose {
		level = slog.LevelInfo
	}
	return act, addLogFlags(fs, level)
}

type action func(ctx context.Context, e *env, args []string) error

// usageError is a mistake in the command line (exit status 2). run prints it
// with the usage of the command it was found in.
type usageError struct {
	msg  string
	cmd  *command
	path []string
}

func (u *usageError) Error() string { return u.msg }

// usagef returns a usage error; dispatch fills in the command.
func usagef(format string, a ...any) error {
	return &usageError{msg: fmt.Sprintf(format, a...)}
}

// run executes the command line args (without the program name) and returns
// the exit status: 0 success, 1 failure, 2 usage error.
func run(ctx context.Context, args []string, e *env) int {
	err := dispatch(ctx, e, root, []string{root.name}, args)
	if err == nil {
		return 0
	}
	var u *usageError
	if errors.As(err, &u) {
		fmt.Fprintf(e.stderr, "%s: %s\n\n", strings.Join(u.path, " "), u.msg)
		printUsage(e.stderr, u.cmd, u.path, false)
		return 2
	}
	fmt.Fprintf(e.stderr, "%s: %v\n", root.name, err)
	return 1
}

func isVersion(arg string) bool { return arg == "--version" || arg == "-version" }

func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}

func dispatch(ctx context.Context, e *env, cmd *command, path, args []string) error {
	if cmd.subs == nil {
		return runLeaf(ctx, e, cmd, path, args)
	}
	if len(args) == 0 {
		return &usageError{msg: "missing command", cmd: cmd, path: path}
	}
	if cmd == root && isVersion(args[0]) {
		if len(args) > 1 {
			return &usageError{msg: fmt.Sprintf("unexpected argument %q", args[1]), cmd: cmd, path: path}
		}
		printVersion(e.stdout)
		return nil
	}
	if isHelp(args[0]) {
		// "help [COMMAND...]" shows the help of a subcommand.
		for _, name := range args[1:] {
			sub := find(cmd, name)
			if sub == nil {
				return &usageError{msg: fmt.Sprintf("unknown command %q", name), cmd: cmd, path: path}
			}
			cmd, path = sub, append(path, name)
		}
		printUsage(e.stdout, cmd, path, true)
		return nil
	}
	sub := find(cmd, args[0])
	if sub == nil {
		msg := fmt.Sprintf("unknown command %q", args[0])
		if strings.HasPrefix(args[0], "-") {
			msg = fmt.Sprintf("unknown flag %q (flags go after the command)", args[0])
		}
		return &usageError{msg: msg, cmd: cmd, path: path}
	}
	return dispatch(ctx, e, sub, append(path, sub.name), args[1:])
}

func find(cmd *command, name string) *command {
	for _, s := range cmd.subs {
		if s.name == name {
			return s
		}
	}
	return nil
}

func runLeaf(ctx context.Context, e *env, cmd *command, path, args []string) error {
	fs := newFlagSet(path)
	act, lf := setupLeaf(cmd, fs)
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(e.stdout, cmd, path, true)
		return nil
	}
	if err == nil {
		err = applyEnv(e, fs, path)
	}
	if err == nil {
		e.log, err = lf.logger(e)
	}
	if err == nil && cmd.args == "" && len(pos) > 0 {
		// A command whose synopsis names no arguments takes none.
		err = usagef("unexpected argument %q", pos[0])
	}
	if err == nil {
		// One logger for the process: slog's default too (the system
		// scope's query log, and the standard log package, which
		// slog.SetDefault sends through it).
		prev := slog.Default()
		slog.SetDefault(e.log)
		defer slog.SetDefault(prev)
		err = act(ctx, e, pos)
	}
	var u *usageError
	if errors.As(err, &u) && u.cmd == nil {
		u.cmd, u.path = cmd, path
	}
	return err
}

func newFlagSet(path []string) *flag.FlagSet {
	fs := flag.NewFlagSet(strings.Join(path, " "), flag.ContinueOnError)
	fs.SetOutput(io.Discard) // run prints errors and usage itself
	return fs
}

// parseInterspersed parses flags wherever they are among the positional
// arguments ("diff NAME --dir x" as well as "diff --dir x NAME"), which the
// flag package alone does not. After "--" everything is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if !errors.Is(err, flag.ErrHelp) {
				err = usagef("%s", flagMessage(err))
			}
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// flagMessage rewrites the flag package's errors, which name a flag with
// one dash ("-bogus"), with the two dashes this CLI documents and its users
// type.
func flagMessage(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return fmt.Sprintf("unknown flag %q", "--"+strings.TrimPrefix(name, "-"))
	}
	for _, marker := range []string{"flag needs an argument: -", " for flag -", " for -"} {
		if i := strings.LastIndex(msg, marker); i >= 0 && !strings.HasPrefix(msg[i+len(marker):], "-") {
			return msg[:i+len(marker)] + "-" + msg[i+len(marker):]
		}
	}
	return msg
}

// printUsage writes cmd's usage: synopsis, the help text if long, and its
// subcommands or flags.
func printUsage(w io.Writer, cmd *command, path []string, long bool) {
	name := strings.Join(path, " ")
	synopsis := name
	if cmd.subs != nil {
		synopsis += " COMMAND"
	} else {
		if cmd.args != "" {
			synopsis += " " + cmd.args
		}
		if hasFlags(cmd) {
			synopsis += " [flags]"
		}
	}
	fmt.Fprintf(w, "Usage: %s\n\n", synopsis)
	switch {
	case !long:
	case cmd.help != "":
		fmt.Fprintf(w, "%s\n\n", strings.TrimSpace(cmd.help))
	case cmd.summary != "":
		fmt.Fprintf(w, "%s.\n\n", upperFirst(cmd.summary))
	}
	if cmd.subs != nil {
		fmt.Fprintln(w, "Commands:")
		width := 0
		for _, s := range cmd.subs {
			width = max(width, len(s.name))
		}
		for _, s := range cmd.subs {
			fmt.Fprintf(w, "  %-*s  %s\n", width, s.name, s.summary)
		}
		fmt.Fprintf(w, "\nRun '%s COMMAND --help' for a command's arguments and flags.\n", name)
		return
	}
	fs := newFlagSet(path)
	setupLeaf(cmd, fs)
	fmt.Fprintln(w, "Flags:")
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if arg != "" {
			line += " " + arg
		}
		fmt.Fprintf(w, "%s\n      %s", line, usage)
		if f.DefValue != "" && f.DefValue != "false" {
			fmt.Fprintf(w, " (default %q)", f.DefValue)
		}
		if name := flagEnv(path, f.Name); name != "" {
			fmt.Fprintf(w, " ($%s)", name)
		}
		fmt.Fprintln(w)
	})
}

// hasFlags: every leaf has at least the logging flags.
func hasFlags(cmd *command) bool { return cmd.setup != nil }

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// printVersion writes what 'scopegate version' and 'scopegate --version'
// print: the module version, the VCS revision and time, the Go version.
func printVersion(w io.Writer) {
	v := version.Get()
	fmt.Fprintf(w, "scopegate %s\n", v)
}

func versionCmd(fs *flag.FlagSet) action {
	return func(ctx context.Context, e *env, args []string) error {
		printVersion(e.stdout)
		return nil
	}
}
