package conversation

import (
	"strconv"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/api/rest"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/valyala/fasthttp"
)

// bodyLimit is the request body limit of these routes: 100 member ids and
// a topic fit many times over.
const bodyLimit = 16 << 10

// Mount adds the conversation routes to r. Handlers parse, call the service
// (which authorizes through the policy functions) and render.
func (s *Service) Mount(r *rest.Router) {
	r.Handle("POST", "/conversations", s.create, rest.MaxBody(bodyLimit))
	r.Handle("GET", "/conversations", s.list)
	r.Handle("GET", "/conversations/:id", s.get)
	r.Handle("PATCH", "/conversations/:id", s.update, rest.MaxBody(bodyLimit))
	r.Handle("POST", "/conversations/:id/join", s.join)
	r.Handle("DELETE", "/conversations/:id/membership", s.leave)
	r.Handle("GET", "/conversations/:id/members", s.members)
	r.Handle("POST", "/conversations/:id/members", s.addMember, rest.MaxBody(bodyLimit))
	r.Handle("PATCH", "/conversations/:id/members/:user_id", s.changeRole, rest.MaxBody(bodyLimit))
	r.Handle("DELETE", "/conversations/:id/members/:user_id", s.removeMember)
	r.Handle("GET", "/conversations/:id/events", s.events)
	r.Handle("POST", "/conversations/:id/archive", s.archive)
	r.Handle("DELETE", "/conversations/:id/archive", s.archive)
	r.Handle("GET", "/channels", s.channels)
}

// Page is a list answer: {"items": [...], "next_cursor": "..."|null}.
type Page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// NewPage is a page of items (an empty list renders as []).
func NewPage[T any](items []T, next *string) Page[T] {
	if items == nil {
		items = []T{}
	}
	return Page[T]{Items: items, NextCursor: next}
}

type createRequest struct {
	Kind      string  `json:"kind"`
	Name      *string `json:"name"`
	Topic     *string `json:"topic"`
	MemberIDs []id.ID `json:"member_ids"`
}

func (s *Service) create(c *rest.Ctx) error {
	var req createRequest
	if err := c.Decode(&req); err != nil {
		return err
	}
	conv, created, err := s.Create(c.Context(), c.UserID(), CreateInput(req))
	if err != nil {
		return err
	}
	v, err := s.ViewOf(c.Context(), c.UserID(), conv)
	if err != nil {
		return err
	}
	return rest.Created(c, created, v)
}

func (s *Service) list(c *rest.Ctx) error {
	limit, err := rest.Limit(c)
	if err != nil {
		return err
	}
	items, next, err := s.List(c.Context(), c.UserID(), c.Query("cursor"), limit)
	if err != nil {
		return err
	}
	// The api's hottest read is written by hand, into the response's
	// pooled buffer: encoding/json would scan and compact every item's
	// spliced JSON once more.
	return c.AppendJSON(fasthttp.StatusOK, func(b []byte) ([]byte, error) {
		b = append(b, `{"items":[`...)
		for i, v := range items {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = v.AppendJSON(b); err != nil {
				return nil, fault.Wrap(err, "list conversations")
			}
		}
		b = append(b, `],"next_cursor":`...)
		if next == nil {
			b = append(b, "null"...)
		} else {
			b = strconv.AppendQuote(b, *next) // digits and "_" only
		}
		return append(b, '}'), nil
	})
}

func (s *Service) get(c *rest.Ctx) error {
	cid, err := c.IDParam("id")
	if err != nil {
		return err
	}
	v, err := s.Get(c.Context(), c.UserID(), cid)
	if err != nil {
		return err
	}
	return c.JSON(fasthttp.StatusOK, v)
}

type updateRequest struct {
	Name  *string `json:"name"`
	Topic *string `json:"topic"`
}

func (s *Service) update(c *rest.Ctx) error {
	cid, err := c.IDParam("id")
	if err != nil {
		return err
	}
	var req updateRequest
	if err := c.Decode(&req); err != nil {
		return err
	}
	conv, err := s.Update(c.Context(), c.UserID(), cid, req.Name, req.Topic)
	return s.answerView(c, conv, err)
}

// answerView answers 200 with the caller's view of conv, which the caller
// just changed (unless err).
func (s *Service) answerView(c *rest.Ctx, conv Conversation, err error) error {
	if err != nil {
		return err
	}
	v, err := s.ViewOf(c.Context(), c.UserID(), conv)
	if err != nil {
		return err
	}
	return c.JSON(fasthttp.StatusOK, v)
}

func (s *Service) join(c *rest.Ctx) error {
	cid, err := c.IDParam("id")
	if err != nil {
		return err
	}
	m, created, err := s.Join(c.Context(), c.UserID(), cid)
	if err != nil {
		return err
	}
	return rest.Created(c, created, RenderMember(m))
}

func (s *Service) leave(c *rest.Ctx) error {
	cid, err := c.IDParam("id")
	if err != nil {
		return err
	}
	if err := s.Leave(c.Context(), c.UserID(), cid); err != nil {
		return err
	}
	return c.NoContent()
}

// idAndLimit reads the :id path parameter and the limit query parameter.
func idAndLimit(c *rest.Ctx) (id.ID, int, error) {
	cid, err := c.IDParam("id")
	if err != nil {
		return 0, 0, err
	}
	limit, err := rest.Limit(c)
	return cid, limit, err
}

func (s *Service) members(c *rest.Ctx) error {
	cid, limit, err := idAndLimit(c)
	if err != nil {
		return err
	}
	items, next, err := s.Members(c.Context(), c.UserID(), cid, c.Query("cursor"), limit)
	if err != nil {
		return err
	}
	return c.JSON(fasthttp.StatusOK, NewPage(items, next))
}

type addMemberRequest struct {
	UserID id.ID `json:"user_id"`
	Role   Role  `json:"role"`
}

func (s *Service) addMember(c *rest.Ctx) error {
	cid, err := c.IDParam("id")
	if err != nil {
		return err
	}
	var req addMemberRequest
	if err := c.Decode(&req); err != nil {
		return err
	}
	if req.UserID == 0 {
		return fault.Invalid("user_id", "user_id is required")
	}
	if req.Role == "" {
		req.Role = Member
	}
	m, created, err := s.AddMember(c.Context(), c.UserID(), cid, req.UserID, req.Role)
	if err != nil {
		return err
	}
	return rest.Created(c, created, RenderMember(m))
}

// idAndUser reads the :id and :user_id path parameters of a member route.
func idAndUser(c *rest.Ctx) (id.ID, id.ID, error) {
	cid, err := c.IDParam("id")
	if err != nil {
		return 0, 0, err
	}
	uid, err := c.IDParam("user_id")
	return cid, uid, err
}

func (s *Service) removeMember(c *rest.Ctx) error {
	cid, uid, err := idAndUser(c)
	if err != nil {
		return err
	}
	if err := s.RemoveMember(c.Context(), c.UserID(), cid, uid); err != nil {
		return err
	}
	return c.NoContent()
}

type changeRoleRequest struct {
	Role Role `json:"role"`
}

// changeRole: PATCH /conversations/:id/members/:user_id {role} → 200 the
// membership after the change.
func (s *Service) changeRole(c *rest.Ctx) error {
	cid, uid, err := idAndUser(c)
	if err != nil {
		return err
	}
	var req changeRoleRequest
	if err := c.Decode(&req); err != nil {
		return err
	}
	m, err := s.ChangeRole(c.Context(), c.UserID(), cid, uid, req.Role)
	if err != nil {
		return err
	}
	return c.JSON(fasthttp.StatusOK, RenderMember(m))
}

func (s *Service) events(c *rest.Ctx) error {
	cid, limit, err := idAndLimit(c)
	if err != nil {
		return err
	}
	p, err := s.Events(c.Context(), c.UserID(), cid, c.Query("after_seq"), limit)
	if err != nil {
		return err
	}
	return c.JSON(fasthttp.StatusOK, p)
}

func (s *Service) channels(c *rest.Ctx) error {
	limit, err := rest.Limit(c)
	if err != nil {
		return err
	}
	items, next, err := s.Channels(c.Context(), c.UserID(), c.Query("query"), c.Query("cursor"), limit)
	if err != nil {
		return err
	}
	return c.JSON(fasthttp.StatusOK, NewPage(items, next))
}

// archive: POST /conversations/:id/archive archives, DELETE unarchives;
// both answer 200 with the caller's view of the conversation.
func (s *Service) archive(c *rest.Ctx) error {
	cid, err := c.IDParam("id")
	if err != nil {
		return err
	}
	conv, err := s.Archive(c.Context(), c.UserID(), cid, c.RC.IsPost())
	return s.answerView(c, conv, err)
}
