package file_test

import (
	"io"
	"net/http"
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

// put sends body where up says.
func put(t *testing.T, s *apitest.Stack, u convtest.User, up uploadJSON, body []byte) int {
	t.Helper()
	return convtest.PutBytes(t, s, u, up.URL, up.Headers, body)
}

// upload uploads and completes a file as u and returns it.
func upload(t *testing.T, s *apitest.Stack, u convtest.User, name string, body []byte, purpose string) fileJSON {
	t.Helper()
	var f fileJSON
	convtest.Upload(t, s, u, name, body, purpose, &f)
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

// sendWith posts a message with attachments as u.
func sendWith(s *apitest.Stack, u convtest.User, c id.ID, body string, ids ...id.ID) *apitest.Response {
	return s.Do("POST", "/conversations/"+c.String()+"/messages", u.Token, map[string]any{"body": body, "attachment_ids": ids})
}
