package message

import (
	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/api/rest"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/valyala/fasthttp"
)

// bodyLimit is the request body limit of these routes: 4,000 characters of
// up to 4 bytes each, JSON-escaped, and the other fields.
const bodyLimit = 32 << 10

// Mount adds the message routes to r.
func (s *Service) Mount(r *rest.Router) {
	r.Handle("POST", "/conversations/:id/messages", s.send, rest.MaxBody(bodyLimit))
	r.Handle("GET", "/conversations/:id/messages", s.list)
	r.Handle("PATCH", "/messages/:id", s.edit, rest.MaxBody(bodyLimit))
	r.Handle("DELETE", "/messages/:id", s.remove)
	r.Handle("GET", "/messages/:id/replies", s.replies)
}

type sendRequest struct {
	Body          string  `json:"body"`
	ParentID      *id.ID  `json:"parent_id"`
	ClientMsgID   string  `json:"client_msg_id"`
	AttachmentIDs []id.ID `json:"attachment_ids"`
}

func (s *Service) send(c *rest.Ctx) error {
	cid, err := c.IDParam("id")
	if err != nil {
		return err
	}
	var req sendRequest
	if err := c.Decode(&req); err != nil {
		return err
	}
	in := SendInput{Body: req.Body, ClientMsgID: req.ClientMsgID, AttachmentIDs: req.AttachmentIDs}
	if req.ParentID != nil {
		in.ParentID = *req.ParentID
	}
	m, created, err := s.Send(c.Context(), c.UserID(), cid, in)
	if err != nil {
		return err
	}
	return rest.Created(c, created, For(m, c.UserID()))
}

// keyset reads the before, after and limit query parameters.
func keyset(c *rest.Ctx) (Keyset, error) {
	var k Keyset
	var err error
	if k.Limit, err = rest.Limit(c); err != nil {
		return k, err
	}
	for _, p := range []struct {
		name string
		dst  *id.ID
	}{{"before", &k.Before}, {"after", &k.After}} {
		if v := c.Query(p.name); v != "" {
			if *p.dst, err = id.Parse(v); err != nil {
				return k, fault.Invalid(p.name, p.name+" must be a message id")
			}
		}
	}
	return k, nil
}

func (s *Service) list(c *rest.Ctx) error {
	cid, err := c.IDParam("id")
	if err != nil {
		return err
	}
	k, err := keyset(c)
	if err != nil {
		return err
	}
	p, err := s.List(c.Context(), c.UserID(), cid, k)
	if err != nil {
		return err
	}
	return c.AppendJSON(fasthttp.StatusOK, func(b []byte) ([]byte, error) { return p.AppendJSON(b), nil })
}

type editRequest struct {
	Body string `json:"body"`
}

func (s *Service) edit(c *rest.Ctx) error {
	mid, err := c.IDParam("id")
	if err != nil {
		return err
	}
	var req editRequest
	if err := c.Decode(&req); err != nil {
		return err
	}
	m, err := s.Edit(c.Context(), c.UserID(), mid, req.Body)
	if err != nil {
		return err
	}
	return c.JSON(fasthttp.StatusOK, For(m, c.UserID()))
}

func (s *Service) remove(c *rest.Ctx) error {
	mid, err := c.IDParam("id")
	if err != nil {
		return err
	}
	if err := s.Delete(c.Context(), c.UserID(), mid); err != nil {
		return err
	}
	return c.NoContent()
}

func (s *Service) replies(c *rest.Ctx) error {
	mid, err := c.IDParam("id")
	if err != nil {
		return err
	}
	k, err := keyset(c)
	if err != nil {
		return err
	}
	p, err := s.Replies(c.Context(), c.UserID(), mid, k)
	if err != nil {
		return err
	}
	return c.AppendJSON(fasthttp.StatusOK, func(b []byte) ([]byte, error) { return p.AppendJSON(b), nil })
}
