package stream

import (
	"fmt"
	"os"
	"testing"

	"github.com/chatterly/chatterly/shared/redistest"
)

// cluster is the package's Redis Cluster (3 masters, no replicas), started
// once: forming one takes seconds.
var cluster *redistest.Cluster

func TestMain(m *testing.M) {
	c, err := redistest.StartCluster(redistest.ClusterConfig{Masters: 3})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cluster = c
	code := m.Run()
	c.Stop()
	os.Exit(code)
}
