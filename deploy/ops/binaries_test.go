package ops_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatterly/chatterly/shared/proctest"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { proctest.Main(m) }

// commands are the long-running binaries: --help, --version and
// print-config each.
var commands = map[string]string{
	"chatterly-api":    "github.com/chatterly/chatterly/api/cmd/chatterly-api",
	"chatterly-worker": "github.com/chatterly/chatterly/api/cmd/chatterly-worker",
	"chatterly-edge":   "github.com/chatterly/chatterly/edge/cmd/chatterly-edge",
}

// run runs bin with args and only env (and PATH), returning its standard
// output, standard error and exit code.
func run(t *testing.T, env []string, bin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return out.String(), errb.String(), exit.ExitCode()
	}
	require.NoError(t, err)
	return out.String(), errb.String(), 0
}

// vcsBuild builds pkg as a plain `go build` does by default, with the VCS
// revision stamped (-buildvcs=auto: machines that set GOFLAGS=-buildvcs=false
// would otherwise leave it out).
func vcsBuild(t *testing.T, pkg, out string) string {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=auto")
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build %s: %s", pkg, b)
	return out
}

// broken is an environment no process would start with: --help and
// --version must not read it.
var broken = []string{"LOG_LEVEL=loud", "DATABASE_URL=http://nowhere", "EDGE_MAX_SOCKETS=x", "WORKER_ADDR=nohost"}

// TestHelpAndVersion: every binary answers --help and --version on
// standard output with exit 0 in an environment it could not start with;
// the version of a plain go build is the checkout's VCS revision; an
// unknown command or flag is refused with exit 2.
func TestHelpAndVersion(t *testing.T) {
	t.Parallel()
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	require.NoError(t, err)
	rev := strings.TrimSpace(string(head))
	dir := t.TempDir()
	for name, pkg := range commands {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			bin := vcsBuild(t, pkg, filepath.Join(dir, name))
			for _, flag := range []string{"--help", "-h"} {
				out, errs, code := run(t, broken, bin, flag)
				require.Equal(t, 0, code, "%s %s: %s", name, flag, errs)
				require.Contains(t, out, "Usage: "+name)
				require.Contains(t, out, "print-config")
				require.Contains(t, out, "--version")
				require.Empty(t, errs)
			}
			out, errs, code := run(t, broken, bin, "--version")
			require.Equal(t, 0, code, errs)
			require.Regexp(t, `^`+name+` [0-9a-f]{12}(-dirty)? \(revision `+rev+`(, modified)?, go[0-9.]+\)\n$`, out,
				"a plain go build prints the checkout's revision")

			_, errs, code = run(t, nil, bin, "serve-please")
			require.Equal(t, 2, code)
			require.Contains(t, errs, `unknown command "serve-please"`)
			_, errs, code = run(t, nil, bin, "print-config", "-x")
			require.Equal(t, 2, code)
			require.Contains(t, errs, `print-config does not take "-x"`)
		})
	}
	// The harnesses answer --help through Go's flag package.
	for _, pkg := range []string{"github.com/chatterly/chatterly/bench/cmd/chatterly-bench", "github.com/chatterly/chatterly/loadtest/cmd/chatterly-load"} {
		_, errs, code := run(t, nil, proctest.Build(t, pkg), "--help")
		require.Equal(t, 0, code, "%s --help: %s", pkg, errs)
		require.Contains(t, errs, "Usage of")
	}
}

// TestPrintConfig: print-config shows every setting in effect, from the
// environment or its default, as NAME=value lines, with secrets and the
// passwords inside URLs masked; an invalid setting is reported by name
// with exit 2, as at start.
func TestPrintConfig(t *testing.T) {
	t.Parallel()
	env := []string{
		"DATABASE_URL=postgres://chatterly:hunter2@db:5432/chatterly", "REDIS_URL=redis://:redispw@redis:6379/0",
		"TURN_URLS=turn:turn.example:3478", "TURN_SECRET=s3cret", "STREAM_SHARDS=16", "EDGE_MAX_SOCKETS=100",
	}
	for name, pkg := range commands {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			bin := proctest.Build(t, pkg)
			out, errs, code := run(t, env, bin, "print-config")
			require.Equal(t, 0, code, errs)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			seen := map[string]string{}
			for _, l := range lines {
				k, v, ok := strings.Cut(l, "=")
				require.True(t, ok, "NAME=value: %q", l)
				require.NotContains(t, seen, k, "%s printed once", k)
				seen[k] = v
			}
			require.Equal(t, "postgres://chatterly:xxxxx@db:5432/chatterly", seen["DATABASE_URL"])
			require.Equal(t, "redis://:xxxxx@redis:6379/0", seen["REDIS_URL"])
			require.Equal(t, "16", seen["STREAM_SHARDS"], "the environment's value")
			require.Equal(t, "info", seen["LOG_LEVEL"], "the default")
			require.NotContains(t, out, "hunter2")
			require.NotContains(t, out, "redispw")
			require.NotContains(t, out, "s3cret")
			switch name {
			case "chatterly-api":
				require.Equal(t, "(masked)", seen["TURN_SECRET"])
				require.Equal(t, "127.0.0.1:8080", seen["API_ADDR"])
			case "chatterly-edge":
				require.Equal(t, "100", seen["EDGE_MAX_SOCKETS"])
				require.Equal(t, "127.0.0.1:8091", seen["EDGE_ADMIN_ADDR"])
			case "chatterly-worker":
				require.Equal(t, "127.0.0.1:8092", seen["WORKER_ADDR"])
			}

			out, errs, code = run(t, append(env, "LOG_LEVEL=loud"), bin, "print-config")
			require.Equal(t, 2, code)
			require.Contains(t, errs, `LOG_LEVEL="loud"`)
			require.Contains(t, out, "LOG_LEVEL=loud", "what it read is printed all the same")
		})
	}
}
