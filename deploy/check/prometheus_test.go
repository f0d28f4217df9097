package check

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// promtoolCache is where the test unpacks Debian's prometheus package when
// no promtool is on PATH: only the files, never the service (no dpkg -i,
// no maintainer scripts).
func promtoolCache() string {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "chatterly", "prometheus")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "chatterly", "prometheus")
}

var (
	promtoolOnce sync.Once
	promtoolPath string
	promtoolErr  string
)

// promtool returns the path of promtool: on PATH, in the cache, or
// unpacked into the cache from `apt-get download prometheus` (after one
// apt-get update when the package lists do not have it). Failing that,
// the test fails with the command that installs it.
func promtool(t *testing.T) string {
	t.Helper()
	promtoolOnce.Do(func() {
		if p, err := exec.LookPath("promtool"); err == nil {
			promtoolPath = p
			return
		}
		cache := promtoolCache()
		bin := filepath.Join(cache, "usr", "bin", "promtool")
		if _, err := os.Stat(bin); err == nil {
			promtoolPath = bin
			return
		}
		// The download and the unpacking happen beside the cache, on its
		// file system, so the unpacked tree can be renamed into place.
		if err := os.MkdirAll(filepath.Dir(cache), 0o755); err != nil {
			promtoolErr = err.Error()
			return
		}
		dir, err := os.MkdirTemp(filepath.Dir(cache), "promtool-")
		if err != nil {
			promtoolErr = err.Error()
			return
		}
		defer os.RemoveAll(dir)
		download := func() ([]byte, error) {
			cmd := exec.Command("apt-get", "download", "prometheus")
			cmd.Dir = dir
			return cmd.CombinedOutput()
		}
		out, err := download()
		if err != nil {
			if u, uerr := exec.Command("apt-get", "update", "-qq").CombinedOutput(); uerr != nil {
				out = append(out, u...)
			} else {
				out, err = download()
			}
		}
		debs, _ := filepath.Glob(filepath.Join(dir, "prometheus_*.deb"))
		if err != nil || len(debs) != 1 {
			promtoolErr = "apt-get download prometheus failed: " + string(out)
			return
		}
		// Unpacked beside the cache, then moved in: a run stopped halfway
		// leaves no half-unpacked cache behind.
		tmp := filepath.Join(dir, "root")
		if out, err := exec.Command("dpkg-deb", "-x", debs[0], tmp).CombinedOutput(); err != nil {
			promtoolErr = "dpkg-deb -x: " + string(out)
			return
		}
		if err := os.Rename(tmp, cache); err != nil {
			promtoolErr = err.Error()
			return
		}
		promtoolPath = bin
	})
	require.Empty(t, promtoolErr, "promtool is needed: install it with `apt-get install prometheus` "+
		"(or `apt-get download prometheus && dpkg-deb -x prometheus_*.deb %s`)", promtoolCache())
	return promtoolPath
}

// TestPrometheusRules checks deploy/observability's Prometheus
// configuration and rules with promtool, Prometheus' own checker (syntax,
// PromQL, templates of the annotations), and that every alert carries a
// runbook. That every metric they name exists is deploy/ops' TestMetrics,
// which runs the processes.
func TestPrometheusRules(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(repoRoot(t), "deploy/observability/prometheus")
	pt := promtool(t)
	for _, args := range [][]string{
		{"check", "rules", filepath.Join(dir, "rules.yml")},
		{"check", "config", filepath.Join(dir, "prometheus.yml")},
	} {
		out, err := exec.Command(pt, args...).CombinedOutput()
		require.NoError(t, err, "promtool %v:\n%s", args, out)
	}

	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert, Record string
				Annotations   map[string]string
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "rules.yml"))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, &rules))
	alerts := map[string]bool{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				alerts[r.Alert] = true
				require.NotEmpty(t, r.Annotations["runbook"], "alert %s has a runbook", r.Alert)
				require.NotEmpty(t, r.Annotations["summary"], "alert %s has a summary", r.Alert)
			} else {
				require.Regexp(t, `^chatterly:`, r.Record, "recording rules are named chatterly:…")
			}
		}
	}
	for _, a := range []string{"OutboxBacklogAging", "StreamLag", "APIErrorRatio", "TooSlowDisconnects", "EdgeNearSocketCap", "WorkerDown"} {
		require.True(t, alerts[a], "alert %s", a)
	}
}
