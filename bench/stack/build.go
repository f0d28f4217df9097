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
// under the checkout. A command whose folder does not exist yet is skipped
// by Build and reported missing by Start.
var Commands = map[string]string{
	"api":    "api/cmd/chatterly-api",
	"edge":   "edge/cmd/chatterly-edge",
	"worker": "api/cmd/chatterly-worker",
}

// Build compiles the release binaries of every command that exists into
// binDir (stripped, -trimpath: what a deployment runs, without the race
// detector whatever the caller was built with). It returns the names built.
func Build(ctx context.Context, checkout, binDir string) ([]string, error) {
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return nil, err
	}
	var pkgs, names []string
	for _, name := range []string{"api", "edge", "worker"} {
		rel := Commands[name]
		if _, err := os.Stat(filepath.Join(checkout, rel, "main.go")); err != nil {
			continue
		}
		pkgs = append(pkgs, "./"+rel)
		names = append(names, name)
	}
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("stack: no command to build under %s", checkout)
	}
	args := append([]string{"build", "-trimpath", "-ldflags=-s -w", "-o", binDir + "/"}, pkgs...)
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
			return names, nil
		}
		err = fmt.Errorf("stack: go build: %w\n%s", err, strings.TrimSpace(string(out)))
	}
	return nil, err
}

// binary is the path of a built command.
func binary(binDir, name string) string {
	return filepath.Join(binDir, filepath.Base(Commands[name]))
}
