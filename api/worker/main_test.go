package worker_test

import (
	"testing"

	"github.com/chatterly/chatterly/shared/proctest"
)

func TestMain(m *testing.M) { proctest.Main(m) }
