package stream

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	consumed prometheus.Counter
	bad      prometheus.Counter
	errors   prometheus.Counter
	lag      prometheus.Gauge
	readLag  prometheus.Histogram
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
		readLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "chatterly_edge_stream_read_lag_seconds",
			Help:    "Time from each entry's append (its id's millisecond, so up to 1 ms high) to the XREAD that returned it.",
			Buckets: []float64{.0005, .001, .002, .003, .005, .0075, .01, .015, .02, .03, .05, .075, .1, .2, .5, 1, 2, 5},
		}),
	}
	if reg != nil {
		reg.MustRegister(m.consumed, m.bad, m.errors, m.lag, m.readLag)
	}
	return m
}
