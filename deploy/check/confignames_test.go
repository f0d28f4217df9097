package check

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// setting is one environment variable a process reads, found in its config
// code: the call `e.<Kind>("NAME", default, ...)` on a config.Env.
type setting struct {
	Kind    string        // String, Secret, Int, Duration, Bool, URL, Addr, List
	Default string        // the default when it is a string literal
	Dur     time.Duration // the default of a Duration, when it is a constant expression
}

// configSources says where each process's variables are read: every
// function of a file ("") or one function of it. The common variables
// (shared/config/common.go) belong to every Go process. A new config file
// must be added here; TestConfigSourcesComplete fails until it is.
var configSources = map[string][]struct{ File, Func string }{
	"api":    {{"shared/config/common.go", ""}, {"api/server/config.go", ""}, {"api/call/config.go", ""}, {"api/file/config.go", ""}},
	"worker": {{"shared/config/common.go", ""}, {"api/worker/config.go", ""}, {"api/call/config.go", "LoadRingTimeout"}},
	"edge":   {{"shared/config/common.go", ""}, {"edge/server/config.go", ""}},
}

// envKinds are the config.Env methods that read a variable.
var envKinds = map[string]bool{"String": true, "Secret": true, "Int": true, "Duration": true, "Bool": true, "URL": true, "Addr": true, "List": true}

// processSettings scans the Go source of the checkout for the variables
// each process reads, so the compose and Kubernetes checks cannot drift
// from the code.
func processSettings(t *testing.T) map[string]map[string]setting {
	t.Helper()
	root := repoRoot(t)
	out := map[string]map[string]setting{}
	for proc, srcs := range configSources {
		out[proc] = map[string]setting{}
		for _, src := range srcs {
			for name, s := range fileSettings(t, filepath.Join(root, src.File), src.Func) {
				out[proc][name] = s
			}
		}
		require.Contains(t, out[proc], "DATABASE_URL", "the scan of %s found the common variables", proc)
	}
	return out
}

func fileSettings(t *testing.T, path, onlyFunc string) map[string]setting {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	require.NoError(t, err)
	out := map[string]setting{}
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || (onlyFunc != "" && fn.Name.Name != onlyFunc) {
			continue
		}
		ast.Inspect(fn, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) < 2 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || !envKinds[sel.Sel.Name] {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			name, _ := strconv.Unquote(lit.Value)
			s := setting{Kind: sel.Sel.Name}
			if d, ok := call.Args[1].(*ast.BasicLit); ok && d.Kind == token.STRING {
				s.Default, _ = strconv.Unquote(d.Value)
			}
			s.Dur = constDuration(call.Args[1])
			out[name] = s
			return true
		})
	}
	require.NotEmpty(t, out, "%s %s reads no variable: has the config code moved?", path, onlyFunc)
	return out
}

// constDuration evaluates the default-duration forms the config code uses
// (time.Second, 10*time.Second, 800*time.Millisecond); 0 for anything else.
func constDuration(e ast.Expr) time.Duration {
	units := map[string]time.Duration{"Millisecond": time.Millisecond, "Second": time.Second, "Minute": time.Minute, "Hour": time.Hour}
	switch x := e.(type) {
	case *ast.SelectorExpr:
		return units[x.Sel.Name]
	case *ast.BinaryExpr:
		lit, ok := x.X.(*ast.BasicLit)
		if !ok || x.Op != token.MUL {
			return 0
		}
		n, err := strconv.Atoi(lit.Value)
		if err != nil {
			return 0
		}
		return time.Duration(n) * constDuration(x.Y)
	}
	return 0
}

// webSettings are the variables the web client's server reads
// (process.env / env.NAME in its run-time config and start script).
func webSettings(t *testing.T) map[string]bool {
	t.Helper()
	root := repoRoot(t)
	re := regexp.MustCompile(`\benv\.([A-Z][A-Z0-9_]+)`)
	out := map[string]bool{}
	for _, p := range []string{"web/src/lib/config.ts", "web/scripts/start.mjs"} {
		b, err := os.ReadFile(filepath.Join(root, p))
		require.NoError(t, err)
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			out[m[1]] = true
		}
	}
	require.Contains(t, out, "WEB_API_URL")
	return out
}

// TestConfigSourcesComplete fails when a Go file outside the listed
// sources reads a variable through config.Env, so a new one cannot escape
// the compose and Kubernetes checks.
func TestConfigSourcesComplete(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	listed := map[string]bool{}
	for _, srcs := range configSources {
		for _, s := range srcs {
			listed[s.File] = true
		}
	}
	call := regexp.MustCompile(`\be\.(String|Secret|Int|Duration|Bool|URL|Addr|List)\("[A-Z]`)
	for _, dir := range []string{"api", "edge", "shared"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || filepath.Ext(p) != ".go" || regexp.MustCompile(`_test\.go$`).MatchString(p) {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			if call.Match(b) {
				require.True(t, listed[rel], "%s reads configuration: add it to configSources", rel)
			}
			return nil
		})
		require.NoError(t, err)
	}
}
