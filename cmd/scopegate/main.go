// Command scopegate runs the Scopegate service and its maintenance tasks
// (docs/design.md section 7). The command table is in commands.go; each group of
// commands has its own file.
//
// Exit codes: 0 success, 1 failure, 2 usage error. Errors go to stderr.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, lookupenv: os.LookupEnv})
	stop()
	os.Exit(code)
}
