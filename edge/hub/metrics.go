package hub

import (
	"time"

	"github.com/chatterly/chatterly/edge/cable"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the hub's Prometheus series. Delivery counts frames per
// event and records lag per event, never per socket.
type metrics struct {
	subs     *prometheus.GaugeVec
	subsBy   [4]prometheus.Gauge
	frames   prometheus.Counter
	lagHist  prometheus.Histogram
	revokes  prometheus.Counter
	removals prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		subs: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "chatterly_edge_subscriptions", Help: "Subscriptions open, by channel.",
		}, []string{"channel"}),
		frames: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chatterly_edge_frames_delivered_total", Help: "Event frames written to sockets.",
		}),
		lagHist: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "chatterly_edge_delivery_lag_seconds",
			Help:    "Time from an event's stream entry to the write of its last frame on one event loop.",
			Buckets: []float64{.0005, .001, .002, .003, .005, .01, .02, .05, .1, .2, .5, 1, 2, 5},
		}),
		revokes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chatterly_edge_revoked_disconnects_total", Help: "Sockets disconnected because their session was revoked.",
		}),
		removals: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chatterly_edge_member_removals_total", Help: "Subscriptions ended because the member left the conversation.",
		}),
	}
	for _, ch := range []cable.Channel{cable.ConversationChannel, cable.PresenceChannel, cable.CallChannel} {
		m.subsBy[ch] = m.subs.WithLabelValues(ch.String())
	}
	if reg != nil {
		reg.MustRegister(m.subs, m.frames, m.lagHist, m.revokes, m.removals)
	}
	return m
}

func (m *metrics) subDelta(ch cable.Channel, d float64) {
	if int(ch) < len(m.subsBy) && m.subsBy[ch] != nil {
		m.subsBy[ch].Add(d)
	}
}

func (m *metrics) framesDelivered(n int) {
	if n > 0 {
		m.frames.Add(float64(n))
	}
}

func (m *metrics) lag(d time.Duration) { m.lagHist.Observe(d.Seconds()) }
func (m *metrics) revoked()            { m.revokes.Inc() }
func (m *metrics) removedMember()      { m.removals.Inc() }
