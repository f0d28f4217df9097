package file_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/api/convtest"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/stretchr/testify/require"
)

type fileJSON struct {
	ID          id.ID   `json:"id"`
	Purpose     string  `json:"purpose"`
	Name        string  `json:"name"`
	Size        int64   `json:"size"`
	State       string  `json:"state"`
	ContentType *string `json:"content_type"`
	Width       int     `json:"width"`
	Height      int     `json:"height"`
	Thumbnail   bool    `json:"thumbnail"`
}

type uploadJSON struct {
	File      fileJSON          `json:"file"`
	URL       string            `json:"upload_url"`
	Method    string            `json:"upload_method"`
	Headers   map[string]string `json:"upload_headers"`
	ExpiresAt time.Time         `json:"expires_at"`
}

type attachmentJSON struct {
	ID          id.ID  `json:"id"`
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	Thumbnail   bool   `json:"thumbnail"`
}

type messageJSON struct {
	ID          id.ID            `json:"id"`
	Body        *string          `json:"body"`
	Attachments []attachmentJSON `json:"attachments"`
}

// create declares an upload as u and expects 201.
func create(t *testing.T, s *apitest.Stack, u convtest.User, name string, size int, ct, purpose string) uploadJSON {
	t.Helper()
	r := s.Do("POST", "/files", u.Token, map[string]any{"name": name, "size": size, "content_type": ct, "purpose": purpose})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var up uploadJSON
	r.JSON(t, &up)
	require.Equal(t, "pending", up.File.State)
	require.Equal(t, "PUT", up.Method)
	return up
}

// put sends body where up says, as the browser would: to the api (a path)
// with u's token, or straight to the store (an absolute URL).
func put(t *testing.T, s *apitest.Stack, u convtest.User, up uploadJSON, body []byte) int {
	t.Helper()
	if strings.HasPrefix(up.URL, "/") {
		return s.DoWith("PUT", up.URL, u.Token, body, up.Headers["Content-Type"], nil).Status
	}
	req, err := http.NewRequest("PUT", up.URL, bytes.NewReader(body))
	require.NoError(t, err)
	for k, v := range up.Headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Less(t, resp.StatusCode, 300, "PUT to the store: %s", b)
	return resp.StatusCode
}

// upload creates, puts and completes a file as u and returns it complete.
func upload(t *testing.T, s *apitest.Stack, u convtest.User, name string, body []byte, purpose string) fileJSON {
	t.Helper()
	up := create(t, s, u, name, len(body), "application/octet-stream", purpose)
	require.Less(t, put(t, s, u, up, body), 300)
	r := s.Do("POST", "/files/"+up.File.ID.String()+"/complete", u.Token, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var f fileJSON
	r.JSON(t, &f)
	require.Equal(t, "complete", f.State)
	return f
}

// fetch follows a signed URL of the api (and a redirect to the store, as a
// browser does) and returns the status, content type and bytes.
func fetch(t *testing.T, s *apitest.Stack, url string) (int, string, []byte) {
	t.Helper()
	resp, err := http.Get(s.URL + url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// signedURL asks for a download URL of f as u.
func signedURL(t *testing.T, s *apitest.Stack, u convtest.User, f id.ID, variant string) (int, string) {
	t.Helper()
	r := s.Do("GET", "/files/"+f.String()+"/url?variant="+variant, u.Token, nil)
	var v struct {
		URL string `json:"url"`
	}
	if r.Status == http.StatusOK {
		r.JSON(t, &v)
	}
	return r.Status, v.URL
}

// pngOf encodes a w×h picture (a gradient, so scaling is visible).
func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{R: uint8(x), G: uint8(y), B: 100, A: 255})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

// sendWith posts a message with attachments as u.
func sendWith(s *apitest.Stack, u convtest.User, c id.ID, body string, ids ...id.ID) *apitest.Response {
	return s.Do("POST", "/conversations/"+c.String()+"/messages", u.Token, map[string]any{"body": body, "attachment_ids": ids})
}
