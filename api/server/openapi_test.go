package server_test

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/stretchr/testify/require"
)

// spec is what the test reads of api/openapi.yaml. The module may not
// depend on a YAML library, so the document is read by its layout, which
// the test pins down: paths at two spaces under "paths:", operations at
// four, components' entries at four under their section.
type spec struct {
	version string
	// ops maps "METHOD /path/{param}" to the operation's lines.
	ops map[string]string
	// components holds "section/Name" of every component.
	components map[string]bool
	refs       []string
}

var (
	pathLine      = regexp.MustCompile(`^  (/\S*):\s*$`)
	opLine        = regexp.MustCompile(`^    (get|put|post|delete|patch|head|options):\s*$`)
	componentLine = regexp.MustCompile(`^    ([A-Za-z0-9_]+):\s*$`)
	sectionLine   = regexp.MustCompile(`^  ([A-Za-z]+):\s*$`)
	refPattern    = regexp.MustCompile(`\$ref: '#/components/([A-Za-z]+)/([A-Za-z0-9_]+)'`)
	paramPattern  = regexp.MustCompile(`\{([a-z_]+)\}`)
)

func readSpec(t *testing.T) spec {
	t.Helper()
	b, err := os.ReadFile("../openapi.yaml")
	require.NoError(t, err)
	s := spec{ops: map[string]string{}, components: map[string]bool{}}
	top, path, op, section := "", "", "", ""
	for _, line := range strings.Split(string(b), "\n") {
		if line != "" && line[0] != ' ' && line[0] != '#' {
			top, path, op, section = strings.SplitN(line, ":", 2)[0], "", "", ""
			if top == "openapi" {
				s.version = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
			}
			continue
		}
		for _, m := range refPattern.FindAllStringSubmatch(line, -1) {
			s.refs = append(s.refs, m[1]+"/"+m[2])
		}
		switch top {
		case "paths":
			if m := pathLine.FindStringSubmatch(line); m != nil {
				path, op = m[1], ""
			} else if m := opLine.FindStringSubmatch(line); m != nil && path != "" {
				op = strings.ToUpper(m[1]) + " " + path
				require.NotContains(t, s.ops, op, "operation listed twice")
				s.ops[op] = ""
			} else if op != "" {
				s.ops[op] += line + "\n"
			}
		case "components":
			if m := sectionLine.FindStringSubmatch(line); m != nil {
				section = m[1]
			} else if m := componentLine.FindStringSubmatch(line); m != nil && section != "" {
				s.components[section+"/"+m[1]] = true
			}
		}
	}
	return s
}

// routeOf turns "GET /a/{id}" into the router's "GET /a/:id".
func routeOf(op string) string { return paramPattern.ReplaceAllString(op, ":$1") }

func TestOpenAPIDescribesEveryRouteAndNothingElse(t *testing.T) {
	t.Parallel()
	s := readSpec(t)
	require.True(t, strings.HasPrefix(s.version, "3.1."), "OpenAPI 3.1, got %q", s.version)

	stack := apitest.Start(t, nil)
	inRouter := map[string]bool{}
	for _, r := range stack.Server.Router().Routes() {
		inRouter[r] = true
	}
	inDoc := map[string]bool{}
	for op := range s.ops {
		inDoc[routeOf(op)] = true
	}
	var undocumented, unrouted []string
	for r := range inRouter {
		if !inDoc[r] {
			undocumented = append(undocumented, r)
		}
	}
	for r := range inDoc {
		if !inRouter[r] {
			unrouted = append(unrouted, r)
		}
	}
	sort.Strings(undocumented)
	sort.Strings(unrouted)
	require.Empty(t, undocumented, "routes the router serves that api/openapi.yaml does not describe")
	require.Empty(t, unrouted, "operations api/openapi.yaml describes that the router does not serve")
}

func TestOpenAPIOperationsAreComplete(t *testing.T) {
	t.Parallel()
	s := readSpec(t)
	require.NotEmpty(t, s.ops)
	ids := map[string]string{}
	for op, body := range s.ops {
		m := regexp.MustCompile(`(?m)^      operationId: (\S+)$`).FindStringSubmatch(body)
		require.NotNil(t, m, "%s has no operationId", op)
		require.NotContains(t, ids, m[1], "%s reuses operationId %s of %s", op, m[1], ids[m[1]])
		ids[m[1]] = op
		require.Regexp(t, `(?m)^      responses:$`, body, "%s has no responses", op)
		require.Regexp(t, `(?m)^        "[245]\d\d":`, body, "%s answers no status", op)
		for _, p := range paramPattern.FindAllStringSubmatch(op, -1) {
			declared := strings.Contains(body, "name: "+p[1]+", in: path") ||
				(p[1] == "id" && strings.Contains(body, "'#/components/parameters/Id'"))
			require.True(t, declared, "%s does not declare path parameter %s", op, p[1])
		}
		public := strings.Contains(body, "      security: []")
		if !public {
			require.Contains(t, body, `"401":`, "%s needs a token, so it can answer 401", op)
		}
	}
	for _, r := range s.refs {
		require.True(t, s.components[r], "$ref to missing component %s", r)
	}
}

// Every operation that reaches Postgres or Redis — every one but the
// liveness endpoint, since the token check alone reads the
// denylist — can answer 503 unavailable with Retry-After when they do not
// answer (TestRedisOutageIsUnavailableWithinTwoSeconds,
// TestPostgresOutageIsUnavailableNever500), so each documents it.
func TestOpenAPIDocumentsUnavailable(t *testing.T) {
	t.Parallel()
	s := readSpec(t)
	noDependency := map[string]bool{"GET /healthz": true}
	for op, body := range s.ops {
		if noDependency[op] {
			require.NotContains(t, body, `"503":`, op)
			continue
		}
		require.Contains(t, body, `"503":`, "%s needs Postgres or Redis, so it can answer 503", op)
	}
}
