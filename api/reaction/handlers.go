package reaction

import (
	"github.com/chatterly/chatterly/api/rest"
)

// Mount adds the reaction routes to r.
func (s *Service) Mount(r *rest.Router) {
	r.Handle("POST", "/messages/:id/reactions", s.add, rest.MaxBody(1<<10))
	r.Handle("DELETE", "/messages/:id/reactions/:emoji", s.remove)
}

type addRequest struct {
	Emoji string `json:"emoji"`
}

func (s *Service) add(c *rest.Ctx) error {
	mid, err := c.IDParam("id")
	if err != nil {
		return err
	}
	var req addRequest
	if err := c.Decode(&req); err != nil {
		return err
	}
	r, created, err := s.Add(c.Context(), c.UserID(), mid, req.Emoji)
	if err != nil {
		return err
	}
	return rest.Created(c, created, r)
}

// remove: DELETE /messages/:id/reactions/:emoji, the emoji percent-encoded
// in the path ("%F0%9F%91%8D", ":thumbsup:"). 204 whether or not it was
// there.
func (s *Service) remove(c *rest.Ctx) error {
	mid, err := c.IDParam("id")
	if err != nil {
		return err
	}
	if _, err := s.Remove(c.Context(), c.UserID(), mid, c.Param("emoji")); err != nil {
		return err
	}
	return c.NoContent()
}
