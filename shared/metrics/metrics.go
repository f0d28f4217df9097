// Package metrics builds each process's Prometheus registry, with the Go
// runtime and process collectors and the build information, and serves it.
package metrics

import (
	"regexp"

	"github.com/chatterly/chatterly/shared/buildinfo"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// NewRegistry returns a registry with the runtime and process collectors
// and chatterly_build_info. Components register their own metrics on it;
// nothing uses the global one.
func NewRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(waits)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo(buildinfo.Get()))
	return r
}

// waits are the runtime metrics, beyond the Go collector's defaults, that
// say what a process waited on: how long runnable goroutines waited for a
// thread (go_sched_latencies_seconds), GC pauses, cycles and CPU, assists
// included (go_cpu_classes_gc_*). The bench reads them around each measured
// phase (loadtest/stats.ParseRuntime).
var waits = collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(
	`^/sched/latencies:seconds$|^/sched/pauses/total/gc:seconds$|^/gc/cycles/total:gc-cycles$|^/cpu/classes/gc/`)}

// buildInfo is the gauge every process exports, always 1, whose labels say
// which build it runs (the convention of Prometheus' own *_build_info).
func buildInfo(bi buildinfo.Info) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "chatterly_build_info",
		Help:        "Always 1; the labels are the build of this process: version (as --version prints it), VCS revision and Go version.",
		ConstLabels: prometheus.Labels{"version": bi.Version, "revision": bi.Revision, "goversion": bi.GoVersion},
	})
	g.Set(1)
	return g
}

// FastHTTPHandler serves r in the Prometheus text format.
func FastHTTPHandler(r *prometheus.Registry) fasthttp.RequestHandler {
	return fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(r, promhttp.HandlerOpts{}))
}
