package mention_test

import (
	"testing"

	"github.com/chatterly/chatterly/api/pgtest"
)

// TestMain stops what the tests started for the whole package: PgBouncer,
// with TEST_PGBOUNCER=1.
func TestMain(m *testing.M) { pgtest.Main(m) }
