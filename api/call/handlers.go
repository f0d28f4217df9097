package call

import (
	"context"
	"strconv"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/api/rest"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/valyala/fasthttp"
)

// History page sizes: DefaultHistory when the client gives no limit, at
// most MaxHistory (a larger limit is clamped, not refused).
const (
	DefaultHistory = 20
	MaxHistory     = 100
)

// bodyLimit is the request body limit of POST /calls (two ids and a word).
const bodyLimit = 1 << 10

// Mount adds the call routes to r. ice-servers is registered before
// /calls/:id, which would otherwise take it.
func (s *Service) Mount(r *rest.Router) {
	r.Handle("GET", "/calls/ice-servers", s.iceServers)
	r.Handle("POST", "/calls", s.create, rest.MaxBody(bodyLimit))
	r.Handle("GET", "/calls", s.history)
	r.Handle("GET", "/calls/:id", s.get)
	r.Handle("POST", "/calls/:id/ring", s.moveHandler(s.Ring))
	r.Handle("POST", "/calls/:id/accept", s.moveHandler(s.Accept))
	r.Handle("POST", "/calls/:id/decline", s.moveHandler(s.Decline))
	r.Handle("POST", "/calls/:id/end", s.moveHandler(s.End))
}

type createRequest struct {
	CalleeID       id.ID  `json:"callee_id"`
	ConversationID id.ID  `json:"conversation_id"`
	Media          string `json:"media"`
}

// create: POST /calls {callee_id | conversation_id, media} → 201 call.
func (s *Service) create(c *rest.Ctx) error {
	var req createRequest
	if err := c.Decode(&req); err != nil {
		return err
	}
	call, err := s.Create(c.Context(), c.UserID(), NewCall{CalleeID: req.CalleeID, ConversationID: req.ConversationID, Media: Media(req.Media)})
	if err != nil {
		return err
	}
	c.RC.Response.Header.Set("Location", "/calls/"+call.ID.String())
	return c.JSON(fasthttp.StatusCreated, Render(call))
}

// get: GET /calls/:id → the call, to its participants only.
func (s *Service) get(c *rest.Ctx) error {
	call, err := c.IDParam("id")
	if err != nil {
		return err
	}
	cl, err := s.Get(c.Context(), c.UserID(), call)
	if err != nil {
		return err
	}
	return c.JSON(fasthttp.StatusOK, Render(cl))
}

// moveHandler serves POST /calls/:id/{ring,accept,decline,end} → 200 call.
func (s *Service) moveHandler(move func(ctx context.Context, by, call id.ID) (Call, error)) rest.Handler {
	return func(c *rest.Ctx) error {
		call, err := c.IDParam("id")
		if err != nil {
			return err
		}
		cl, err := move(c.Context(), c.UserID(), call)
		if err != nil {
			return err
		}
		return c.JSON(fasthttp.StatusOK, Render(cl))
	}
}

// history: GET /calls?conversation_id=&limit=&before= → a DM's calls,
// newest first, to its members.
func (s *Service) history(c *rest.Ctx) error {
	conv, err := id.Parse(c.Query("conversation_id"))
	if err != nil {
		return fault.Invalid("conversation_id", "conversation_id is required: the id of a conversation")
	}
	limit := DefaultHistory
	if v := c.Query("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 {
			return fault.Invalid("limit", "limit must be a whole number from 1")
		}
		limit = min(limit, MaxHistory)
	}
	var before id.ID
	if v := c.Query("before"); v != "" {
		if before, err = id.Parse(v); err != nil {
			return fault.Invalid("before", "before must be the next_cursor of an earlier page")
		}
	}
	ctx := c.Context()
	ok, err := s.st.isMember(ctx, conv, c.UserID())
	if err != nil {
		return fault.Wrap(err, "call history")
	}
	if !ok {
		return fault.New(fault.NotFound, "no such conversation")
	}
	// One more than asked tells whether an older page exists.
	calls, err := s.st.history(ctx, conv, before, limit+1)
	if err != nil {
		return fault.Wrap(err, "call history")
	}
	page := listJSON{}
	if len(calls) > limit {
		calls = calls[:limit]
		cur := calls[limit-1].ID.String()
		page.NextCursor = &cur
	}
	page.Items = make([]JSON, len(calls))
	for i, cl := range calls {
		page.Items[i] = Render(cl)
	}
	return c.JSON(fasthttp.StatusOK, page)
}

// iceServers: GET /calls/ice-servers → {"ice_servers": [RTCIceServer…]}.
// The TURN credential is personal and short-lived: never cached.
func (s *Service) iceServers(c *rest.Ctx) error {
	c.RC.Response.Header.Set("Cache-Control", "no-store")
	return c.JSON(fasthttp.StatusOK, map[string]any{"ice_servers": s.ICE.Servers(c.UserID(), s.Now())})
}
