package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/chatterly/chatterly/bench/stack"
	"github.com/stretchr/testify/require"
)

// TestK6Syntax checks that every k6 script parses as an ES module. k6 is
// not installed here; node is, and with package.json's "type": "module"
// beside the scripts, `node --check` parses them as k6 would (imports of
// k6/* are not resolved by a syntax check).
func TestK6Syntax(t *testing.T) {
	t.Parallel()
	checkout, err := stack.Checkout()
	require.NoError(t, err)
	dir := filepath.Join(checkout, "loadtest", "k6")
	pkg, err := os.ReadFile(filepath.Join(dir, "package.json"))
	require.NoError(t, err)
	require.Contains(t, string(pkg), `"type": "module"`)
	node, err := exec.LookPath("node")
	require.NoError(t, err, "node checks the k6 scripts' syntax; it is on every machine of this project's kind")
	scripts, err := filepath.Glob(filepath.Join(dir, "*.js"))
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"rest.js", "ws.js"}, names(scripts))
	for _, s := range scripts {
		out, err := exec.Command(node, "--check", s).CombinedOutput()
		require.NoError(t, err, "%s: %s", filepath.Base(s), out)
	}
}

// TestK6SyntaxCheckCanFail makes sure the check above is a real one: a
// broken module must be refused.
func TestK6SyntaxCheckCanFail(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"type": "module"}`), 0o644))
	bad := filepath.Join(dir, "bad.js")
	require.NoError(t, os.WriteFile(bad, []byte("import http from 'k6/http';\nexport default function () { http.get( }\n"), 0o644))
	require.Error(t, exec.Command(node, "--check", bad).Run())
}

func names(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return out
}
