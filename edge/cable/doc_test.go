package cable

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestProtocolDocumentNamesEverything keeps docs/protocol.md true for the
// edge: every command, channel, channel action and disconnect reason the
// edge knows must be documented there. Commands and actions are read from
// the source (the string literals the parser and the action switch compare
// against), so a new one cannot be added without its documentation.
func TestProtocolDocumentNamesEverything(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "protocol.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	want := map[string][]string{
		"command": caseLiterals(t, "command.go"),
		"action":  comparedLiterals(t, filepath.Join("..", "server"), "Name"),
		"channel": {ConversationChannel.String(), PresenceChannel.String(), CallChannel.String()},
		"reason":  reasonNames(),
	}
	if len(want["command"]) != 3 || len(want["action"]) < 3 {
		t.Fatalf("read commands %v and actions %v from the source; this test's reader is out of date", want["command"], want["action"])
	}
	for kind, names := range want {
		for _, n := range names {
			if !strings.Contains(doc, "`"+n+"`") {
				t.Errorf("docs/protocol.md does not document the %s %q", kind, n)
			}
		}
	}
	for _, r := range want["reason"] {
		row := "| `" + r + "` | " + strconv.FormatBool(Reason(r).Reconnect()) + " |"
		if !strings.Contains(doc, row) {
			t.Errorf("docs/protocol.md's disconnect table lacks the row starting %q", row)
		}
	}
}

func reasonNames() []string {
	var out []string
	for _, r := range Reasons {
		out = append(out, string(r))
	}
	return out
}

// caseLiterals returns the string literals of the switch cases in file.
func caseLiterals(t *testing.T, file string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		if c, ok := n.(*ast.CaseClause); ok {
			for _, e := range c.List {
				if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					out = append(out, s)
				}
			}
		}
		return true
	})
	return out
}

// comparedLiterals returns the string literals compared with a field named
// field (x.field == "lit") anywhere in the package in dir.
func comparedLiterals(t *testing.T, dir, field string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			b, ok := n.(*ast.BinaryExpr)
			if !ok || b.Op != token.EQL {
				return true
			}
			sel, ok1 := b.X.(*ast.SelectorExpr)
			lit, ok2 := b.Y.(*ast.BasicLit)
			if ok1 && ok2 && sel.Sel.Name == field && lit.Kind == token.STRING {
				s, _ := strconv.Unquote(lit.Value)
				out = append(out, s)
			}
			return true
		})
	}
	return out
}
