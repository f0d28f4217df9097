package server

import (
	"sync/atomic"

	"github.com/chatterly/chatterly/edge/cable"
	"github.com/prometheus/client_golang/prometheus"
)

// Handshake outcomes, as the chatterly_edge_handshakes_total label.
const (
	hsOK           = "ok"
	hsUnauthorized = "unauthorized"
	hsExpired      = "token_expired"
	hsBadRequest   = "bad_request"
	hsOrigin       = "forbidden_origin"
	hsRateLimited  = "rate_limited"
	hsCapacity     = "at_capacity"
	hsUserCap      = "user_cap"
	hsAddrCap      = "addr_cap"
	hsTimeout      = "timeout"
	hsUnavailable  = "unavailable"
)

type metrics struct {
	open       atomic.Int64 // sockets, handshakes included
	accepted   atomic.Int64 // connections admitted, ever
	handshakes *prometheus.CounterVec
	disconnect *prometheus.CounterVec
	malformed  prometheus.Counter
	commands   prometheus.Counter
	relayed    *prometheus.CounterVec
	dropped    *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		handshakes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chatterly_edge_handshakes_total", Help: "Connections by handshake outcome.",
		}, []string{"outcome"}),
		disconnect: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chatterly_edge_disconnects_total",
			Help: "Server-initiated disconnects by reason (too_slow counts slow consumers).",
		}, []string{"reason"}),
		malformed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chatterly_edge_invalid_commands_total", Help: "Malformed, unknown or over-limit commands ignored.",
		}),
		commands: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chatterly_edge_commands_total", Help: "Client commands read.",
		}),
		relayed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chatterly_edge_relayed_total", Help: "Edge-originated events appended to the streams, by kind.",
		}, []string{"kind"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chatterly_edge_actions_dropped_total", Help: "Client actions refused, by reason.",
		}, []string{"reason"}),
	}
	// Every label value exists from the start, so a dashboard sees zeros
	// rather than missing series.
	for _, o := range []string{hsOK, hsUnauthorized, hsExpired, hsBadRequest, hsOrigin, hsRateLimited,
		hsCapacity, hsUserCap, hsAddrCap, hsTimeout, hsUnavailable} {
		m.handshakes.WithLabelValues(o)
	}
	for _, r := range cable.Reasons {
		m.disconnect.WithLabelValues(string(r))
	}
	open := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "chatterly_edge_sockets_open", Help: "Sockets open, handshakes included.",
	}, func() float64 { return float64(m.open.Load()) })
	if reg != nil {
		reg.MustRegister(m.handshakes, m.disconnect, m.malformed, m.commands, m.relayed, m.dropped, open)
	}
	return m
}

// gauges registers the series read at each scrape: the socket cap, the
// worker pool's queue and the hub's delivery backlog.
func (m *metrics) gauges(reg prometheus.Registerer, maxSockets int, queued func() int, backlog func() int64) {
	if reg == nil {
		return
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "chatterly_edge_sockets_max",
			Help: "The most sockets this process holds (EDGE_MAX_SOCKETS); past it handshakes are refused as at_capacity.",
		}, func() float64 { return float64(maxSockets) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "chatterly_edge_work_queue_depth",
			Help: "Blocking jobs (token checks, Redis reads and appends) waiting for the worker pool; EDGE_WORK_QUEUE bounds it, and when it is full clients are answered busy.",
		}, func() float64 { return float64(queued()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "chatterly_edge_delivery_backlog",
			Help: "Event deliveries read from the streams and not yet written, summed over the hub's shards; past EDGE_MAX_BACKLOG the stream readers wait.",
		}, func() float64 { return float64(backlog()) }),
	)
}

func (m *metrics) handshake(outcome string)    { m.handshakes.WithLabelValues(outcome).Inc() }
func (m *metrics) disconnected(r cable.Reason) { m.disconnect.WithLabelValues(string(r)).Inc() }
func (m *metrics) drop(reason string)          { m.dropped.WithLabelValues(reason).Inc() }
func (m *metrics) relay(kind string)           { m.relayed.WithLabelValues(kind).Inc() }
