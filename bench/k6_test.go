package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chatterly/chatterly/bench/stack"
	"github.com/stretchr/testify/require"
)

// TestK6Scripts type-checks the k6 scripts in loadtest/k6 against k6's
// published typings (@types/k6, pinned in loadtest/k6/package.json) with
// TypeScript in strict mode: every k6 module they import must exist, and
// every k6 function, class, option and event they use must have the shape
// they use it with. k6 itself cannot be installed here (no Debian package;
// its Go module is AGPL), so this is as far as a real tool checks them;
// they are not run.
func TestK6Scripts(t *testing.T) {
	t.Parallel()
	checkout, err := stack.Checkout()
	require.NoError(t, err)
	dir := filepath.Join(checkout, "loadtest", "k6")
	scripts, err := filepath.Glob(filepath.Join(dir, "*.js"))
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"lib.js", "rest.js", "ws.js"}, names(scripts))
	ws, err := os.ReadFile(filepath.Join(dir, "ws.js"))
	require.NoError(t, err)
	require.Contains(t, string(ws), "from 'k6/websockets'")
	require.NotContains(t, string(ws), "from 'k6/ws'", "k6/ws is k6's legacy WebSocket module")

	npmCI(t, dir)
	out, err := exec.Command(filepath.Join(dir, "node_modules", ".bin", "tsc"), "-p", dir).CombinedOutput()
	require.NoError(t, err, "tsc: %s", out)
}

// TestK6ScriptCheckCanFail makes sure the check above is a real one: a
// script with a misspelled k6 module and a method k6's WebSocket does not
// have must be refused.
func TestK6ScriptCheckCanFail(t *testing.T) {
	t.Parallel()
	checkout, err := stack.Checkout()
	require.NoError(t, err)
	src := filepath.Join(checkout, "loadtest", "k6")
	npmCI(t, src)
	dir := t.TempDir()
	for _, f := range []string{"package.json", "tsconfig.json", "globals.d.ts"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	require.NoError(t, os.Symlink(filepath.Join(src, "node_modules"), filepath.Join(dir, "node_modules")))
	bad := `import http from 'k6/htp';
import { WebSocket } from 'k6/websockets';
export default function () {
  const s = new WebSocket('ws://127.0.0.1:1/cable');
  s.on('message', () => http.get('http://127.0.0.1:1/'));
}
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.js"), []byte(bad), 0o644))
	out, err := exec.Command(filepath.Join(src, "node_modules", ".bin", "tsc"), "-p", dir).CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "Cannot find module 'k6/htp'")
	require.Contains(t, string(out), "Property 'on' does not exist on type 'WebSocket'")
}

// npmMu keeps the two tests above from running npm ci at once.
var npmMu sync.Mutex

// npmCI installs loadtest/k6's pinned dev dependencies (the typings and
// TypeScript) when they are missing or package-lock.json changed since.
func npmCI(t *testing.T, dir string) {
	t.Helper()
	npmMu.Lock()
	defer npmMu.Unlock()
	lock, err := os.Stat(filepath.Join(dir, "package-lock.json"))
	require.NoError(t, err)
	installed, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json"))
	if err == nil && !installed.ModTime().Before(lock.ModTime()) {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", ".bin", "tsc")); err == nil {
			return
		}
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "npm ci in loadtest/k6 (npm is on every machine of this project's kind): %s", strings.TrimSpace(string(out)))
}

func names(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return out
}
