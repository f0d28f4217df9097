package stack

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// DataDir is folder sub of this checkout's STACK_DIR: the variable when set
// (deploy/local/test.sh exports it), otherwise lib.sh's rule
// (/var/tmp/chatterly-<hash of the checkout path>), asked of services.sh so
// the rule lives in one place.
func DataDir(ctx context.Context, checkout, sub string) (string, error) {
	base := os.Getenv("STACK_DIR")
	if base == "" {
		out, err := exec.CommandContext(ctx, "bash", filepath.Join(checkout, "bench", "stack", "services.sh"), "env").Output()
		if err != nil {
			return "", err
		}
		base = strings.TrimPrefix(strings.TrimSpace(string(out)), "STACK_DIR=")
	}
	return filepath.Join(base, sub), nil
}

// Checkout finds the repository root from the working directory (tests run
// in their package folder): the nearest parent holding go.mod.
func Checkout() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
