package listing_test

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/scopegate/scopegate/internal/listing"
)

func Example() {
	type fruit struct {
		Name  string `json:"name"`
		Count int    `json:"count"`
	}
	fruits := []fruit{{"apple", 3}, {"kiwi", 12}}
	l := listing.Listing{
		Owner:  "fruit",
		Data:   fruits,
		Header: []string{"NAME", "COUNT"},
		Markdown: func(b *strings.Builder) {
			b.WriteString("# Fruit\n")
			for _, f := range fruits {
				fmt.Fprintf(b, "- %s: %d\n", f.Name, f.Count)
			}
		},
	}
	for _, f := range fruits {
		l.Rows = append(l.Rows, []string{f.Name, fmt.Sprint(f.Count)})
	}
	for _, format := range listing.Formats {
		if err := listing.Write(os.Stdout, format, l); err != nil {
			fmt.Println(err)
		}
	}
	err := listing.Write(os.Stdout, "yaml", l)
	fmt.Println(err, errors.Is(err, listing.ErrUnknownFormat))
	// Output:
	// NAME   COUNT
	// apple  3
	// kiwi   12
	// [
	//   {
	//     "name": "apple",
	//     "count": 3
	//   },
	//   {
	//     "name": "kiwi",
	//     "count": 12
	//   }
	// ]
	// # Fruit
	// - apple: 3
	// - kiwi: 12
	// fruit: unknown format (known: table, json, markdown): "yaml" true
}
