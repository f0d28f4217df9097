package check

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// buildLine matches one use of build.sh in the Dockerfile's RUN line:
// the package and the output path.
var buildLine = regexp.MustCompile(`sh deploy/docker/build\.sh (\S+) (\S+)`)

// TestImageBinariesAreStatic builds every binary the Go images contain with
// the images' own build command (the RUN line's build.sh calls, read from
// the Dockerfile) and checks each is a static executable: no program
// interpreter, no shared library needed, so it runs on distroless static
// with no libc, built with -trimpath and without cgo (the binary's own
// build information says so). It also checks that every ENTRYPOINT and
// HEALTHCHECK names a binary the build stage made, that each process
// binary's --version prints the VERSION it was built with, and that its
// print-config lists exactly the variables the config code reads (the set
// the compose and Kubernetes checks hold their environments to).
func TestImageBinariesAreStatic(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	d := readDockerfile(t, filepath.Join(root, "deploy/docker/Dockerfile"))
	built := map[string]string{} // image path (/usr/local/bin/x) -> package
	for _, in := range stageInstructions(d, "build") {
		if in.Cmd != "RUN" {
			continue
		}
		for _, m := range buildLine.FindAllStringSubmatch(in.Args, -1) {
			built["/usr/local/bin/"+filepath.Base(m[2])] = m[1]
		}
	}
	for _, pkg := range []string{"api/cmd/chatterly-api", "api/cmd/chatterly-worker", "edge/cmd/chatterly-edge"} {
		require.Contains(t, values(built), pkg, "the build stage builds %s", pkg)
	}
	for _, in := range d {
		if in.Cmd != "ENTRYPOINT" && in.Cmd != "HEALTHCHECK" {
			continue
		}
		m := regexp.MustCompile(`\["(/usr/local/bin/[^"]+)"`).FindStringSubmatch(in.Args)
		require.NotNil(t, m, "%s %s: exec form naming a binary (no shell in the image)", in.Cmd, in.Args)
		require.Contains(t, built, m[1], "%s of stage %s names a binary the build stage makes", in.Cmd, in.Stage)
	}

	settings := processSettings(t)
	out := t.TempDir()
	for bin, pkg := range built {
		path := filepath.Join(out, filepath.Base(bin))
		cmd := exec.Command("sh", "deploy/docker/build.sh", pkg, path)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "VERSION=0.0.0-check")
		b, err := cmd.CombinedOutput()
		require.NoError(t, err, "build.sh %s: %s", pkg, b)
		requireStatic(t, path)
		info, err := exec.Command("go", "version", "-m", path).Output()
		require.NoError(t, err)
		require.Contains(t, string(info), "-trimpath=true", "%s: built with -trimpath", pkg)
		require.Contains(t, string(info), "CGO_ENABLED=0", "%s: built without cgo", pkg)
		proc, ok := strings.CutPrefix(filepath.Base(bin), "chatterly-")
		if _, isProc := settings[proc]; !ok || !isProc {
			continue // chatterly-probe
		}
		v, err := exec.Command(path, "--version").Output()
		require.NoError(t, err, "%s --version", bin)
		require.True(t, strings.HasPrefix(string(v), filepath.Base(bin)+" 0.0.0-check "), "%s --version: %s", bin, v)
		pc := exec.Command(path, "print-config")
		pc.Env = []string{"PATH=" + os.Getenv("PATH")}
		b, err = pc.Output()
		require.NoError(t, err, "%s print-config", bin)
		printed := map[string]bool{}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			name, _, ok := strings.Cut(line, "=")
			require.True(t, ok, "%s print-config: NAME=value lines, not %q", bin, line)
			printed[name] = true
		}
		scanned := map[string]bool{}
		for name := range settings[proc] {
			scanned[name] = true
		}
		require.Equal(t, scanned, printed, "%s print-config names the variables its config code reads", bin)
	}
}

// requireStatic fails unless path is an ELF executable with no PT_INTERP
// program header and no DT_NEEDED entry.
func requireStatic(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	require.NoError(t, err)
	defer f.Close()
	for _, p := range f.Progs {
		require.NotEqual(t, elf.PT_INTERP, p.Type, "%s asks for a program interpreter (dynamic)", path)
	}
	libs, err := f.ImportedLibraries()
	require.NoError(t, err)
	require.Empty(t, libs, "%s needs shared libraries", path)
}

func values(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// TestWebImage checks the web client's Dockerfile against the package it
// builds: it serves web/package.json's start script as a non-root user on
// the port it sets, and runs no install script the lockfile does not pin.
func TestWebImage(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	d := readDockerfile(t, filepath.Join(root, "deploy/docker/web.Dockerfile"))
	pkg, err := os.ReadFile(filepath.Join(root, "web/package.json"))
	require.NoError(t, err)
	require.Contains(t, string(pkg), `"start": "node scripts/start.mjs"`, "the image's ENTRYPOINT is the start script")
	var user, entry, env string
	for _, in := range d {
		switch in.Cmd {
		case "USER":
			user = in.Args
		case "ENTRYPOINT":
			entry = in.Args
		case "ENV":
			env += " " + in.Args
		case "RUN":
			if strings.Contains(in.Args, "npm ") {
				require.Regexp(t, `^npm (ci|run build)`, in.Args, "installs from the lockfile only")
			}
		}
	}
	require.Equal(t, "node", user, "runs as the unprivileged node user")
	require.Equal(t, `["node", "scripts/start.mjs"]`, entry)
	require.Contains(t, env, "WEB_ADDR=0.0.0.0:3000")
}
