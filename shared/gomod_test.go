package shared

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// go.mod says exactly what the code imports: `go mod tidy` would change
// nothing (no direct import marked indirect, nothing unused). And the
// token library is jwx v3: v2 is deprecated by its author.
func TestGoModIsTidy(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "mod", "tidy", "-diff").CombinedOutput()
	if err != nil {
		t.Fatalf("go.mod or go.sum is not tidy (run `go mod tidy`):\n%s", out)
	}
	b, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "lestrrat-go/jwx/v2 ") {
		t.Error("go.mod requires github.com/lestrrat-go/jwx/v2, which its author deprecated: use jwx/v3")
	}
}
