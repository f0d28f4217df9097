package presence

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	online, offline, reaped, errors prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "chatterly_edge_presence_" + name, Help: help})
	}
	m := &metrics{
		online:  c("online_total", "Users this node announced online."),
		offline: c("offline_total", "Users this node announced offline."),
		reaped:  c("reaped_nodes_total", "Dead edge nodes this node cleaned up."),
		errors:  c("errors_total", "Failed presence writes (retried)."),
	}
	if reg != nil {
		reg.MustRegister(m.online, m.offline, m.reaped, m.errors)
	}
	return m
}
