package check

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// dockerfileUtils is the Dockerfile linter: dockerfile-utils (MIT), the
// validator behind the VS Code Docker language server, from the npm
// registry (hadolint is in no registry these machines reach). The test
// installs this pinned version into the cache when it is not there.
const dockerfileUtils = "dockerfile-utils@0.16.3"

func dockerfileLinter(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(filepath.Dir(promtoolCache()), "dockerfile-utils-0.16.3")
	bin := filepath.Join(dir, "node_modules", ".bin", "dockerfile-utils")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	_, err := exec.LookPath("npm")
	require.NoError(t, err, "the Dockerfile linter needs Node.js and npm (apt-get install nodejs npm)")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	out, err := exec.Command("npm", "install", "--prefix", dir, "--no-save", "--no-audit", "--no-fund", dockerfileUtils).CombinedOutput()
	require.NoError(t, err, "npm install %s: %s", dockerfileUtils, out)
	return bin
}

// TestDockerfilesLint runs dockerfile-utils' validator on every Dockerfile
// of deploy/docker: no error and no warning (unknown instructions, bad
// flags, malformed JSON forms, empty continuation lines, duplicate stage
// names, instructions that ignore their arguments, …).
func TestDockerfilesLint(t *testing.T) {
	t.Parallel()
	lint := dockerfileLinter(t)
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "deploy/docker/*Dockerfile"))
	require.NoError(t, err)
	require.Len(t, files, 2, "Dockerfile and web.Dockerfile")
	for _, f := range files {
		out, err := exec.Command(lint, "lint", "--json", f).Output()
		var diags []struct {
			Message  string
			Severity string
			Range    struct{ Start struct{ Line int } }
		}
		require.NoError(t, json.Unmarshal(out, &diags), "%s: %s", f, out)
		require.Empty(t, diags, "%s", f)
		require.NoError(t, err, "%s", f)
	}
}
