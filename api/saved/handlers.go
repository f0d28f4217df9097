package saved

import (
	"github.com/chatterly/chatterly/api/rest"
	"github.com/valyala/fasthttp"
)

// Mount adds the saved-message routes to r.
func (s *Service) Mount(r *rest.Router) {
	r.Handle("GET", "/me/saved", s.list)
	r.Handle("POST", "/me/saved/:message_id", s.save)
	r.Handle("DELETE", "/me/saved/:message_id", s.unsave)
}

// save: POST /me/saved/:message_id → 201 saved message, 200 when it was
// saved already.
func (s *Service) save(c *rest.Ctx) error {
	mid, err := c.IDParam("message_id")
	if err != nil {
		return err
	}
	sv, created, err := s.Save(c.Context(), c.UserID(), mid)
	if err != nil {
		return err
	}
	return rest.Created(c, created, sv)
}

// unsave: DELETE /me/saved/:message_id → 204 whether or not it was saved.
func (s *Service) unsave(c *rest.Ctx) error {
	mid, err := c.IDParam("message_id")
	if err != nil {
		return err
	}
	if _, err := s.Unsave(c.Context(), c.UserID(), mid); err != nil {
		return err
	}
	return c.NoContent()
}

// list: GET /me/saved?cursor=&limit= → a page of the caller's saved
// messages, newest save first.
func (s *Service) list(c *rest.Ctx) error {
	limit, err := rest.Limit(c)
	if err != nil {
		return err
	}
	p, err := s.List(c.Context(), c.UserID(), c.Query("cursor"), limit)
	if err != nil {
		return err
	}
	return c.JSON(fasthttp.StatusOK, p)
}
