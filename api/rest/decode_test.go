package rest_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/api/rest"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/stretchr/testify/require"
)

func idOf(v int64) id.ID { return id.ID(v) }

type payload struct {
	Name  string   `json:"name"`
	Count int      `json:"count"`
	Tags  []string `json:"tags"`
	Owner id.ID    `json:"owner"`
}

func decodeRoutes(r *rest.Router) {
	r.Handle("POST", "/things", func(c *rest.Ctx) error {
		var p payload
		if err := c.Decode(&p); err != nil {
			return err
		}
		if p.Name == "" {
			return fault.Invalid("name", "name is required")
		}
		return c.JSON(201, p)
	}, rest.Public(), rest.MaxBody(1024))
	// A route that takes no body.
	r.Handle("POST", "/things/:id/touch", func(c *rest.Ctx) error { return c.NoContent() }, rest.Public())
}

func TestDecodeIsStrict(t *testing.T) {
	t.Parallel()
	b := setup(t, decodeRoutes)
	const js = "application/json"
	for _, tc := range []struct {
		name, body, contentType string
		status                  int
		code, field             string
	}{
		{"valid", `{"name":"a","count":2,"tags":["x"],"owner":"12"}`, js, 201, "", ""},
		{"charset parameter", `{"name":"a"}`, "application/json; charset=utf-8", 201, "", ""},
		{"+json media type", `{"name":"a"}`, "application/merge-patch+json", 201, "", ""},
		{"malformed", `{"name":`, js, 400, "bad_request", ""},
		{"not JSON at all", `name=a`, js, 400, "bad_request", ""},
		{"empty", ``, js, 400, "bad_request", ""},
		{"string for a number", `{"name":"a","count":"2"}`, js, 400, "bad_request", "count"},
		{"number for a string", `{"name":1}`, js, 400, "bad_request", "name"},
		{"object for an array", `{"name":"a","tags":{}}`, js, 400, "bad_request", "tags"},
		{"number for an id", `{"name":"a","owner":12}`, js, 400, "bad_request", ""},
		{"negative id", `{"name":"a","owner":"-1"}`, js, 400, "bad_request", ""},
		{"unknown field", `{"name":"a","admin":true}`, js, 400, "bad_request", "admin"},
		{"two values", `{"name":"a"}{"name":"b"}`, js, 400, "bad_request", ""},
		{"missing required", `{"count":1}`, js, 400, "validation_failed", "name"},
		{"NUL in a string", `{"name":"a\u0000b"}`, js, 400, "bad_request", "name"},
		{"invalid UTF-8 in a string", "{\"name\":\"a\xffb\"}", js, 400, "bad_request", "name"},
		{"truncated UTF-8 in a string", "{\"name\":\"a\xe2\x82\"}", js, 400, "bad_request", "name"},
		{"lone surrogate escape", `{"name":"a\ud800b"}`, js, 400, "bad_request", "name"},
		{"lone low surrogate escape", `{"name":"a\udc00"}`, js, 400, "bad_request", "name"},
		{"NUL in an array item", `{"name":"a","tags":["x","\u0000"]}`, js, 400, "bad_request", "tags[1]"},
		{"NUL in a key", `{"name":"a","x\u0000":1}`, js, 400, "bad_request", "x"},
		{"duplicate key", `{"name":"a","count":1,"name":"b"}`, js, 400, "bad_request", "name"},
		{"duplicate key, escaped", `{"name":"a","n\u0061me":"b"}`, js, 400, "bad_request", "name"},
		{"duplicate key, other case", `{"name":"a","Name":"b"}`, js, 400, "bad_request", "Name"},
		{"escaped pair and text", `{"name":"\ud83d\udc4d \u00e9 \" \\ \/ \n","tags":[]}`, js, 201, "", ""},
		{"NUL outside strings is a syntax error", "{\"name\":\"a\"\x00}", js, 400, "bad_request", ""},
		{"null", `null`, js, 400, "validation_failed", "name"},
		{"text/plain", `{"name":"a"}`, "text/plain", 415, "unsupported_media_type", ""},
		{"no content type", `{"name":"a"}`, "", 415, "unsupported_media_type", ""},
		{"garbled content type", `{"name":"a"}`, ";;", 415, "unsupported_media_type", ""},
		{"over the route limit", `{"name":"` + strings.Repeat("a", 1100) + `"}`, js, 413, "payload_too_large", ""},
	} {
		hdr := map[string]string{}
		if tc.contentType != "" {
			hdr["Content-Type"] = tc.contentType
		}
		r := b.do("POST", "/things", []byte(tc.body), hdr)
		require.Equal(t, tc.status, r.status, "%s: %s", tc.name, r.body)
		if tc.code == "" {
			continue
		}
		p := r.problem(t)
		require.Equal(t, tc.code, p["code"], tc.name)
		if tc.field != "" {
			require.Equal(t, tc.field, p["field"], tc.name)
		}
	}
}

// A body over the server-wide cap is refused from its Content-Length,
// before it is read. (The server then closes the connection: a client
// still sending a large body may see the close before the answer, so this
// declares the length and sends nothing.)
func TestBodyOverServerLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, decodeRoutes)
	conn, err := net.Dial("tcp", strings.TrimPrefix(b.url, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	_, err = conn.Write([]byte("POST /things HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 2097152\r\n\r\n"))
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, 413, resp.StatusCode, "%s", body)
	require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	require.Contains(t, string(body), `"code":"payload_too_large"`)
}

// An endpoint that takes no body accepts an empty one, whatever its
// content type says.
func TestNoBodyRouteIgnoresContentType(t *testing.T) {
	t.Parallel()
	b := setup(t, decodeRoutes)
	for _, ct := range []string{"", "text/plain", "application/json", "application/x-www-form-urlencoded"} {
		hdr := map[string]string{}
		if ct != "" {
			hdr["Content-Type"] = ct
		}
		r := b.do("POST", "/things/5/touch", []byte{}, hdr)
		require.Equal(t, 204, r.status, "content type %q: %s", ct, r.body)
	}
}
