package pin

import (
	"github.com/chatterly/chatterly/api/rest"
	"github.com/valyala/fasthttp"
)

// Mount adds the pin routes to r.
func (s *Service) Mount(r *rest.Router) {
	r.Handle("POST", "/messages/:id/pin", s.pin)
	r.Handle("DELETE", "/messages/:id/pin", s.unpin)
	r.Handle("GET", "/conversations/:id/pins", s.list)
}

// pin: POST /messages/:id/pin → 201 pin, 200 when it was pinned already.
func (s *Service) pin(c *rest.Ctx) error {
	mid, err := c.IDParam("id")
	if err != nil {
		return err
	}
	p, created, err := s.Pin(c.Context(), c.UserID(), mid)
	if err != nil {
		return err
	}
	return rest.Created(c, created, p)
}

// unpin: DELETE /messages/:id/pin → 204 whether or not it was pinned.
func (s *Service) unpin(c *rest.Ctx) error {
	mid, err := c.IDParam("id")
	if err != nil {
		return err
	}
	if _, err := s.Unpin(c.Context(), c.UserID(), mid); err != nil {
		return err
	}
	return c.NoContent()
}

// list: GET /conversations/:id/pins?cursor=&limit= → a page of pins, newest
// first, each with its message.
func (s *Service) list(c *rest.Ctx) error {
	cid, err := c.IDParam("id")
	if err != nil {
		return err
	}
	limit, err := rest.Limit(c)
	if err != nil {
		return err
	}
	p, err := s.List(c.Context(), c.UserID(), cid, c.Query("cursor"), limit)
	if err != nil {
		return err
	}
	return c.JSON(fasthttp.StatusOK, p)
}
