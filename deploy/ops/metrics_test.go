package ops_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/pgtest"
	"github.com/chatterly/chatterly/shared/proctest"
	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/chatterly/chatterly/shared/token"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/stretchr/testify/require"
)

// process is one running binary and the address of its /metrics.
type process struct {
	name, admin string
}

// startProcesses starts the api, edge and worker of this checkout on a
// database and a Redis key prefix of the test's own, and returns once each
// has logged that it listens: no request has reached any of them.
func startProcesses(t *testing.T) []process {
	t.Helper()
	keyDir := t.TempDir()
	require.NoError(t, token.GenerateKey(keyDir))
	_, keys := redistest.Client(t) // the prefix, and its keys deleted at the end
	db := pgtest.URL(t)
	common := func(extra ...string) map[string]string {
		m := map[string]string{"DATABASE_URL": db, "REDIS_URL": redistest.URL(t), "REDIS_KEY_PREFIX": keys.Prefix,
			"STREAM_SHARDS": fmt.Sprint(keys.Shards), "JWT_KEY_DIR": keyDir, "LOG_LEVEL": "info"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	addr := func() string { return proctest.Addr(proctest.FreePort(t)) }
	apiAdmin, edgeAdmin, workerAddr := addr(), addr(), addr()
	api := proctest.Start(t, common("API_ADDR", addr(), "API_ADMIN_ADDR", apiAdmin, "NODE_ID", "1"),
		proctest.Build(t, commands["chatterly-api"]))
	edge := proctest.Start(t, common("EDGE_ADDR", addr(), "EDGE_ADMIN_ADDR", edgeAdmin, "EDGE_SHUTDOWN_WINDOW", "200ms"),
		proctest.Build(t, commands["chatterly-edge"]))
	worker := proctest.Start(t, common("WORKER_ADDR", workerAddr, "NODE_ID", "2"),
		proctest.Build(t, commands["chatterly-worker"]))
	api.WaitLog(t, "listening", time.Minute)
	edge.WaitLog(t, "edge listening", time.Minute)
	worker.WaitLog(t, "worker running", time.Minute)
	return []process{{"api", apiAdmin}, {"edge", edgeAdmin}, {"worker", workerAddr}}
}

func scrape(t *testing.T, admin string) string {
	t.Helper()
	c := http.Client{Timeout: 10 * time.Second}
	r, err := c.Get("http://" + admin + "/metrics")
	require.NoError(t, err)
	defer r.Body.Close()
	require.Equal(t, http.StatusOK, r.StatusCode)
	b, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	return string(b)
}

// sampleNames are the names of the samples of an exposition (a histogram's
// _bucket, _sum and _count among them).
func sampleNames(text string) map[string]bool {
	out := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out[line[:strings.IndexAny(line, "{ ")]] = true
	}
	return out
}

// metricName matches a metric name that a rule, a panel or a note under
// deploy/observability may name: Chatterly's own and the Go runtime's and
// process's, which every process exports (`up` is Prometheus' own).
var metricName = regexp.MustCompile(`\b(?:chatterly_|go_|process_)[a-zA-Z0-9_]+`)

// TestMetrics starts an idle api, edge and worker and checks their
// /metrics: each passes promlint, each has chatterly_build_info and its
// own series under its prefix, and together they export every metric that
// the alerting and recording rules and the Grafana dashboard name, so no
// rule or panel watches a series that does not exist. Under
// deploy/observability the word chatterly_ appears only in those names.
func TestMetrics(t *testing.T) {
	t.Parallel()
	procs := startProcesses(t)
	exported := map[string]bool{}
	for _, p := range procs {
		text := scrape(t, p.admin)
		problems, err := promlint.New(strings.NewReader(text)).Lint()
		require.NoError(t, err, "%s: /metrics parses", p.name)
		require.Empty(t, problems, "%s: promlint", p.name)
		names := sampleNames(text)
		require.Contains(t, names, "chatterly_build_info", p.name)
		require.Contains(t, names, "process_resident_memory_bytes", p.name)
		for n := range names {
			if strings.HasPrefix(n, "chatterly_") && n != "chatterly_build_info" {
				require.True(t, strings.HasPrefix(n, "chatterly_"+p.name+"_"), "%s exports %s: not under its prefix", p.name, n)
			}
			exported[n] = true
		}
	}
	for _, n := range []string{
		"chatterly_worker_outbox_events", "chatterly_worker_outbox_oldest_event_age_seconds", "chatterly_worker_jobs",
		"chatterly_api_db_pool_connections", "chatterly_worker_db_pool_connections",
		"chatterly_api_redis_commands_total", "chatterly_edge_redis_commands_total", "chatterly_worker_redis_commands_total",
		"chatterly_edge_work_queue_depth", "chatterly_edge_delivery_backlog", "chatterly_edge_sockets_max",
		"chatterly_api_request_duration_seconds_bucket",
	} {
		require.Contains(t, exported, n, "the new series exist on an idle process")
	}

	root := filepath.Join("..", "observability")
	var named []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range metricName.FindAllString(string(b), -1) {
			require.True(t, exported[n], "%s names %s, which no process of this checkout exports", path, n)
			named = append(named, n)
		}
		if strings.Contains(string(b), "chatterly:") {
			checkRecorded(t, path, string(b))
		}
		return nil
	})
	require.NoError(t, err)
	for _, n := range []string{"chatterly_worker_outbox_oldest_event_age_seconds", "chatterly_edge_stream_lag_seconds",
		"chatterly_api_requests_total", "chatterly_edge_disconnects_total", "chatterly_edge_sockets_max"} {
		require.True(t, slices.Contains(named, n), "deploy/observability watches %s", n)
	}
}

// checkRecorded fails when a file uses a recording rule (chatterly:…) that
// rules.yml does not record.
func checkRecorded(t *testing.T, path, text string) {
	t.Helper()
	rules, err := os.ReadFile(filepath.Join("..", "observability", "prometheus", "rules.yml"))
	require.NoError(t, err)
	recorded := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s*- record: (\S+)`).FindAllStringSubmatch(string(rules), -1) {
		recorded[m[1]] = true
	}
	for _, n := range regexp.MustCompile(`chatterly:[a-zA-Z0-9_:]+`).FindAllString(text, -1) {
		require.True(t, recorded[n], "%s uses %s, which rules.yml does not record", path, n)
	}
}
