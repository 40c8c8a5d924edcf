// Package migrations embeds the versioned SQL migrations (goose format),
// generated from the ent schema by `go run ./cmd/scopegate migrate diff NAME`
// and applied by `scopegate migrate up`. Do not edit a migration by hand
// without rewriting atlas.sum (`atlas migrate hash`).
package migrations

import "embed"

// FS holds the migration files.
//
//go:embed *.sql
var FS embed.FS
