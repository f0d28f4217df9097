package profile_test

import (
	"testing"

	"github.com/chatterly/chatterly/api/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
