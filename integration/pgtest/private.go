package pgtest

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// EnvBinDir names the environment variable holding the directory of
// PostgreSQL's server programs (initdb, pg_ctl) for StartPrivate; unset, the
// newest /usr/lib/postgresql/*/bin is used, else the directory of initdb on
// PATH.
const EnvBinDir = "SCOPEGATE_PG_BINDIR"

// Private is a PostgreSQL server of one test's own, in a temporary
// directory on a free port: a test may stop, start and kill it, which it
// must never do to the shared server.
type Private struct {
	// URL connects to its postgres database as the postgres superuser
	// (trust authentication on 127.0.0.1).
	URL  string
	Port int
	bin  string
	dir  string // holds data/, the socket and the log
	cred *syscall.Credential
}

// StartPrivate initializes and starts a private server, stopped and
// removed in tb.Cleanup. initdb refuses to run as root: as root, the
// server's programs run as the postgres user.
func StartPrivate(tb testing.TB) *Private {
	tb.Helper()
	bin, err := serverBinDir()
	if err != nil {
		tb.Fatalf("pgtest: private server: %v", err)
	}
	dir, err := os.MkdirTemp("", "scopegate-pg-")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Private{bin: bin, dir: dir}
	tb.Cleanup(func() {
		p.ctl("stop", "-m", "immediate") // already stopped is fine
		os.RemoveAll(dir)
	})
	if os.Geteuid() == 0 {
		if p.cred, err = postgresCredential(); err != nil {
			tb.Fatalf("pgtest: private server: %v", err)
		}
		if err := os.Chown(dir, int(p.cred.Uid), int(p.cred.Gid)); err != nil {
			tb.Fatal(err)
		}
	}
	if out, err := p.run("initdb", "-D", p.data(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"); err != nil {
		tb.Fatalf("pgtest: initdb: %v\n%s", err, out)
	}
	if p.Port, err = freePort(); err != nil {
		tb.Fatal(err)
	}
	// A test server: durability is not what is tested, and fsync off
	// keeps a restart fast on a busy machine.
	conf := fmt.Sprintf("port = %d\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n"+
		"fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\n", p.Port, dir)
	if err := os.WriteFile(filepath.Join(p.data(), "postgresql.auto.conf"), []byte(conf), 0o600); err != nil {
		tb.Fatal(err)
	}
	if p.cred != nil {
		os.Chown(filepath.Join(p.data(), "postgresql.auto.conf"), int(p.cred.Uid), int(p.cred.Gid))
	}
	p.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.Port)
	p.Start(tb)
	return p
}

// postgresCredential is the postgres user's, for the server programs
// that refuse to run as root (initdb, pg_ctl, pgbouncer).
func postgresCredential() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs a postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// Start starts the server and waits until it accepts connections.
func (p *Private) Start(tb testing.TB) {
	tb.Helper()
	if out, err := p.ctl("start", "-w", "-t", "60", "-l", filepath.Join(p.dir, "log")); err != nil {
		log, _ := os.ReadFile(filepath.Join(p.dir, "log"))
		tb.Fatalf("pgtest: pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// Stop stops the server in fast mode: PostgreSQL ends every session (their
// open transactions roll back) and shuts down cleanly.
func (p *Private) Stop(tb testing.TB) {
	tb.Helper()
	if out, err := p.ctl("stop", "-w", "-t", "60", "-m", "fast"); err != nil {
		tb.Fatalf("pgtest: pg_ctl stop: %v\n%s", err, out)
	}
}

func (p *Private) data() string { return filepath.Join(p.dir, "data") }

func (p *Private) ctl(args ...string) ([]byte, error) {
	return p.run("pg_ctl", append([]string{"-D", p.data()}, args...)...)
}

func (p *Private) run(prog string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(p.bin, prog), args...)
	cmd.Dir = p.dir
	if p.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	}
	return cmd.CombinedOutput()
}

// serverBinDir finds initdb and pg_ctl (EnvBinDir).
func serverBinDir() (string, error) {
	if d := os.Getenv(EnvBinDir); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("no initdb in /usr/lib/postgresql/*/bin or on PATH; set %s", EnvBinDir)
}

// version is the major version in a /usr/lib/postgresql/N/bin path.
func version(dir string) int {
	n, _ := strconv.Atoi(strings.Split(strings.TrimPrefix(dir, "/usr/lib/postgresql/"), "/")[0])
	return n
}

// freePort asks the kernel for a free local port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// StartReplica makes a streaming replica of p (pg_basebackup with -R: it
// follows p over streaming replication, as a hot standby that serves
// reads) in a temporary directory on a free port, and starts it. It is
// stopped and removed in tb.Cleanup. p's server accepts replication
// connections as initdb configures it (trust on 127.0.0.1).
func (p *Private) StartReplica(tb testing.TB) *Private {
	tb.Helper()
	dir, err := os.MkdirTemp("", "scopegate-replica-")
	if err != nil {
		tb.Fatal(err)
	}
	r := &Private{bin: p.bin, dir: dir, cred: p.cred}
	tb.Cleanup(func() {
		r.ctl("stop", "-m", "immediate")
		os.RemoveAll(dir)
	})
	if r.cred != nil {
		if err := os.Chown(dir, int(r.cred.Uid), int(r.cred.Gid)); err != nil {
			tb.Fatal(err)
		}
	}
	if out, err := r.run("pg_basebackup", "-D", r.data(), "-h", "127.0.0.1", "-p", strconv.Itoa(p.Port), "-U", "postgres",
		"-X", "stream", "-R", "-c", "fast", "--no-sync"); err != nil {
		tb.Fatalf("pgtest: pg_basebackup: %v\n%s", err, out)
	}
	if r.Port, err = freePort(); err != nil {
		tb.Fatal(err)
	}
	// The copy carries p's settings, its port among them: these come
	// after, and win.
	r.Set(tb, fmt.Sprintf("port = %d\nunix_socket_directories = '%s'\nhot_standby = on\n", r.Port, dir))
	r.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", r.Port)
	r.Start(tb)
	return r
}

// Set appends settings (postgresql.conf lines) to the server's
// postgresql.auto.conf, where they override what came before; a running
// server is told to reload them (pg_ctl reload).
func (p *Private) Set(tb testing.TB, settings string) {
	tb.Helper()
	path := filepath.Join(p.data(), "postgresql.auto.conf")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	_, err = f.WriteString("\n" + settings + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(p.data(), "postmaster.pid")); err == nil {
		if out, err := p.ctl("reload"); err != nil {
			tb.Fatalf("pgtest: pg_ctl reload: %v\n%s", err, out)
		}
	}
}

// Kill stops the server in immediate mode: every process exits at once,
// as if the machine had failed; its clients' connections break mid-way.
func (p *Private) Kill(tb testing.TB) {
	tb.Helper()
	if out, err := p.ctl("stop", "-w", "-t", "60", "-m", "immediate"); err != nil {
		tb.Fatalf("pgtest: pg_ctl stop -m immediate: %v\n%s", err, out)
	}
}

// Rehost returns the PostgreSQL URL raw pointed at p's port instead of its
// own, keeping its user, database and options: the same database on a
// replica.
func (p *Private) Rehost(tb testing.TB, raw string) string {
	tb.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		tb.Fatal(err)
	}
	u.Host = fmt.Sprintf("127.0.0.1:%d", p.Port)
	return u.String()
}
