package database

import "github.com/lib/pq"

// QuoteIdentifier quotes a table or column name for PostgreSQL, for the
// few statements ent cannot build (the scale seed's staging and COPY). It
// is here so that the driver stays behind the seam.
func QuoteIdentifier(name string) string { return pq.QuoteIdentifier(name) }
