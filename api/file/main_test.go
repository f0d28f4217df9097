package file_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/chatterly/chatterly/api/file/s3test"
	"github.com/chatterly/chatterly/api/pgtest"
)

// TestMain builds the S3-compatible server once (cached; minutes the first
// time, before the tests' timeout starts), then runs the tests.
func TestMain(m *testing.M) {
	if _, err := s3test.Build(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pgtest.Main(m)
}
