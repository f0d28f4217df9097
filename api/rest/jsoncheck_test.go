package rest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzCheckJSON: the check never panics, and a body it lets through that
// encoding/json accepts decodes to text only: no NUL, and no U+FFFD the
// body did not spell itself.
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{`{"a":"b"}`, `{"a":["\u0000"]}`, "{\"a\":\"\xff\"}", `{"a":"\ud800"}`,
		`{"a":"\ud83d\udc4d"}`, `{"a":1,"A":2}`, `[{"x":{"y":"z"}}]`, `"\u00e9"`, `{"a":"\ud800\u0041"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if checkJSON(b) != nil || !json.Valid(b) {
			return
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			return
		}
		spelled := bytes.Contains(b, []byte("\uFFFD")) || bytes.Contains(bytes.ToLower(b), []byte(`\ufffd`))
		var walk func(v any)
		walk = func(v any) {
			switch x := v.(type) {
			case string:
				if !IsText(x) || (!spelled && strings.ContainsRune(x, '\uFFFD')) {
					t.Fatalf("let through %q as %q", b, x)
				}
			case []any:
				for _, e := range x {
					walk(e)
				}
			case map[string]any:
				for k, e := range x {
					walk(k)
					walk(e)
				}
			}
		}
		walk(v)
	})
}
