// Package version says which build is running (docs/design.md section 11): the
// module version, the VCS revision and its time that the Go toolchain
// records in the binary (debug.ReadBuildInfo), and the Go version.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Info is what the build records about itself.
type Info struct {
	// Version is the main module's version: a tag for 'go install
	// module@v1.2.3', a pseudo-version or "(devel)" for a build from a
	// work tree.
	Version string `json:"version"`
	// Revision and Time are the VCS commit and its time; empty when the
	// build had no VCS information (go test, -buildvcs=false).
	Revision string `json:"revision"`
	Time     string `json:"time"`
	// Modified: the work tree had uncommitted changes.
	Modified bool   `json:"modified"`
	Go       string `json:"go"`
}

// Get returns the running binary's Info.
func Get() Info {
	info := Info{Version: "(unknown)", Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return info
	}
	if bi.Main.Version != "" {
		info.Version = bi.Main.Version
	}
	if bi.GoVersion != "" {
		info.Go = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.time":
			info.Time = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// String is the line 'scopegate version' prints.
func (i Info) String() string {
	rev := i.Revision
	if rev == "" {
		rev = "unknown revision"
	}
	if i.Modified {
		rev += " (modified)"
	}
	t := i.Time
	if t == "" {
		t = "unknown time"
	}
	return fmt.Sprintf("%s %s %s %s", i.Version, rev, t, i.Go)
}
