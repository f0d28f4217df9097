package profile

import (
	"github.com/chatterly/chatterly/api/rest"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/valyala/fasthttp"
)

// Mount adds PATCH /me to r.
func (s *Service) Mount(r *rest.Router) {
	r.Handle("PATCH", "/me", s.patch, rest.MaxBody(4<<10))
}

type patchRequest struct {
	DisplayName *string               `json:"display_name"`
	AvatarID    Nullable[id.ID]       `json:"avatar_id"`
	Status      Nullable[StatusInput] `json:"status"`
	TimeZone    *string               `json:"time_zone"`
}

// patch: PATCH /me → 200 the caller's user (with email).
func (s *Service) patch(c *rest.Ctx) error {
	var req patchRequest
	if err := c.Decode(&req); err != nil {
		return err
	}
	u, err := s.Update(c.Context(), c.UserID(), Patch{DisplayName: req.DisplayName, Avatar: req.AvatarID,
		Status: req.Status, TimeZone: req.TimeZone})
	if err != nil {
		return err
	}
	return c.JSON(fasthttp.StatusOK, u)
}
