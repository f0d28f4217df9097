package stream

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	consumed prometheus.Counter
	bad      prometheus.Counter
	errors   prometheus.Counter
	lag      prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		consumed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chatterly_edge_events_consumed_total", Help: "Stream entries read and published to the hub.",
		}),
		bad: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chatterly_edge_events_unroutable_total", Help: "Stream entries skipped because they could not be routed.",
		}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chatterly_edge_stream_read_errors_total", Help: "Failed XREADs (Redis unreachable or erroring).",
		}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chatterly_edge_stream_lag_seconds",
			Help: "Age of the newest entry in the last batch read (0 when caught up): how far the consumer trails the streams.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.consumed, m.bad, m.errors, m.lag)
	}
	return m
}
