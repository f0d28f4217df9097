package worker_test

import (
	"testing"

	"github.com/chatterly/chatterly/api/pgtest"
	"github.com/chatterly/chatterly/shared/proctest"
)

// TestMain stops what the tests started for the whole package: PgBouncer
// (with TEST_PGBOUNCER=1) and the built binaries.
func TestMain(m *testing.M) { pgtest.Main(m, proctest.Cleanup) }
