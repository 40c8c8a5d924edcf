package main

import (
	"flag"
	"strings"
	"time"

	"github.com/scopegate/scopegate/internal/database"
)

// envReplicaURL lists the read replicas' URLs, separated by commas, when
// no --replica-url is given.
const envReplicaURL = "DATABASE_REPLICA_URL"

// replicaFlags are serve's read replica flags (docs/scaling.md, Read
// replicas).
type replicaFlags struct {
	urls     *urlList
	maxLag   *time.Duration
	interval *time.Duration
}

func addReplicaFlags(fs *flag.FlagSet) replicaFlags {
	f := replicaFlags{urls: &urlList{}}
	fs.Var(f.urls, "replica-url", "PostgreSQL `URL` of a streaming replica that serves reads; repeat it for several\n"+
		"      (default $"+envReplicaURL+", URLs separated by commas)")
	f.maxLag = fs.Duration("replica-max-lag", database.DefaultReplicaMaxLag,
		"`duration` a replica may be behind the primary and still serve reads")
	f.interval = fs.Duration("replica-check-interval", database.DefaultReplicaCheckInterval,
		"`duration` between checks of each replica's replay position")
	return f
}

// options puts the replicas into opts; the URLs come from the flag, else
// from DATABASE_REPLICA_URL.
func (f replicaFlags) options(e *env, opts *database.Options) error {
	urls := f.urls.urls
	if len(urls) == 0 {
		for _, u := range strings.Split(e.getenv(envReplicaURL), ",") {
			if u = strings.TrimSpace(u); u != "" {
				urls = append(urls, u)
			}
		}
	}
	switch {
	case *f.maxLag <= 0:
		return usagef("--replica-max-lag must be positive")
	case *f.interval <= 0:
		return usagef("--replica-check-interval must be positive")
	}
	for _, u := range urls {
		if !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
			return usagef("a replica URL (--replica-url, %s) must be postgres://…", envReplicaURL)
		}
	}
	opts.Replicas, opts.ReplicaMaxLag, opts.ReplicaCheckInterval = urls, *f.maxLag, *f.interval
	return nil
}

// urlList is a repeatable flag of URLs.
type urlList struct{ urls []string }

func (l *urlList) String() string { return strings.Join(l.urls, ",") }

func (l *urlList) Set(s string) error {
	l.urls = append(l.urls, s)
	return nil
}
