package scenario

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/chatterly/chatterly/bench/report"
	"github.com/chatterly/chatterly/loadtest/sockets"
	"github.com/chatterly/chatterly/loadtest/stats"
	"github.com/chatterly/chatterly/shared/event"
)

// The breakdown of a delivery phase's slowest 1 %: each slow delivery
// (or, for a last-socket row, each slow event's last delivery) split into
// the stages of its path, each timed where it happens, with nothing added
// to the product's hot path:
//
//   - the bench's send: when the POST (or the XADD) left and was answered;
//   - the commit: Postgres's own commit time of the message's
//     transaction (pg_xact_commit_timestamp; the bench stack runs with
//     track_commit_timestamp);
//   - the stream entry: the millisecond Redis put in the entry id when it
//     appended it, narrowed by what brackets it (after the commit or the
//     send, before the answer);
//   - the receive: when the bench's socket read the frame.
//
// The edge's part (entry → read → frames written) cannot be taken per
// delivery without touching its hot path; its own histograms over the
// phase (chatterly_edge_stream_read_lag_seconds,
// chatterly_edge_delivery_lag_seconds) stand beside the per-sample stages.

// Stage names of the two kinds of phase; a name in parentheses is an
// aside (it overlaps the chain).
var (
	apiStages    = []string{"generator wait", "POST → commit", "commit → XADD", "XADD → socket", "(POST round trip)"}
	streamStages = []string{"send → XADD", "XADD → socket", "(XADD round trip)"}
)

// stageTimes are, per event k of a phase, the bench's send and answer
// (Unix ns) and, for its own appends, the stream entry id.
type stageTimes struct {
	start, end []int64
	entry      []string
}

func newStageTimes(n int64) *stageTimes {
	return &stageTimes{start: make([]int64, n), end: make([]int64, n), entry: make([]string, n)}
}

// sent records event k's send, answer and entry id ("" when the api
// appended it); a nil receiver records nothing.
func (t *stageTimes) sent(k int64, start, end time.Time, entry string) {
	if t == nil {
		return
	}
	t.start[k], t.end[k], t.entry[k] = start.UnixNano(), end.UnixNano(), entry
}

// entryMs is the millisecond of a stream entry id ("<ms>-<n>"), -1 when
// unreadable.
func entryMs(id string) int64 {
	ms, _, ok := strings.Cut(id, "-")
	if !ok {
		return -1
	}
	v, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return -1
	}
	return v
}

// entryAt estimates when an entry whose id has millisecond ms was
// appended, knowing it was between lo and hi (Unix ns, 0 when unknown):
// the middle of where the millisecond and the bracket overlap, or of the
// millisecond when they do not.
func entryAt(ms, lo, hi int64) int64 {
	a, b := ms*1e6, ms*1e6+1e6
	if lo > 0 && lo > a {
		a = lo
	}
	if hi > 0 && hi < b {
		b = hi
	}
	if a > b {
		a, b = ms*1e6, ms*1e6+1e6
	}
	return (a + b) / 2
}

// eventTimes is what the bench learned of one event after the phase.
type eventTimes struct {
	due, start, end int64 // Unix ns; start and end 0 when unknown
	commit          int64 // Unix ns, 0 when unknown
	entryMs         int64 // -1 when unknown
}

// stages splits one delivery received at recv (Unix ns) into the phase
// kind's stages, in ms (NaN where a stage's ends are unknown).
func stages(viaAPI bool, t eventTimes, recv int64) []float64 {
	nan := math.NaN()
	span := func(from, to int64) float64 {
		if from == 0 || to == 0 {
			return nan
		}
		return float64(to-from) / 1e6
	}
	var entry int64
	if t.entryMs >= 0 {
		lo := t.start
		if t.commit != 0 {
			lo = t.commit
		}
		entry = entryAt(t.entryMs, lo, t.end)
	}
	if viaAPI {
		return []float64{span(t.due, t.start), span(t.start, t.commit), span(t.commit, entry), span(entry, recv), span(t.start, t.end)}
	}
	return []float64{span(t.start, entry), span(entry, recv), span(t.start, t.end)}
}

// explainPhase sets res's breakdowns of its slowest 1 % (every delivery;
// each event's last) from the times the phase and the stack recorded.
func (r *wsRig) explainPhase(ctx context.Context, ph uint16, p phase, res *phaseResult, probe *waitProbe) {
	e := r.e
	n := len(res.due)
	ev := make([]eventTimes, n)
	for k := range ev {
		ev[k] = eventTimes{due: res.due[k].UnixNano(), start: res.times.start[k], end: res.times.end[k], entryMs: entryMs(res.times.entry[k])}
	}
	var notes []string
	if p.viaAPI {
		entries, err := e.scanEntries(ctx, ph, res.start)
		if err != nil {
			notes = append(notes, "stream entries not read: "+err.Error())
		}
		for k, ms := range entries {
			if int(k) < n {
				ev[k].entryMs = ms
			}
		}
		commits, err := e.commitTimes(ctx, ph, p.convs, res.start)
		if err != nil {
			notes = append(notes, "commit times not read: "+err.Error())
		}
		for k, at := range commits {
			if int(k) < n {
				ev[k].commit = at
			}
		}
	}
	names := streamStages
	if p.viaAPI {
		names = apiStages
	}
	sample := func(k uint32, lat int64) report.Sample {
		s := report.Sample{Total: float64(lat) / 1e6}
		if int(k) < n {
			s.Stages = stages(p.viaAPI, ev[k], ev[k].due+lat)
		}
		return s
	}
	var all []report.Sample
	for _, d := range res.rep.Tail {
		all = append(all, sample(d.K, d.Lat))
	}
	var last []report.Sample
	for k, lat := range res.rep.Last {
		last = append(last, sample(k, lat))
	}
	phaseLines := edgeLines(probe)
	note := strings.Join(append([]string{"XADD timed to its entry id's millisecond"}, notes...), "; ")
	if res.slow = report.Slowest(int(res.rep.Delivered), all, names); res.slow != nil {
		res.slow.Phase, res.slow.Note = phaseLines, note
	}
	if res.slowLast = report.Slowest(len(res.rep.Last), last, names); res.slowLast != nil {
		res.slowLast.Phase, res.slowLast.Note = phaseLines, note
	}
}

// edgeLines are the first edge's own timings over the phase, every event.
func edgeLines(probe *waitProbe) []string {
	if len(probe.e.Stack.Edges) == 0 {
		return nil
	}
	edge := probe.e.Stack.Edges[0].Name
	var out []string
	for _, m := range []struct{ name, what string }{
		{"chatterly_edge_stream_read_lag_seconds", "edge XADD → read"},
		{"chatterly_edge_delivery_lag_seconds", "edge XADD → frames written (per event and event loop)"},
	} {
		if h, ok := probe.hist(edge, m.name); ok && h.Count() > 0 {
			out = append(out, histLine(m.what, h))
		}
	}
	return out
}

// histLine prints a histogram's median, p99 and max as their bucket
// bounds, and its count.
func histLine(what string, h stats.Hist) string {
	return fmt.Sprintf("%s p50 ≤ %s, p99 ≤ %s, max ≤ %s ms (%.0f)", what, msBound(h, 0.5), msBound(h, 0.99), msBound(h, 1), h.Count())
}

// msBound is the bucket bound of quantile q of h (seconds) in ms.
func msBound(h stats.Hist, q float64) string {
	v := h.Max()
	if q < 1 {
		v = h.Quantile(q)
	}
	return strconv.FormatFloat(1000*v, 'g', 3, 64)
}

// scanEntries reads the shard streams from since on and returns, per
// event k of phase ph, the millisecond of its entry id.
func (e *Env) scanEntries(ctx context.Context, ph uint16, since time.Time) (map[uint32]int64, error) {
	out := map[uint32]int64{}
	for _, key := range e.Keys.Streams() {
		start := strconv.FormatInt(since.Add(-time.Second).UnixMilli(), 10)
		for {
			entries, err := e.Redis.Do(ctx, e.Redis.B().Xrange().Key(key).Start(start).End("+").Count(2000).Build()).AsXRange()
			if err != nil {
				return out, err
			}
			for _, en := range entries {
				if phase, k, ok := sockets.TagOf([]byte(en.FieldValues[event.FieldEnvelope])); ok && phase == ph {
					out[k] = entryMs(en.ID)
				}
			}
			if len(entries) < 2000 {
				break
			}
			start = "(" + entries[len(entries)-1].ID
		}
	}
	return out, nil
}

// commitTimes reads, per event k of phase ph posted to convs, the commit
// time of its message's transaction (Unix ns).
func (e *Env) commitTimes(ctx context.Context, ph uint16, convs []int, since time.Time) (map[uint32]int64, error) {
	ids := make([]int64, len(convs))
	for i, ci := range convs {
		ids[i] = int64(e.World.Conversations[ci].ID)
	}
	rows, err := e.DB.Query(ctx, `SELECT body, pg_xact_commit_timestamp(xmin) FROM messages
		WHERE conversation_id = ANY($1) AND created_at >= $2 AND body LIKE $3`,
		ids, since.Add(-time.Second), fmt.Sprintf("b:%d:%%", ph))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[uint32]int64{}
	for rows.Next() {
		var body string
		var at *time.Time
		if err := rows.Scan(&body, &at); err != nil {
			return out, err
		}
		if _, k, ok := sockets.TagOf([]byte(`"body":"` + body + `"`)); ok && at != nil {
			out[k] = at.UnixNano()
		}
	}
	return out, rows.Err()
}

// Explain copies, onto each target row, the breakdown of the slowest 1 %
// and the waits of the step that measured it, each as one line, and gives
// each measured FAIL row its next step (next.go).
func Explain(r *report.Run) {
	for i := range r.Targets {
		t := &r.Targets[i]
		var st *report.Step
		if t.Step != "" {
			st = measuredStep(r, t.Scenario, t.Step)
		}
		if st != nil {
			t.Waits = st.Waits.Line()
			if latencyRow(*t) {
				t.Slowest = st.Slowest.Line()
			}
		}
		if t.Verdict() == "FAIL" && t.NotMeasured == "" {
			_, t.Next = nextStep(r, *t, st)
		}
	}
}

// latencyRow says whether a row judges a latency (and so has a slowest
// 1 % to break down).
func latencyRow(t report.Target) bool { return strings.Contains(t.Ours, "p99") }
