package check

import (
	"context"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// loadCompose loads deploy/compose/compose.yaml with compose-go, the
// compose specification's own loader (schema validation, interpolation,
// normalization, consistency), with the .env secrets.sh would write.
func loadCompose(t *testing.T) *types.Project {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "deploy/compose")
	opts, err := cli.NewProjectOptions([]string{filepath.Join(dir, "compose.yaml")},
		cli.WithWorkingDirectory(dir),
		cli.WithEnv([]string{"POSTGRES_PASSWORD=pw-check", "TURN_SECRET=turn-check", "GRAFANA_ADMIN_PASSWORD=gf-check"}),
		cli.WithConsistency(true), cli.WithResolvedPaths(true))
	require.NoError(t, err)
	p, err := opts.LoadProject(context.Background())
	require.NoError(t, err)
	return p
}

// goProcess says which Chatterly process a compose service runs, from its
// image name ("" for the others).
func goProcess(s types.ServiceConfig) string {
	for _, p := range []string{"api", "worker", "edge", "web"} {
		if strings.HasPrefix(s.Image, "chatterly-"+p+":") {
			return p
		}
	}
	return ""
}

func port(t *testing.T, hostport string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(hostport)
	require.NoError(t, err, hostport)
	return p
}

// TestCompose checks the compose file against the code: every variable a
// Chatterly service sets is one its process reads (scanned from the config
// code), each listening address agrees with its health check, the
// Prometheus scrape ports, the balancer and the image; the stack has the
// production shape (replica, PgBouncer in transaction mode, 2 api, 2 edge,
// 1 worker), and the edge is given time to drain.
func TestCompose(t *testing.T) {
	t.Parallel()
	p := loadCompose(t)
	settings := processSettings(t)
	web := webSettings(t)

	for _, name := range []string{"postgres", "postgres-replica", "pgbouncer", "redis", "migrate", "api", "edge", "worker", "web", "lb", "coturn", "prometheus", "grafana"} {
		_, err := p.GetService(name)
		require.NoError(t, err, "service %s", name)
	}
	replicas := func(name string) int {
		s, err := p.GetService(name)
		require.NoError(t, err)
		if s.Deploy == nil || s.Deploy.Replicas == nil {
			return 1
		}
		return *s.Deploy.Replicas
	}
	require.Equal(t, 2, replicas("api"))
	require.Equal(t, 2, replicas("edge"))
	require.Equal(t, 1, replicas("worker"))

	addrs := map[string]string{} // process -> the port of its main or admin variable
	for _, s := range p.Services {
		proc := goProcess(s)
		if proc == "" {
			continue
		}
		for name, v := range s.Environment {
			require.NotNil(t, v, "%s: %s has a value", s.Name, name)
			if proc == "web" {
				require.True(t, web[name], "%s sets %s, which the web client does not read", s.Name, name)
				continue
			}
			_, ok := settings[proc][name]
			require.True(t, ok, "%s sets %s, which chatterly-%s does not read", s.Name, name, proc)
		}
		if proc != "web" {
			require.True(t, s.ReadOnly, "%s: read-only root file system", s.Name)
		}
		if s.Name == "migrate" {
			require.Equal(t, types.ShellCommand{"migrate"}, s.Command)
			u, err := url.Parse(*s.Environment["DATABASE_URL"])
			require.NoError(t, err)
			require.Equal(t, "postgres:5432", u.Host, "migrations bypass PgBouncer (session advisory lock)")
			continue
		}
		health := map[string]string{"api": "API_ADDR", "worker": "WORKER_ADDR", "edge": "EDGE_ADMIN_ADDR", "web": "WEB_ADDR"}[proc]
		addr := s.Environment[health]
		require.NotNil(t, addr, "%s sets %s (the defaults listen on loopback only)", s.Name, health)
		require.NotNil(t, s.HealthCheck, "%s has a health check", s.Name)
		test := strings.Join(s.HealthCheck.Test, " ")
		if proc != "web" {
			require.Contains(t, test, "http://127.0.0.1:"+port(t, *addr)+"/readyz", "%s: health check on %s's /readyz", s.Name, health)
			def := settings[proc][health].Default
			require.Equal(t, port(t, def), port(t, *addr), "%s: the port of %s is its default's", s.Name, health)
			imageEnv := dockerfileEnv(t, proc)
			require.Equal(t, *addr, imageEnv[health], "%s: %s as the image sets it", s.Name, health)
		} else {
			require.Contains(t, test, "http://127.0.0.1:"+port(t, *addr)+"/")
		}
		addrs[proc] = port(t, *addr)
		if s.Environment["DATABASE_URL"] != nil {
			u, err := url.Parse(*s.Environment["DATABASE_URL"])
			require.NoError(t, err)
			require.Equal(t, "pgbouncer:6432", u.Host, "%s: writes go through PgBouncer", s.Name)
			require.Equal(t, "1", *s.Environment["DATABASE_PGBOUNCER"], "%s: behind PgBouncer, DATABASE_PGBOUNCER=1", s.Name)
			ru, err := url.Parse(*s.Environment["DATABASE_REPLICA_URL"])
			require.NoError(t, err)
			require.Equal(t, "postgres-replica:5432", ru.Host)
		}
	}

	edge, err := p.GetService("edge")
	require.NoError(t, err)
	window, err := time.ParseDuration(*edge.Environment["EDGE_SHUTDOWN_WINDOW"])
	require.NoError(t, err)
	drain := window + settings["edge"]["EDGE_SHUTDOWN_TIMEOUT"].Dur
	require.NotNil(t, edge.StopGracePeriod)
	require.Greater(t, time.Duration(*edge.StopGracePeriod), drain, "edge: stop_grace_period > EDGE_SHUTDOWN_WINDOW + EDGE_SHUTDOWN_TIMEOUT")
	edgePort := port(t, *edge.Environment["EDGE_ADDR"])
	require.Equal(t, port(t, settings["edge"]["EDGE_ADDR"].Default), edgePort)

	// Prometheus scrapes each process where its /metrics is: the api's
	// admin address, the edge's admin address, the worker's address.
	var prom struct {
		ScrapeConfigs []struct {
			JobName string `json:"job_name"`
			DNSSD   []struct {
				Names []string `json:"names"`
				Port  int      `json:"port"`
			} `json:"dns_sd_configs"`
		} `json:"scrape_configs"`
	}
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy/observability/prometheus/prometheus.yml"))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, &prom), "prometheus.yml")
	jobs := map[string]string{}
	for _, sc := range prom.ScrapeConfigs {
		require.Len(t, sc.DNSSD, 1, sc.JobName)
		require.Equal(t, []string{sc.JobName}, sc.DNSSD[0].Names, "job %s scrapes the service of its name", sc.JobName)
		jobs[sc.JobName] = strconv.Itoa(sc.DNSSD[0].Port)
	}
	api, err := p.GetService("api")
	require.NoError(t, err)
	require.NotNil(t, api.Environment["API_ADMIN_ADDR"], "api: API_ADMIN_ADDR (its default is loopback only)")
	adminPort := port(t, *api.Environment["API_ADMIN_ADDR"])
	require.Equal(t, port(t, settings["api"]["API_ADMIN_ADDR"].Default), adminPort, "api: the port of API_ADMIN_ADDR is its default's")
	require.Equal(t, *api.Environment["API_ADMIN_ADDR"], dockerfileEnv(t, "api")["API_ADMIN_ADDR"], "api: API_ADMIN_ADDR as the image sets it")
	require.Equal(t, map[string]string{"api": adminPort, "edge": addrs["edge"], "worker": addrs["worker"]}, jobs)

	// Every file or folder a service mounts from the checkout exists (the
	// secrets are made by secrets.sh), and Prometheus and Grafana get
	// deploy/observability's configuration, rules and dashboard.
	mounts := map[string]string{} // target -> source
	for _, s := range p.Services {
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeBind || strings.Contains(v.Source, "/deploy/compose/secrets") {
				continue
			}
			_, err := os.Stat(v.Source)
			require.NoError(t, err, "%s mounts %s", s.Name, v.Source)
			mounts[s.Name+":"+v.Target] = v.Source
		}
	}
	obs := filepath.Join(repoRoot(t), "deploy/observability")
	require.Equal(t, filepath.Join(obs, "prometheus"), mounts["prometheus:/etc/prometheus"])
	require.Equal(t, filepath.Join(obs, "grafana/provisioning"), mounts["grafana:/etc/grafana/provisioning"])
	require.Equal(t, filepath.Join(obs, "grafana/dashboards"), mounts["grafana:/var/lib/grafana/dashboards"])

	// The balancer forwards to the api's and the edge's listening ports.
	nginx, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy/compose/lb/nginx.conf"))
	require.NoError(t, err)
	require.Regexp(t, `upstream api +\{ server api:`+addrs["api"]+`; \}`, string(nginx))
	require.Regexp(t, `upstream edge +\{ server edge:`+edgePort+`; \}`, string(nginx))

	ini, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy/compose/pgbouncer/pgbouncer.ini"))
	require.NoError(t, err)
	require.Regexp(t, `(?m)^pool_mode = transaction$`, string(ini))
	require.Regexp(t, `(?m)^listen_port = 6432$`, string(ini))
}

// dockerfileEnv is the ENV of one target stage of deploy/docker/Dockerfile.
func dockerfileEnv(t *testing.T, stage string) map[string]string {
	t.Helper()
	out := map[string]string{}
	kv := regexp.MustCompile(`([A-Z_]+)=(\S+)`)
	for _, in := range stageInstructions(readDockerfile(t, filepath.Join(repoRoot(t), "deploy/docker/Dockerfile")), stage) {
		if in.Cmd == "ENV" {
			for _, m := range kv.FindAllStringSubmatch(in.Args, -1) {
				out[m[1]] = m[2]
			}
		}
	}
	require.NotEmpty(t, out, "stage %s sets its listening addresses", stage)
	return out
}
