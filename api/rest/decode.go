package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"strings"

	"github.com/chatterly/chatterly/api/fault"
)

// Decode reads the request body into v strictly: the content type must be
// JSON (415), the body at most the route's limit (413), and malformed JSON,
// wrong types, unknown fields, duplicate fields, trailing data and strings
// that are not text (invalid UTF-8, NUL) are all 400 bad_request.
// Required fields and values are the handler's to check (400 validation).
func (c *Ctx) Decode(v any) error {
	ct := string(c.RC.Request.Header.ContentType())
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return fault.New(fault.UnsupportedMediaType, "the request body must be application/json")
	}
	body := c.RC.Request.Body()
	if len(body) > c.route.maxBody {
		return fault.Newf(fault.PayloadTooLarge, "the request body is larger than %d bytes", c.route.maxBody)
	}
	if fe := checkJSON(body); fe != nil {
		return fe
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fault.New(fault.BadRequest, "the request body has data after its JSON value")
	}
	return nil
}

func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		f := te.Field
		return &fault.Error{Code: fault.BadRequest, Field: f, Message: "field " + quote(f) + " must be " + jsonKind(te.Type.Kind().String())}
	case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fault.New(fault.BadRequest, "the request body is not valid JSON")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &fault.Error{Code: fault.BadRequest, Field: f, Message: "unknown field " + quote(f)}
	default:
		// Typed fields (ids) report their own syntax errors.
		return fault.New(fault.BadRequest, "the request body does not match the expected shape: "+err.Error())
	}
}

func quote(s string) string {
	if s == "" {
		return "(body)"
	}
	return `"` + s + `"`
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	default:
		return "a number"
	}
}
