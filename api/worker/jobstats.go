package worker

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river/rivertype"
)

// jobStats exports River's job counts by kind and state at each scrape
// (chatterly_worker_jobs): a growing "available" or "retryable" count is a
// queue falling behind or a job failing. Every kind the worker runs has a
// series for every state from the start, at 0.
type jobStats struct {
	st    store
	kinds []string
	desc  *prometheus.Desc
}

func newJobStats(st store, kinds []string) *jobStats {
	return &jobStats{st: st, kinds: kinds, desc: prometheus.NewDesc("jobs",
		"River jobs by kind and state (available, scheduled, running, retryable, completed, cancelled, discarded, pending).",
		[]string{"kind", "state"}, nil)}
}

// Describe implements prometheus.Collector.
func (j *jobStats) Describe(ch chan<- *prometheus.Desc) { ch <- j.desc }

// Collect implements prometheus.Collector. When Postgres does not answer
// within 2 s the scrape has no job series; it never fails the whole
// scrape.
func (j *jobStats) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := j.st.jobCounts(ctx)
	if err != nil {
		return
	}
	for _, k := range j.kinds {
		for _, s := range rivertype.JobStates() {
			key := [2]string{k, string(s)}
			if _, ok := counts[key]; !ok {
				counts[key] = 0
			}
		}
	}
	for key, n := range counts {
		ch <- prometheus.MustNewConstMetric(j.desc, prometheus.GaugeValue, float64(n), key[0], key[1])
	}
}
