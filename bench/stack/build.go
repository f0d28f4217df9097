package stack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Commands are the release binaries the stack runs, by their package path
// under the checkout, and the bench's own (whose `sockets` mode holds the
// load's sockets in child processes). A command whose folder does not
// exist yet is skipped by Build and reported missing by Start.
var Commands = map[string]string{
	"api":    "api/cmd/chatterly-api",
	"edge":   "edge/cmd/chatterly-edge",
	"worker": "api/cmd/chatterly-worker",
	"bench":  "bench/cmd/chatterly-bench",
}

// Build compiles the release binaries of every command that exists into
// binDir (stripped, -trimpath: what a deployment runs, without the race
// detector whatever the caller was built with). It returns the names built
// and, for each command that exists but does not compile, why; each
// command is built on its own, so one piece in progress does not stop the
// others from being measured.
func Build(ctx context.Context, checkout, binDir string) (built []string, failed map[string]string, err error) {
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return nil, nil, err
	}
	failed = map[string]string{}
	for _, name := range []string{"api", "edge", "worker", "bench"} {
		rel := Commands[name]
		if _, err := os.Stat(filepath.Join(checkout, rel, "main.go")); err != nil {
			continue
		}
		if err := build(ctx, checkout, binDir, "./"+rel); err != nil {
			failed[name] = err.Error()
			continue
		}
		built = append(built, name)
	}
	return built, failed, nil
}

// Built lists the commands whose binaries binDir holds already, as Build
// would have built them (a stack started beside another reuses its
// binaries).
func Built(binDir string) (built []string, failed map[string]string, err error) {
	for _, name := range []string{"api", "edge", "worker", "bench"} {
		if _, err := os.Stat(binary(binDir, name)); err == nil {
			built = append(built, name)
		}
	}
	return built, map[string]string{}, nil
}

// build runs one go build.
func build(ctx context.Context, checkout, binDir, pkg string) error {
	args := []string{"build", "-trimpath", "-ldflags=-s -w", "-o", binDir + "/", pkg}
	var err error
	// One retry: a build racing another go command on the shared build
	// cache has been seen to fail once with "could not import" and pass
	// on the next try.
	for attempt := 0; attempt < 2; attempt++ {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = checkout
		// A release build: no race detector, no coverage, whatever GOFLAGS
		// the test run that called us carries.
		cmd.Env = append(os.Environ(), "GOFLAGS=", "CGO_ENABLED=0")
		var out []byte
		if out, err = cmd.CombinedOutput(); err == nil {
			return nil
		}
		err = fmt.Errorf("go build %s: %w\n%s", pkg, err, strings.TrimSpace(string(out)))
	}
	return err
}

// binary is the path of a built command.
func binary(binDir, name string) string {
	return filepath.Join(binDir, filepath.Base(Commands[name]))
}
