package bench

import (
	"testing"

	"github.com/chatterly/chatterly/shared/proctest"
)

// TestMain removes the binaries proctest built once the package is done.
func TestMain(m *testing.M) { proctest.Main(m) }
