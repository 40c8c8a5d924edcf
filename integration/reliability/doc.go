// Package reliability tests the server and the batch jobs under faults: a
// process killed in the middle of its work and run again, and what the
// database holds afterwards, checked row by row (issue 13,
// docs/reliability.md). Its tests run the real binary against a real
// PostgreSQL database.
package reliability
