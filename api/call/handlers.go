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
// newest first, to its members; without conversation_id, the caller's own
// calls across their DMs (recent).
func (s *Service) history(c *rest.Ctx) error {
	limit, before, err := historyPage(c)
	if err != nil {
		return err
	}
	if c.Query("conversation_id") == "" {
		return s.recent(c, limit, before)
	}
	conv, err := id.Parse(c.Query("conversation_id"))
	if err != nil {
		return fault.Invalid("conversation_id", "conversation_id must be the id of a conversation")
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
	calls, page.NextCursor = cut(calls, limit, func(cl Call) id.ID { return cl.ID })
	page.Items = make([]JSON, len(calls))
	for i, cl := range calls {
		page.Items[i] = Render(cl)
	}
	return c.JSON(fasthttp.StatusOK, page)
}

// recent: GET /calls?limit=&before= → the caller's calls in every DM,
// newest first, each with its direction, the other person and its
// duration. Only the caller's own calls are ever read.
func (s *Service) recent(c *rest.Ctx, limit int, before id.ID) error {
	me := c.UserID()
	calls, err := s.st.recent(c.Context(), me, before, limit+1)
	if err != nil {
		return fault.Wrap(err, "call history")
	}
	page := historyJSON{}
	calls, page.NextCursor = cut(calls, limit, func(t Taken) id.ID { return t.ID })
	page.Items = make([]HistoryJSON, len(calls))
	for i, t := range calls {
		page.Items[i] = RenderFor(t, me)
	}
	return c.JSON(fasthttp.StatusOK, page)
}

// historyPage reads the limit (DefaultHistory when absent, clamped to
// MaxHistory) and the before cursor (0 when absent) of a history page.
func historyPage(c *rest.Ctx) (limit int, before id.ID, err error) {
	limit = DefaultHistory
	if v := c.Query("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 {
			return 0, 0, fault.Invalid("limit", "limit must be a whole number from 1")
		}
		limit = min(limit, MaxHistory)
	}
	if v := c.Query("before"); v != "" {
		if before, err = id.Parse(v); err != nil {
			return 0, 0, fault.Invalid("before", "before must be the next_cursor of an earlier page")
		}
	}
	return limit, before, nil
}

// cut keeps the first limit of rows, read with one more than limit, and
// returns the cursor of the next page when there was one more.
func cut[T any](rows []T, limit int, idOf func(T) id.ID) ([]T, *string) {
	if len(rows) <= limit {
		return rows, nil
	}
	rows = rows[:limit]
	cur := idOf(rows[limit-1]).String()
	return rows, &cur
}

// iceServers: GET /calls/ice-servers → {"ice_servers": [RTCIceServer…]}.
// The TURN credential is personal and short-lived: never cached.
func (s *Service) iceServers(c *rest.Ctx) error {
	c.RC.Response.Header.Set("Cache-Control", "no-store")
	return c.JSON(fasthttp.StatusOK, map[string]any{"ice_servers": s.ICE.Servers(c.UserID(), s.Now())})
}
