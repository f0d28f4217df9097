// Package seed puts the bench's users, sessions, conversations and
// memberships straight into Postgres, and signs their access tokens with
// the stack's signing key (shared/token), so that thousands of sockets can
// connect without thousands of argon2 registrations: registration's cost is
// a property of the password hash, not of what the bench measures. The
// report says that users were seeded this way.
//
// Rows are written as the api writes them (ids from shared/id, the member
// sets rebuilt by api/membership), so the api and the edge cannot tell a
// seeded user from a registered one, except that a seeded user has no
// password and cannot log in.
package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/chatterly/chatterly/api/membership"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/chatterly/chatterly/shared/token"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/rueidis"
)

// Node is the id generator node the seeder uses; the api draws its own
// from the node_ids sequence, which starts at 1.
const Node = 1000

// Group asks for Count conversations of Size members each. Members are
// consecutive users, starting at First and wrapping around the user list,
// so groups of one shape tile the users without overlap.
type Group struct {
	Shape string
	Size  int
	Count int
	First int
}

// Plan is what to seed.
type Plan struct {
	Users  int
	Groups []Group
	// TokenTTL is the life of the seeded tokens: longer than the run.
	TokenTTL time.Duration
}

// User is a seeded user with a live access token.
type User struct {
	ID    id.ID
	SID   id.ID
	Token string
}

// Conversation is a seeded conversation; Members are user indexes.
type Conversation struct {
	ID      id.ID
	Shape   string
	Members []int
}

// World is what was seeded.
type World struct {
	Users         []User
	Conversations []Conversation
	// ByShape lists the conversations of each shape, in order.
	ByShape map[string][]int
}

// Deps is where to seed.
type Deps struct {
	DB     *pgxpool.Pool
	Redis  rueidis.Client
	Keys   rkey.Space
	KeyDir string
}

// Seed writes plan and returns the world it made.
func Seed(ctx context.Context, d Deps, plan Plan) (*World, error) {
	ids, err := id.NewGenerator(Node)
	if err != nil {
		return nil, err
	}
	priv, err := token.LoadSigningKey(d.KeyDir, false)
	if err != nil {
		return nil, err
	}
	ttl := plan.TokenTTL
	if ttl <= 0 {
		ttl = 3 * time.Hour
	}
	iss, err := token.NewIssuer(priv, ttl)
	if err != nil {
		return nil, err
	}
	w := &World{ByShape: map[string][]int{}}
	w.Users = make([]User, plan.Users)
	for i := range w.Users {
		u := &w.Users[i]
		u.ID, u.SID = ids.Next(), ids.Next()
		if u.Token, _, err = iss.Issue(u.ID, u.SID); err != nil {
			return nil, err
		}
	}
	for _, g := range plan.Groups {
		if g.Size > plan.Users {
			return nil, fmt.Errorf("seed: %s groups of %d with only %d users", g.Shape, g.Size, plan.Users)
		}
		for k := 0; k < g.Count; k++ {
			c := Conversation{ID: ids.Next(), Shape: g.Shape, Members: make([]int, g.Size)}
			for j := range c.Members {
				c.Members[j] = (g.First + k*g.Size + j) % plan.Users
			}
			w.ByShape[g.Shape] = append(w.ByShape[g.Shape], len(w.Conversations))
			w.Conversations = append(w.Conversations, c)
		}
	}
	st := store{d.DB}
	if err := st.insert(ctx, w, time.Now().Add(ttl)); err != nil {
		return nil, err
	}
	sets := membership.New(d.Redis, d.Keys, d.DB)
	for _, c := range w.Conversations {
		if err := sets.Rebuild(ctx, c.ID); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// MemberOf lists, for each user index, the conversations (indexes into
// w.Conversations) the user belongs to.
func (w *World) MemberOf() [][]int {
	out := make([][]int, len(w.Users))
	for ci, c := range w.Conversations {
		for _, u := range c.Members {
			out[u] = append(out[u], ci)
		}
	}
	return out
}
