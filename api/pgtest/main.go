package pgtest

import (
	"errors"
	"os"
	"sync"
	"testing"
)

var (
	stopsMu sync.Mutex
	// stops are the servers this test binary started (PgBouncer, a
	// primary), stopped and their folders removed by Main.
	stops []func()
	// mainRan is set by Main; servers shared by a package's tests refuse
	// to start without it, since nothing else would remove their folders.
	mainRan bool
)

func addStop(f func()) {
	stopsMu.Lock()
	defer stopsMu.Unlock()
	stops = append(stops, f)
}

// Main runs a package's tests, then stops the servers pgtest started for
// them and runs after (proctest.Cleanup, say). A package whose tests use
// the shared servers (TEST_PGBOUNCER=1, Replicated) has
// `func TestMain(m *testing.M) { pgtest.Main(m) }`.
func Main(m *testing.M, after ...func()) {
	mainRan = true
	code := m.Run()
	stopsMu.Lock()
	for i := len(stops) - 1; i >= 0; i-- {
		stops[i]()
	}
	stops = nil
	stopsMu.Unlock()
	for _, f := range after {
		f()
	}
	os.Exit(code)
}

var errNoMain = errors.New("the package's TestMain must call pgtest.Main, which stops the servers pgtest shares between its tests")
