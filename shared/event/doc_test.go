package event

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

// TestProtocolDocumentNamesEveryEventType keeps docs/protocol.md true: every
// event type declared here (the "Event types" constants, whatever file they
// move to) must appear in it as `type`.
func TestProtocolDocumentNamesEveryEventType(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "protocol.md"))
	if err != nil {
		t.Fatal(err)
	}
	types := eventTypeConstants(t)
	if len(types) < 19 {
		t.Fatalf("found %d event type constants (%v); the parser of this test is out of date", len(types), types)
	}
	for _, typ := range types {
		if !strings.Contains(string(doc), "`"+typ+"`") {
			t.Errorf("docs/protocol.md does not document the event type %q", typ)
		}
	}
}

// eventTypeConstants reads the values of the const block documented as
// "Event types" in this package's source.
func eventTypeConstants(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST || g.Doc == nil || !strings.HasPrefix(g.Doc.Text(), "Event types") {
				continue
			}
			for _, s := range g.Specs {
				for _, v := range s.(*ast.ValueSpec).Values {
					if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						s, _ := strconv.Unquote(lit.Value)
						out = append(out, s)
					}
				}
			}
		}
	}
	return out
}
