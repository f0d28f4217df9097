package file

import (
	"strconv"

	"github.com/chatterly/chatterly/api/rest"
	"github.com/valyala/fasthttp"
)

// Mount adds the file routes to r. The upload route takes bodies up to
// FILE_MAX_BYTES (rest.LargeBody), past the server's cap.
func (s *Service) Mount(r *rest.Router) {
	r.Handle("POST", "/files", s.create, rest.MaxBody(4<<10))
	r.Handle("PUT", "/files/:id/content", s.content, rest.LargeBody(int(max(s.cfg.MaxBytes, s.cfg.AvatarMaxBytes))))
	r.Handle("POST", "/files/:id/complete", s.complete)
	r.Handle("GET", "/files/:id/url", s.url)
	r.Handle("GET", "/files/:id/blob", s.blob, rest.Public())
	r.Handle("GET", "/avatars/:id", s.avatar, rest.Public())
}

type createRequest struct {
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	Purpose     string `json:"purpose"`
}

// create: POST /files → 201 {file, upload_url, upload_method, upload_headers, expires_at}.
func (s *Service) create(c *rest.Ctx) error {
	var req createRequest
	if err := c.Decode(&req); err != nil {
		return err
	}
	up, err := s.Create(c.Context(), c.UserID(), CreateInput(req))
	if err != nil {
		return err
	}
	return c.JSON(fasthttp.StatusCreated, up)
}

// content: PUT /files/:id/content (the local disk's uploads) → 204.
func (s *Service) content(c *rest.Ctx) error {
	fid, err := c.IDParam("id")
	if err != nil {
		return err
	}
	body, err := c.Bytes()
	if err != nil {
		return err
	}
	if err := s.PutContent(c.Context(), c.UserID(), fid, body); err != nil {
		return err
	}
	return c.NoContent()
}

// complete: POST /files/:id/complete → 200 the complete file (again on a
// repeat).
func (s *Service) complete(c *rest.Ctx) error {
	fid, err := c.IDParam("id")
	if err != nil {
		return err
	}
	f, _, err := s.Complete(c.Context(), c.UserID(), fid)
	if err != nil {
		return err
	}
	return c.JSON(fasthttp.StatusOK, f)
}

// url: GET /files/:id/url?variant=original|thumbnail → 200 {url, expires_at}.
func (s *Service) url(c *rest.Ctx) error {
	fid, err := c.IDParam("id")
	if err != nil {
		return err
	}
	v := c.Query("variant")
	if v == "" {
		v = Original
	}
	u, err := s.URL(c.Context(), c.UserID(), fid, v)
	if err != nil {
		return err
	}
	return c.JSON(fasthttp.StatusOK, u)
}

// blob: GET /files/:id/blob?variant=&user=&exp=&sig= (a signed URL) → the
// bytes, or 302 to the store's presigned GET.
func (s *Service) blob(c *rest.Ctx) error {
	fid, err := c.IDParam("id")
	if err != nil {
		return err
	}
	d, err := s.Blob(c.Context(), fid, c.Query("variant"), c.Query("user"), c.Query("exp"), c.Query("sig"))
	if err != nil {
		return err
	}
	// The URL expires; a browser may keep what it fetched for as long
	// as the person may see it, which is not known here: briefly.
	return send(c, d, "private, max-age=60")
}

// avatar: GET /avatars/:id?size=64|256 → the PNG, or 302 to the store.
func (s *Service) avatar(c *rest.Ctx) error {
	fid, err := c.IDParam("id")
	if err != nil {
		return err
	}
	size, _ := strconv.Atoi(c.Query("size"))
	if c.Query("size") == "" {
		size = AvatarSizes[0]
	}
	d, err := s.Avatar(c.Context(), fid, size)
	if err != nil {
		return err
	}
	// An avatar's id changes with each new avatar: its bytes never do.
	return send(c, d, "public, max-age=86400, immutable")
}

func send(c *rest.Ctx, d Download, cache string) error {
	if d.RedirectURL != "" {
		return c.Redirect(d.RedirectURL)
	}
	return c.Send(d.Delivery.ContentType, d.Size, d.Body,
		map[string]string{"Content-Disposition": d.Delivery.Disposition, "Cache-Control": cache})
}
