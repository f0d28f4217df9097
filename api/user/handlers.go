package user

import (
	"context"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/api/ratelimit"
	"github.com/chatterly/chatterly/api/replica"
	"github.com/chatterly/chatterly/api/rest"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/valyala/fasthttp"
)

// Directory serves the user lookups a client needs to find people to
// message or call: GET /users/:id and GET /users?query= (prefix search on
// username and display name). Any signed-in user may look anyone up; the
// search is rate-limited per user, since it is how one would scrape the
// directory. Its reads may lag (api/replica): they go to the replica
// once it has what the caller wrote.
type Directory struct {
	db      *replica.Router
	limiter *ratelimit.Limiter
	rule    ratelimit.Rule
}

// NewDirectory returns a Directory reading through db, limiting searches
// by rule.
func NewDirectory(db *replica.Router, limiter *ratelimit.Limiter, rule ratelimit.Rule) *Directory {
	return &Directory{db: db, limiter: limiter, rule: rule}
}

// Search limits: a query of 1 to 64 characters; pages of 20 by default,
// 50 at most.
const (
	maxQuery      = 64
	defaultSearch = 20
	maxSearch     = 50
)

// Mount adds the directory routes to r.
func (d *Directory) Mount(r *rest.Router) {
	r.Handle("GET", "/users/:id", d.get)
	r.Handle("GET", "/users", d.search)
}

// Get returns user u's public resource, read for caller.
func (d *Directory) Get(ctx context.Context, caller, u id.ID) (JSON, error) {
	var usr User
	var ok bool
	err := d.db.Read(ctx, caller, func(db *pgxpool.Pool) (err error) {
		usr, ok, err = byID(ctx, db, u)
		return err
	})
	if err != nil {
		return JSON{}, fault.Wrap(err, "read user")
	}
	if !ok {
		return JSON{}, fault.New(fault.NotFound, "no such user")
	}
	return Render(usr), nil
}

// Search returns a page of users matching query, after the username
// cursor, for caller (whose limit it spends).
func (d *Directory) Search(ctx context.Context, caller id.ID, query, cursor string, limit int) ([]JSON, *string, error) {
	q := strings.TrimSpace(query)
	if q == "" || utf8.RuneCountInString(q) > maxQuery {
		return nil, nil, fault.Invalid("query", "query has 1 to 64 characters")
	}
	switch {
	case limit <= 0:
		limit = defaultSearch
	case limit > maxSearch:
		limit = maxSearch
	}
	if err := d.limiter.Allow(ctx, d.rule, caller.String()); err != nil {
		return nil, nil, err
	}
	var us []User
	err := d.db.Read(ctx, caller, func(db *pgxpool.Pool) (err error) {
		us, err = search(ctx, db, q, cursor, limit)
		return err
	})
	if err != nil {
		return nil, nil, fault.Wrap(err, "search users")
	}
	out := make([]JSON, len(us))
	for i, u := range us {
		out[i] = Render(u)
	}
	var next *string
	if len(us) == limit {
		n := us[len(us)-1].Username
		next = &n
	}
	return out, next, nil
}

func (d *Directory) get(c *rest.Ctx) error {
	u, err := c.IDParam("id")
	if err != nil {
		return err
	}
	j, err := d.Get(c.Context(), c.UserID(), u)
	if err != nil {
		return err
	}
	return c.JSON(fasthttp.StatusOK, j)
}

// searchPage is the list answer of a search.
type searchPage struct {
	Items      []JSON  `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func (d *Directory) search(c *rest.Ctx) error {
	limit := 0
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fault.Invalid("limit", "limit must be a whole number, 1 or more")
		}
		limit = n
	}
	items, next, err := d.Search(c.Context(), c.UserID(), c.Query("query"), c.Query("cursor"), limit)
	if err != nil {
		return err
	}
	return c.JSON(fasthttp.StatusOK, searchPage{Items: items, NextCursor: next})
}
