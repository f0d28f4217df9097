package shared

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportRules keeps the architecture's boundaries: the edge never
// imports the api (it never writes Postgres and shares with the api only
// what is in shared/), the api never imports the edge, and shared imports
// neither.
func TestImportRules(t *testing.T) {
	t.Parallel()
	const mod = "github.com/chatterly/chatterly/"
	rules := []struct{ from, banned string }{
		{"edge", "api"},
		{"api", "edge"},
		{"shared", "api"},
		{"shared", "edge"},
	}
	for _, r := range rules {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "../"+r.from+"/...").CombinedOutput()
		if err != nil {
			if strings.Contains(string(out), "matched no packages") {
				continue
			}
			t.Fatalf("go list %s: %v\n%s", r.from, err, out)
		}
		for _, p := range strings.Fields(string(out)) {
			if strings.HasPrefix(p, mod+r.banned+"/") {
				t.Errorf("%s/... imports %s (via its dependencies): %s may not depend on %s", r.from, p, r.from, r.banned)
			}
		}
	}
}
