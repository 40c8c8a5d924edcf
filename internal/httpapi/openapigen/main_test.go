package main

import (
	"bytes"
	"os"
	"testing"
)

// The checked-in document is what this generator writes (CI's go generate
// drift check says the same; this says it in `go test`).
func TestCheckedInDocumentIsCurrent(t *testing.T) {
	want, err := render(document())
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("internal/httpapi/openapi.json is stale: run go generate ./internal/httpapi")
	}
}
