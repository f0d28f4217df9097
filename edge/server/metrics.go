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

func (m *metrics) handshake(outcome string)    { m.handshakes.WithLabelValues(outcome).Inc() }
func (m *metrics) disconnected(r cable.Reason) { m.disconnect.WithLabelValues(string(r)).Inc() }
func (m *metrics) drop(reason string)          { m.dropped.WithLabelValues(reason).Inc() }
func (m *metrics) relay(kind string)           { m.relayed.WithLabelValues(kind).Inc() }
