// Package listing writes what the command line's list commands list, in the
// three formats they all take: an aligned table for people, indented JSON
// for programs, and the markdown of a document under docs/ that CI
// regenerates and compares.
package listing

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Formats that Write accepts.
var Formats = []string{"table", "json", "markdown"}

// ErrUnknownFormat is returned by Write for a format not in Formats.
var ErrUnknownFormat = fmt.Errorf("unknown format (known: %s)", strings.Join(Formats, ", "))

// Listing is one list, ready for each format.
type Listing struct {
	// Owner names the package whose list it is, in errors ("policy").
	Owner string
	// Data is what the json format encodes.
	Data any
	// Header and Rows are the table's, one string a cell.
	Header []string
	Rows   [][]string
	// Markdown writes the whole document.
	Markdown func(b *strings.Builder)
}

// Write writes l to w in format.
func Write(w io.Writer, format string, l Listing) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(l.Data)
	case "table":
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(l.Header, "\t"))
		for _, r := range l.Rows {
			fmt.Fprintln(tw, strings.Join(r, "\t"))
		}
		return tw.Flush()
	case "markdown":
		// Built whole first: a document is written in one piece or not at all.
		var b strings.Builder
		l.Markdown(&b)
		_, err := io.WriteString(w, b.String())
		return err
	}
	return fmt.Errorf("%s: %w: %q", l.Owner, ErrUnknownFormat, format)
}
