// Package s3test runs a real S3-compatible server for tests: the Versity S3
// Gateway (github.com/versity/versitygw, Apache-2.0), a Go module built once
// from the Go module proxy into the user's cache folder and reused, then
// started per test with its posix backend in the test's own folder, on its
// own loopback port below 32768, with its own keys and bucket.
//
// The first build takes minutes (a large module; over 4 minutes on 2 busy
// cores), so call Build from TestMain, before m.Run: the go test timeout
// does not run yet there. Packages building at once build it once (a file
// lock); the others wait for it.
package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/chatterly/chatterly/api/file"
	"github.com/chatterly/chatterly/shared/proctest"
)

// Version is the gateway's module version, the newest the Go proxy served
// when it was chosen (it needs Go 1.25 or newer).
const Version = "v1.8.0"

const module = "github.com/versity/versitygw/cmd/versitygw"

// buildTimeout bounds the first build, apart from any test's timeout.
const buildTimeout = 30 * time.Minute

// Binary is where the built gateway is kept: the user's cache folder
// ($XDG_CACHE_HOME or ~/.cache), chatterly/versitygw-<Version>/versitygw.
func Binary() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("s3test: no cache folder: %w", err)
	}
	return filepath.Join(dir, "chatterly", "versitygw-"+Version, "versitygw"), nil
}

// Build makes sure the gateway's binary is in the cache, building it with
// `go install` when it is missing, and returns its path. It prints what it
// does to stderr, since the first build is slow.
func Build() (string, error) {
	bin, err := Binary()
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	dir := filepath.Dir(bin)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("s3test: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("s3test: %w", err)
	}
	defer lock.Close()
	fmt.Fprintf(os.Stderr, "s3test: waiting for the build lock of %s\n", bin)
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("s3test: lock: %w", err)
	}
	defer func() { _ = syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) }()
	if _, err := os.Stat(bin); err == nil {
		return bin, nil // another package built it while we waited
	}
	start := time.Now()
	fmt.Fprintf(os.Stderr, "s3test: building %s@%s into %s (once; several minutes)\n", module, Version, dir)
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "install", "-trimpath", module+"@"+Version)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("s3test: go install %s@%s: %w (run it by hand with GOBIN=%s to see why)", module, Version, err, dir)
	}
	fmt.Fprintf(os.Stderr, "s3test: built in %s\n", time.Since(start).Round(time.Second))
	return bin, nil
}

// Server is a running gateway with one bucket.
type Server struct {
	Config file.S3Config
	Store  *file.S3
}

// portLow and portHigh bound the gateways' ports: below the kernel's
// ephemeral range, apart from redistest's cluster ports.
const portLow, portHigh = 23100, 23900

// Start runs a gateway for t, in its own folder, and creates its bucket.
// The binary must be built (Build, from TestMain); a test never builds it.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("s3test: %s is missing: call s3test.Build from the package's TestMain", bin)
	}
	root := t.TempDir()
	cfg := file.S3Config{Region: "us-east-1", Bucket: "chatterly-test", AccessKey: "ak" + random(8),
		SecretKey: random(20), PathStyle: true}
	var addr string
	// A port found free may be taken before the gateway binds it: try a
	// few.
	for try := 0; ; try++ {
		ports, err := proctest.FreePortsIn(1, portLow, portHigh)
		if err != nil {
			t.Fatal(err)
		}
		addr = proctest.Addr(ports[0])
		p := proctest.Start(t, map[string]string{"HOME": root}, bin, "--access", cfg.AccessKey, "--secret", cfg.SecretKey,
			"--port", addr, "--quiet", "posix", root)
		if up(addr, p) {
			break
		}
		if try == 4 {
			t.Fatalf("s3test: the gateway did not listen on %s", addr)
		}
	}
	cfg.Endpoint = "http://" + addr
	s := &Server{Config: cfg, Store: file.NewS3(cfg, &http.Client{Timeout: 30 * time.Second})}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Store.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(cfg.Bucket)}); err != nil {
		t.Fatalf("s3test: create bucket: %v", err)
	}
	return s
}

// up waits until addr accepts connections, or p ends.
func up(addr string, p *proctest.Process) bool {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return true
		}
		select {
		case <-p.Done():
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	return false
}

func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}
