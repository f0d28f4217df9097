package sockets

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReportCountsLossDuplicatesAndUnexpected builds two sockets' records
// by hand and checks the accounting against what was sent.
func TestReportCountsLossDuplicatesAndUnexpected(t *testing.T) {
	t.Parallel()
	g := NewGroup(Job{Sockets: []Spec{
		{Subs: []Sub{{Conv: 10}, {Conv: 20}}},
		{Subs: []Sub{{Conv: 10}}},
	}})
	a, b := g.sockets[0], g.sockets[1]
	// Phase 7 sent k 0,1 to conv 10 and k 2 to conv 20.
	a.recs = []rec{
		{phase: 7, sub: 0, k: 0, lat: 1000},
		{phase: 7, sub: 0, k: 1, lat: 3000},
		{phase: 7, sub: 0, k: 1, lat: 9000}, // a duplicate of an event without seq
		{phase: 7, sub: 1, k: 2, lat: 2000},
		{phase: 7, sub: 1, k: 9, lat: 5000}, // not in the sent list
		{phase: 8, sub: 0, k: 0, lat: 1},    // another phase: kept
	}
	a.dups = 2                                          // seq duplicates the socket dropped
	b.recs = []rec{{phase: 7, sub: 0, k: 0, lat: 4000}} // k 1 never reached b
	a.perPhase = map[uint16]int64{7: 5, 8: 1}
	b.perPhase = map[uint16]int64{7: 1}
	require.Equal(t, int64(6), g.Count(7))
	rep := g.Report(7, []Expect{{Conv: 10, Ks: []uint32{0, 1}}, {Conv: 20, Ks: []uint32{2}}})

	require.Equal(t, int64(5), rep.Expected) // a: 2 + 1, b: 2
	require.Equal(t, int64(4), rep.Delivered)
	require.Equal(t, int64(1), rep.Lost)
	require.Equal(t, int64(3), rep.Duplicates)
	require.Equal(t, int64(1), rep.Unexpected)
	require.Equal(t, map[uint32]int64{0: 4000, 1: 3000, 2: 2000}, rep.Last)
	require.Equal(t, uint64(4), rep.Latency.Total)
	require.Equal(t, int64(4000), rep.Latency.Max)
	require.Empty(t, rep.Tail, "no tail asked for")
	// The phase's records are consumed; the other phase's stay.
	require.Len(t, a.recs, 1)
	require.Equal(t, int64(1), g.Count(8))
	require.Zero(t, g.Count(7))
}

// TestServeAnswersEachRequest drives the child protocol without sockets.
func TestServeAnswersEachRequest(t *testing.T) {
	t.Parallel()
	in := strings.NewReader(`{"cmd":"status"}` + "\n" +
		`{"cmd":"start","job":{"sockets":[]}}` + "\n" +
		`{"cmd":"status"}` + "\n" +
		`{"cmd":"count","phase":1}` + "\n" +
		`{"cmd":"bogus"}` + "\n" +
		`{"cmd":"close"}` + "\n")
	var out bytes.Buffer
	require.NoError(t, Serve(context.Background(), in, &out))
	dec := json.NewDecoder(&out)
	var rs []Response
	for dec.More() {
		var r Response
		require.NoError(t, dec.Decode(&r))
		rs = append(rs, r)
	}
	require.Len(t, rs, 6)
	require.Contains(t, rs[0].Err, "no job started")
	require.NotNil(t, rs[1].Start)
	require.Zero(t, rs[1].Start.Wanted)
	require.NotNil(t, rs[2].Status)
	require.Zero(t, rs[3].Count)
	require.Contains(t, rs[4].Err, "unknown command")
	require.Empty(t, rs[5].Err)
}

// TestReportTailKeepsTheSlowest: a report asked for its 2 slowest
// deliveries returns those, whatever the order they arrived in; the
// parent's merge keeps the slowest of every child's.
func TestReportTailKeepsTheSlowest(t *testing.T) {
	t.Parallel()
	g := NewGroup(Job{Sockets: []Spec{{Subs: []Sub{{Conv: 10}}}, {Subs: []Sub{{Conv: 10}}}}})
	g.sockets[0].recs = []rec{{phase: 1, k: 0, lat: 500}, {phase: 1, k: 1, lat: 9000}, {phase: 1, k: 2, lat: 100}}
	g.sockets[1].recs = []rec{{phase: 1, k: 0, lat: 7000}, {phase: 1, k: 1, lat: 50}, {phase: 1, k: 2, lat: 8000}}
	rep := g.ReportTail(1, []Expect{{Conv: 10, Ks: []uint32{0, 1, 2}}}, 2)
	require.Equal(t, int64(6), rep.Delivered)
	require.ElementsMatch(t, []Delivery{{K: 1, Conv: 10, Lat: 9000}, {K: 2, Conv: 10, Lat: 8000}}, rep.Tail)

	merged := slowest(append(rep.Tail, Delivery{K: 5, Conv: 20, Lat: 8500}), 2)
	require.Equal(t, []Delivery{{K: 1, Conv: 10, Lat: 9000}, {K: 5, Conv: 20, Lat: 8500}}, merged)
	require.Nil(t, slowest(merged, 0))
}
