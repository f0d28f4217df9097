package swarm

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// startEdge runs the edge binary with settings matching the run's (Redis,
// prefix, shards, keys, addresses) and waits until it is ready.
func startEdge(cfg *Config) (*exec.Cmd, error) {
	cmd := exec.Command(cfg.EdgeBin)
	cmd.Env = append(os.Environ(),
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
		cmd.Env = append(cmd.Env, "LOG_LEVEL=warn")
	}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if r, err := http.Get("http://" + cfg.Admin + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return cmd, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	return nil, fmt.Errorf("the edge did not become ready")
}

func stopEdge(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}
