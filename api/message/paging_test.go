package message_test

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/api/convtest"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/stretchr/testify/require"
)

func TestKeysetPagingReturnsEveryMessageOnceWhileNewOnesArrive(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, map[string]string{"RATE_MESSAGES": "100000"})
	ann, bob := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob")
	g := convtest.Create(t, s, ann, "group", "g", bob)
	const seeded = 130
	before := make([]id.ID, 0, seeded)
	for i := range seeded {
		before = append(before, convtest.Send(t, s, ann, g.ID, "m"+strconv.Itoa(i)).ID)
	}

	// bob keeps writing while ann pages, in both directions.
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			r := s.Do("POST", msgs(g.ID), bob.Token, map[string]any{"body": "new " + strconv.Itoa(i)})
			require.Equal(t, http.StatusCreated, r.Status)
		}
	}()
	defer func() { stop(); wg.Wait() }()

	seen := func(pages func(cursor *string) page) map[id.ID]int {
		count := map[id.ID]int{}
		var cursor *string
		for n := 0; n < 1000; n++ {
			p := pages(cursor)
			require.LessOrEqual(t, len(p.Items), 25)
			for _, m := range p.Items {
				count[m.ID]++
			}
			if p.NextCursor == nil {
				return count
			}
			cursor = p.NextCursor
		}
		t.Fatal("paging did not end")
		return nil
	}
	check := func(dir string, count map[id.ID]int) {
		for m, n := range count {
			require.Equal(t, 1, n, "%s: message %s listed %d times", dir, m, n)
		}
		for _, m := range before {
			require.Equal(t, 1, count[m], "%s: message %s missing", dir, m)
		}
	}

	// Newest first, older pages by `before`: new messages land ahead of
	// the first page and never shift the pages behind it.
	check("backward", seen(func(c *string) page {
		q := "?limit=25"
		if c != nil {
			q += "&before=" + *c
		}
		return convtest.Get[page](t, s, ann, msgs(g.ID)+q)
	}))
	// Oldest first by `after`, catching up with the writer.
	first := (before[0] - 1).String()
	check("forward", seen(func(c *string) page {
		cur := first
		if c != nil {
			cur = *c
		}
		p := convtest.Get[page](t, s, ann, msgs(g.ID)+"?limit=25&after="+cur)
		for i := 1; i < len(p.Items); i++ {
			require.Greater(t, p.Items[i].ID, p.Items[i-1].ID, "ascending")
		}
		return p
	}))
	r := s.Do("GET", msgs(g.ID)+"?before=abc", ann.Token, nil)
	require.Equal(t, http.StatusBadRequest, r.Status)
	r = s.Do("GET", msgs(g.ID)+"?limit=0", ann.Token, nil)
	require.Equal(t, http.StatusBadRequest, r.Status)
	p := convtest.Get[page](t, s, ann, msgs(g.ID)+"?limit=1000")
	require.Len(t, p.Items, 100, "limit is capped at 100")
}
