package search

import (
	"time"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/api/rest"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/valyala/fasthttp"
)

// Mount adds the search route to r.
func (s *Service) Mount(r *rest.Router) {
	r.Handle("GET", "/search/messages", s.search)
}

// search: GET /search/messages?query=&conversation_id=&author_id=&since=&until=&cursor=&limit=
// → a page of hits, best first.
func (s *Service) search(c *rest.Ctx) error {
	r := Request{Query: c.Query("query"), Cursor: c.Query("cursor")}
	var err error
	if r.ConversationID, err = optionalID(c, "conversation_id"); err != nil {
		return err
	}
	if r.AuthorID, err = optionalID(c, "author_id"); err != nil {
		return err
	}
	if r.Since, err = optionalTime(c, "since"); err != nil {
		return err
	}
	if r.Until, err = optionalTime(c, "until"); err != nil {
		return err
	}
	if r.Limit, err = rest.Limit(c); err != nil {
		return err
	}
	p, err := s.Search(c.Context(), c.UserID(), r)
	if err != nil {
		return err
	}
	return c.JSON(fasthttp.StatusOK, p)
}

// optionalID reads an id query parameter ("" is 0: not given).
func optionalID(c *rest.Ctx, name string) (id.ID, error) {
	v := c.Query(name)
	if v == "" {
		return 0, nil
	}
	i, err := id.Parse(v)
	if err != nil || i <= 0 {
		return 0, fault.Invalid(name, name+" must be an id")
	}
	return i, nil
}

// optionalTime reads an RFC 3339 time query parameter ("" is not given).
func optionalTime(c *rest.Ctx, name string) (time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fault.Invalid(name, name+" must be a time in RFC 3339, such as 2026-01-31T09:00:00Z")
	}
	return t, nil
}
