package check

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// repoRoot is the checkout's root: this module lives at deploy/check.
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	require.NoError(t, err)
	root := filepath.Clean(filepath.Join(wd, "..", ".."))
	_, err = os.Stat(filepath.Join(root, "go.mod"))
	require.NoError(t, err, "deploy/check runs from its own folder of a Chatterly checkout")
	return root
}
