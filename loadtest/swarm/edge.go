package swarm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/chatterly/chatterly/loadtest/proc"
)

// startEdge runs the edge binary with settings matching the run's (Redis,
// prefix, shards, keys, addresses), its log beside the key folder, and
// waits until it is ready.
func startEdge(ctx context.Context, cfg *Config) (*proc.Proc, error) {
	env := append(os.Environ(),
		"REDIS_URL="+cfg.Redis,
		"REDIS_KEY_PREFIX="+cfg.Prefix,
		fmt.Sprintf("STREAM_SHARDS=%d", cfg.Shards),
		"JWT_KEY_DIR="+cfg.KeyDir,
		"EDGE_ADDR="+cfg.Target,
		"EDGE_ADMIN_ADDR="+cfg.Admin,
		// Every swarm socket comes from one address, as few users.
		"EDGE_MAX_SOCKETS_PER_ADDR=10000000",
		"EDGE_MAX_SOCKETS_PER_USER=10000000",
	)
	if os.Getenv("LOG_LEVEL") == "" {
		env = append(env, "LOG_LEVEL=warn")
	}
	p := proc.New("edge", filepath.Dir(cfg.KeyDir), env, cfg.EdgeBin)
	if err := p.StartReady(ctx, 20*time.Second, func() error { return proc.HTTPOK("http://" + cfg.Admin + "/readyz") }); err != nil {
		_ = p.Stop(syscall.SIGKILL, time.Second)
		return nil, err
	}
	return p, nil
}
