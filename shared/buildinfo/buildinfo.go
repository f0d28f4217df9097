// Package buildinfo says which build of Chatterly a binary is: the release
// version stamped at build time, the VCS revision Go records in every
// binary built from a checkout, and the Go version. --version prints it and
// the chatterly_build_info metric exports it.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is the release version, stamped by the images' build
// (deploy/docker/build.sh, the Dockerfile's VERSION build argument):
//
//	go build -ldflags "-X github.com/chatterly/chatterly/shared/buildinfo.version=1.2.3"
//
// Empty in a plain go build, where Version falls back to the revision.
var version string

// Info is one binary's build.
type Info struct {
	// Version is the stamped version, else the revision's first 12
	// characters (with "-dirty" for a modified work tree), else "dev".
	Version string
	// Revision is the VCS revision Go recorded (vcs.revision), or
	// "unknown" when the build had none (-buildvcs=false, no checkout).
	Revision string
	// Modified says the work tree had uncommitted changes.
	Modified bool
	// GoVersion is the Go release that built the binary.
	GoVersion string
}

// Get returns this binary's build information.
func Get() Info {
	return from(version, readSettings())
}

func readSettings() map[string]string {
	s := map[string]string{}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, kv := range bi.Settings {
			s[kv.Key] = kv.Value
		}
	}
	return s
}

// from builds an Info from a stamped version and the build settings.
func from(stamped string, settings map[string]string) Info {
	i := Info{Version: stamped, Revision: settings["vcs.revision"], Modified: settings["vcs.modified"] == "true",
		GoVersion: runtime.Version()}
	if i.Revision == "" {
		i.Revision = "unknown"
	}
	if i.Version == "" {
		switch {
		case i.Revision == "unknown":
			i.Version = "dev"
		case i.Modified:
			i.Version = short(i.Revision) + "-dirty"
		default:
			i.Version = short(i.Revision)
		}
	}
	return i
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

// String is the line --version prints after the program's name.
func (i Info) String() string {
	mod := ""
	if i.Modified {
		mod = ", modified"
	}
	return fmt.Sprintf("%s (revision %s%s, %s)", i.Version, i.Revision, mod, i.GoVersion)
}
