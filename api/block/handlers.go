package block

import (
	"github.com/chatterly/chatterly/api/rest"
	"github.com/valyala/fasthttp"
)

// Mount adds the block routes to r.
func (s *Service) Mount(r *rest.Router) {
	r.Handle("GET", "/me/blocks", s.list)
	r.Handle("POST", "/me/blocks/:user_id", s.block)
	r.Handle("DELETE", "/me/blocks/:user_id", s.unblock)
}

// block: POST /me/blocks/:user_id → 201 block, 200 when it existed.
func (s *Service) block(c *rest.Ctx) error {
	u, err := c.IDParam("user_id")
	if err != nil {
		return err
	}
	b, created, err := s.Block(c.Context(), c.UserID(), u)
	if err != nil {
		return err
	}
	return rest.Created(c, created, b)
}

// unblock: DELETE /me/blocks/:user_id → 204 whether or not there was one.
func (s *Service) unblock(c *rest.Ctx) error {
	u, err := c.IDParam("user_id")
	if err != nil {
		return err
	}
	if _, err := s.Unblock(c.Context(), c.UserID(), u); err != nil {
		return err
	}
	return c.NoContent()
}

// page is a list answer.
type page struct {
	Items      []JSON  `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// list: GET /me/blocks?cursor=&limit= → the people the caller blocks, by
// user id.
func (s *Service) list(c *rest.Ctx) error {
	limit, err := rest.Limit(c)
	if err != nil {
		return err
	}
	items, next, err := s.List(c.Context(), c.UserID(), c.Query("cursor"), limit)
	if err != nil {
		return err
	}
	if items == nil {
		items = []JSON{}
	}
	return c.JSON(fasthttp.StatusOK, page{Items: items, NextCursor: next})
}
