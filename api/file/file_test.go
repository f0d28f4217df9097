package file_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/api/convtest"
	"github.com/chatterly/chatterly/api/file/s3test"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/stretchr/testify/require"
)

// The local disk: make run's default. The whole flow (upload, check,
// attach, list, signed download, deletion), and where its bytes live.
func TestFilesOnTheLocalDisk(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := apitest.Start(t, map[string]string{"FILE_DIR": dir})
	exercise(t, s, func(key string) bool {
		_, err := s.Deps.Files.Stat(context.Background(), key)
		return err == nil
	})
}

// An S3-compatible store (the Versity S3 Gateway): uploads go straight to
// the store by presigned PUT, downloads redirect to presigned GETs.
func TestFilesInAnS3Store(t *testing.T) {
	t.Parallel()
	st := s3test.Start(t)
	c := st.Config
	s := apitest.Start(t, map[string]string{"FILE_STORAGE": "s3", "S3_ENDPOINT": c.Endpoint, "S3_REGION": c.Region,
		"S3_BUCKET": c.Bucket, "S3_ACCESS_KEY": c.AccessKey, "S3_SECRET_KEY": c.SecretKey})
	exercise(t, s, func(key string) bool {
		_, err := st.Store.Client().HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(c.Bucket), Key: aws.String(key)})
		return err == nil
	})
}

// exercise runs the flow every backend must pass; stored reports whether
// the store holds an object under key.
func exercise(t *testing.T, s *apitest.Stack, stored func(key string) bool) {
	ann, bob, eve := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob"), convtest.NewUser(t, s, "eve")
	g := convtest.Create(t, s, ann, "group", "files", bob)

	// An image: its type is sniffed (the claim said octet-stream), its
	// size read, and a thumbnail made.
	pic := convtest.PNG(t, 800, 600)
	img := upload(t, s, ann, "sunset.png", pic, "attachment")
	require.Equal(t, "image/png", *img.ContentType)
	require.Equal(t, 800, img.Width)
	require.Equal(t, 600, img.Height)
	require.True(t, img.Thumbnail)
	require.True(t, stored("f/"+img.ID.String()+"/original"))
	doc := upload(t, s, ann, "notes.txt", []byte("plain notes\n"), "")
	require.Equal(t, "text/plain; charset=utf-8", *doc.ContentType)
	require.False(t, doc.Thumbnail)

	// A file of a type not accepted is refused at completion, and its
	// bytes are removed.
	up := create(t, s, ann, "page.html", 38, "text/plain", "attachment")
	put(t, s, ann, up, []byte("<html><script>alert(1)</script></html>"))
	r := s.Do("POST", "/files/"+up.File.ID.String()+"/complete", ann.Token, nil)
	require.Equal(t, http.StatusUnsupportedMediaType, r.Status, "%s", r.Body)
	require.Equal(t, "unsupported_media_type", r.Code())
	require.False(t, stored("f/"+up.File.ID.String()+"/original"))
	// Not uploaded: nothing to complete. Someone else's: not found.
	pending := create(t, s, ann, "later.txt", 5, "text/plain", "attachment")
	require.Equal(t, "conflict", s.Do("POST", "/files/"+pending.File.ID.String()+"/complete", ann.Token, nil).Code())
	require.Equal(t, http.StatusNotFound, s.Do("POST", "/files/"+img.ID.String()+"/complete", bob.Token, nil).Status)

	// Attached on send: the answer, the event and the timeline carry the
	// attachments (read with the rows: no query per message).
	r = sendWith(s, ann, g.ID, "look", img.ID, doc.ID)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var m messageJSON
	r.JSON(t, &m)
	require.Len(t, m.Attachments, 2)
	require.Equal(t, attachmentJSON{ID: img.ID, Name: "sunset.png", Size: int64(len(pic)), ContentType: "image/png",
		Width: 800, Height: 600, Thumbnail: true}, m.Attachments[0])
	require.Equal(t, doc.ID, m.Attachments[1].ID)
	var created bool
	for _, e := range convtest.Stream(t, s, rkey.ConversationTopic(g.ID)) {
		if e.Env.Type == event.MessageCreated && strings.Contains(string(e.Env.Data), `"`+m.ID.String()+`"`) {
			require.Contains(t, string(e.Env.Data), `"attachments":[{"id":"`+img.ID.String()+`"`)
			created = true
		}
	}
	require.True(t, created, "message.created carries the attachments")
	page := convtest.Get[convtest.Page[messageJSON]](t, s, bob, "/conversations/"+g.ID.String()+"/messages")
	require.Equal(t, m.Attachments, page.Items[0].Attachments)
	// A message of files alone needs no body.
	solo := upload(t, s, bob, "solo.txt", []byte("just a file"), "attachment")
	r = sendWith(s, bob, g.ID, "", solo.ID)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)

	// Attached once, by its uploader, once complete.
	require.Equal(t, "validation_failed", sendWith(s, ann, g.ID, "again", img.ID).Code())
	other := upload(t, s, ann, "other.txt", []byte("other"), "attachment")
	require.Equal(t, "validation_failed", sendWith(s, bob, g.ID, "not mine", other.ID).Code())
	require.Equal(t, "validation_failed", sendWith(s, ann, g.ID, "pending", pending.File.ID).Code())
	require.Equal(t, "validation_failed", sendWith(s, ann, g.ID, "twice", other.ID, other.ID).Code())

	// Downloads: members get signed URLs; the bytes are the upload's.
	st, u := signedURL(t, s, bob, img.ID, "original")
	require.Equal(t, http.StatusOK, st)
	code, ct, got := fetch(t, s, u)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "image/png", ct)
	require.Equal(t, pic, got)
	st, tu := signedURL(t, s, bob, img.ID, "thumbnail")
	require.Equal(t, http.StatusOK, st)
	code, _, got = fetch(t, s, tu)
	require.Equal(t, http.StatusOK, code)
	th, err := png.Decode(bytes.NewReader(got))
	require.NoError(t, err)
	require.Equal(t, image.Rect(0, 0, 360, 270), th.Bounds())
	_, du := signedURL(t, s, ann, doc.ID, "original")
	code, _, got = fetch(t, s, du)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "plain notes\n", string(got))
	require.Equal(t, "validation_failed", s.Do("GET", "/files/"+doc.ID.String()+"/url?variant=thumbnail", ann.Token, nil).Code())

	// Not a member: no URL, no file. A tampered URL serves nothing.
	st, _ = signedURL(t, s, eve, img.ID, "original")
	require.Equal(t, http.StatusNotFound, st)
	st, _ = signedURL(t, s, eve, other.ID, "original") // unattached: its uploader's only
	require.Equal(t, http.StatusNotFound, st)
	forged := strings.Replace(u, "user="+bob.ID.String(), "user="+eve.ID.String(), 1)
	code, _, _ = fetch(t, s, forged)
	require.Equal(t, http.StatusForbidden, code)
	code, _, _ = fetch(t, s, u[:len(u)-3]+"abc")
	require.Equal(t, http.StatusForbidden, code)

	// A URL stops working when it expires.
	real := s.Deps.Now
	s.Deps.Now = func() time.Time { return real().Add(11 * time.Minute) }
	code, _, _ = fetch(t, s, u)
	s.Deps.Now = real
	require.Equal(t, http.StatusForbidden, code)

	// Deleting the message: its files are no longer served, even by URLs
	// handed out before, and their bytes go.
	require.Equal(t, http.StatusNoContent, s.Do("DELETE", "/messages/"+m.ID.String(), ann.Token, nil).Status)
	code, _, _ = fetch(t, s, u)
	require.Equal(t, http.StatusNotFound, code)
	st, _ = signedURL(t, s, bob, img.ID, "original")
	require.Equal(t, http.StatusNotFound, st)
	require.Eventually(t, func() bool {
		return !stored("f/"+img.ID.String()+"/original") && !stored("f/"+img.ID.String()+"/thumbnail") && !stored("f/"+doc.ID.String()+"/original")
	}, 10*time.Second, 50*time.Millisecond, "the deleted message's bytes are removed")
	replay := s.Do("GET", "/conversations/"+g.ID.String()+"/events?after_seq=0", bob.Token, nil)
	require.Equal(t, http.StatusOK, replay.Status)
	require.NotContains(t, string(replay.Body), "sunset.png", "replay no longer hands out the deleted message's files")
	require.Contains(t, string(replay.Body), "solo.txt", "nor anything else's")
	page = convtest.Get[convtest.Page[messageJSON]](t, s, bob, "/conversations/"+g.ID.String()+"/messages")
	for _, it := range page.Items {
		if it.ID == m.ID {
			require.Empty(t, it.Attachments, "a tombstone has no attachments")
		}
	}
}

// Limits: sizes are declared and checked; the upload route takes bodies
// past the api's 1 MiB cap, every other route keeps it; an image too large
// to decode is refused from its header.
func TestFileLimits(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, map[string]string{"FILE_MAX_BYTES": "2097152", "FILE_AVATAR_MAX_BYTES": "1048576"})
	ann := convtest.NewUser(t, s, "ann")
	g := convtest.Create(t, s, ann, "group", "limits")

	r := s.Do("POST", "/files", ann.Token, map[string]any{"name": "big.bin", "size": 3 << 20})
	require.Equal(t, http.StatusRequestEntityTooLarge, r.Status, "%s", r.Body)
	require.Equal(t, "validation_failed", s.Do("POST", "/files", ann.Token, map[string]any{"name": "a/b", "size": 3}).Code())
	require.Equal(t, "validation_failed", s.Do("POST", "/files", ann.Token, map[string]any{"name": "x", "size": 3, "purpose": "other"}).Code())

	// 1.5 MiB through the upload route (over the server's 1 MiB cap)...
	big := bytes.Repeat([]byte("chatterly "), 150_000)
	f := upload(t, s, ann, "big.txt", big, "attachment")
	require.Equal(t, int64(len(big)), f.Size)
	// ...but not through any other route: refused from its Content-Length
	// (sent without the body, as the server closes the connection then).
	require.Equal(t, http.StatusRequestEntityTooLarge, declare(t, s, ann, "POST", "/conversations/"+g.ID.String()+"/messages", len(big)))
	// More than the file's limit through the upload route: refused.
	up := create(t, s, ann, "small.txt", 10, "text/plain", "attachment")
	require.Equal(t, http.StatusRequestEntityTooLarge, declare(t, s, ann, "PUT", up.URL, 3<<20))
	// Not the declared size: refused.
	r = s.DoWith("PUT", up.URL, ann.Token, []byte("12345"), "text/plain", nil)
	require.Equal(t, "validation_failed", r.Code())

	// A picture of 16,385 × 1 pixels (a few hundred bytes, beyond the
	// 16,384 a side) is refused before it is decoded.
	bomb := convtest.PNG(t, 16385, 1)
	up = create(t, s, ann, "bomb.png", len(bomb), "image/png", "attachment")
	put(t, s, ann, up, bomb)
	r = s.Do("POST", "/files/"+up.File.ID.String()+"/complete", ann.Token, nil)
	require.Equal(t, "validation_failed", r.Code(), "%s", r.Body)
	// An avatar must be an image.
	up = create(t, s, ann, "a.txt", 4, "text/plain", "avatar")
	put(t, s, ann, up, []byte("text"))
	require.Equal(t, "unsupported_media_type", s.Do("POST", "/files/"+up.File.ID.String()+"/complete", ann.Token, nil).Code())
}

// declare sends only the head of a request whose body would have n bytes
// and returns the status: a body over the limit is refused from its
// Content-Length, before it is read (and the server then closes the
// connection, which a client still sending could see before the answer).
func declare(t *testing.T, s *apitest.Stack, u convtest.User, method, path string, n int) int {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	_, err = fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", method, path, u.Token, n)
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}
