package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// openAPISchema is the OpenAPI Initiative's JSON Schema of OpenAPI 3.1
// documents (id https://spec.openapis.org/oas/3.1/schema/2025-11-23,
// Apache-2.0), committed so the test needs no network.
const openAPISchema = "testdata/openapi-3.1-schema.json"

// api/openapi.yaml is an OpenAPI 3.1 document by the specification's own
// schema, validated by a JSON Schema 2020-12 validator: YAML slips that
// reading by layout cannot see — an unquoted description with a comma in
// a flow mapping makes a stray key — fail here. The YAML is decoded
// strictly (a key given twice is an error).
func TestOpenAPIValidatesAgainstTheOpenAPI31Schema(t *testing.T) {
	t.Parallel()
	doc := openAPIDocument(t)
	schema := compileSchema(t, openAPISchema)
	require.NoError(t, schema.Validate(doc), "api/openapi.yaml is not a valid OpenAPI 3.1 document")

	// The validator is not vacuous: the stray key an unquoted comma made
	// is refused.
	broken := openAPIDocument(t)
	ops := broken.(map[string]any)["paths"].(map[string]any)["/healthz"].(map[string]any)["get"].(map[string]any)
	ops["responses"].(map[string]any)["200"].(map[string]any)["or was not there."] = nil
	require.Error(t, schema.Validate(broken))
}

// openAPIDocument reads api/openapi.yaml into the values encoding/json
// would make of the same document, which is what the validator takes.
func openAPIDocument(t *testing.T) any {
	t.Helper()
	b, err := os.ReadFile("../openapi.yaml")
	require.NoError(t, err)
	var node yaml.Node
	require.NoError(t, yaml.Unmarshal(b, &node))
	var v any
	require.NoError(t, node.Decode(&v))
	j, err := json.Marshal(v)
	require.NoError(t, err, "every key of the document must be a string")
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	require.NoError(t, err)
	return doc
}

func compileSchema(t *testing.T, path string) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	s, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource(path, s))
	schema, err := c.Compile(path)
	require.NoError(t, err)
	return schema
}

// schemaKeywords are the keywords a Schema Object of OpenAPI 3.1 may use:
// JSON Schema 2020-12's and OpenAPI's own. JSON Schema lets any other key
// pass as an annotation, so the specification's schema cannot see a stray
// key inside a Schema Object (such as the tail of an unquoted description
// that held a comma); this walk does.
var schemaKeywords = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range strings.Fields(`$schema $id $ref $anchor $dynamicRef $dynamicAnchor $defs $comment $vocabulary
		type enum const title description default examples example deprecated readOnly writeOnly format
		multipleOf maximum exclusiveMaximum minimum exclusiveMinimum maxLength minLength pattern
		maxItems minItems uniqueItems maxContains minContains contains items prefixItems unevaluatedItems
		maxProperties minProperties required dependentRequired properties patternProperties
		additionalProperties unevaluatedProperties propertyNames dependentSchemas
		allOf anyOf oneOf not if then else contentEncoding contentMediaType contentSchema
		discriminator xml externalDocs`) {
		m[k] = true
	}
	return m
}()

// checkSchema reports every unknown key of the Schema Object v at path and
// of the schemas inside it.
func checkSchema(t *testing.T, path string, v any) {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		return // true or false
	}
	for k, sub := range m {
		if !schemaKeywords[k] && !strings.HasPrefix(k, "x-") {
			t.Errorf("%s: %q is not a Schema Object keyword (a stray key?)", path, k)
			continue
		}
		switch k {
		case "properties", "patternProperties", "$defs", "dependentSchemas":
			for name, s := range sub.(map[string]any) {
				checkSchema(t, path+"/"+k+"/"+name, s)
			}
		case "allOf", "anyOf", "oneOf", "prefixItems":
			for i, s := range sub.([]any) {
				checkSchema(t, fmt.Sprintf("%s/%s/%d", path, k, i), s)
			}
		case "items", "not", "additionalProperties", "unevaluatedProperties", "unevaluatedItems",
			"contains", "propertyNames", "if", "then", "else", "contentSchema":
			checkSchema(t, path+"/"+k, sub)
		}
	}
}

// Every Schema Object of api/openapi.yaml — components, parameters, media
// types — uses only schema keywords.
func TestOpenAPISchemaObjectsHaveNoStrayKeys(t *testing.T) {
	t.Parallel()
	doc := openAPIDocument(t)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, sub := range x {
				switch {
				case k == "schema":
					checkSchema(t, path+"/schema", sub)
				case path == "/components" && k == "schemas":
					// checked below, each as a schema
				default:
					walk(path+"/"+k, sub)
				}
			}
		case []any:
			for i, sub := range x {
				walk(fmt.Sprintf("%s/%d", path, i), sub)
			}
		}
	}
	comps, _ := doc.(map[string]any)["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	require.NotEmpty(t, schemas)
	for name, s := range schemas {
		checkSchema(t, "/components/schemas/"+name, s)
	}
	walk("", doc)
}
