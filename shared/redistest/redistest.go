// Package redistest gives each test its own key prefix on the Redis at
// TEST_REDIS_URL (`make test` sets it), and deletes the test's keys after.
package redistest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/chatterly/chatterly/shared/logging"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/redis/rueidis"
)

// URL returns TEST_REDIS_URL, failing the test when it is unset.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_REDIS_URL")
	if u == "" {
		t.Fatal("TEST_REDIS_URL is not set: run the tests with `make test`, which starts Postgres and Redis")
	}
	return u
}

// Prefix returns a key prefix no other test uses.
func Prefix(t testing.TB) string {
	return fmt.Sprintf("t%d%s:", time.Now().UnixNano()%1e9, logging.NewRequestID()[:6])
}

// Client returns a client on TEST_REDIS_URL and a fresh key space with 4
// stream shards; the space's keys are deleted when the test ends.
func Client(t testing.TB) (rueidis.Client, rkey.Space) {
	t.Helper()
	opt, err := rueidis.ParseURL(URL(t))
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	c, err := rueidis.NewClient(opt)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	keys := rkey.New(Prefix(t), 4)
	t.Cleanup(func() {
		Flush(c, keys.Prefix)
		c.Close()
	})
	return c, keys
}

// Flush deletes every key starting with prefix: on a Redis Cluster, on
// every node (the keys are scanned node by node and deleted through c,
// which sends each to its master). It gives up after 10 s: a test that
// stopped its Redis must not hang in its cleanup (a node's client retries
// a read until its context ends).
func Flush(c rueidis.Client, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, node := range c.Nodes() {
		var cursor uint64
		for {
			e, err := node.Do(ctx, node.B().Scan().Cursor(cursor).Match(prefix+"*").Count(1000).Build()).AsScanEntry()
			if err != nil {
				break
			}
			for _, k := range e.Elements {
				c.Do(ctx, c.B().Unlink().Key(k).Build())
			}
			if cursor = e.Cursor; cursor == 0 {
				break
			}
		}
	}
}
