// Package dbstats exports the statistics of the api's and the worker's
// Postgres pools (pgxpool.Stat) to Prometheus, read at each scrape.
package dbstats

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// Collector reads the pools' statistics at each scrape. Its series are
// registered under the process's prefix (the caller wraps the registerer:
// chatterly_api_db_pool_connections, …) and labelled by pool: "primary"
// (DATABASE_URL) and, when there is one, "replica" (DATABASE_REPLICA_URL).
type Collector struct {
	pools map[string]*pgxpool.Pool

	conns, maxConns, acquires, acquireSeconds, emptyAcquires, canceledAcquires *prometheus.Desc
}

// New returns a collector of the named pools.
func New(pools map[string]*pgxpool.Pool) *Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("db_pool_"+name, help, append([]string{"pool"}, labels...), nil)
	}
	return &Collector{pools: pools,
		conns:            d("connections", "Connections of the Postgres pool by state: acquired (in use), idle, constructing.", "state"),
		maxConns:         d("max_connections", "The Postgres pool's size (DATABASE_MAX_CONNS)."),
		acquires:         d("acquires_total", "Connections taken from the Postgres pool."),
		acquireSeconds:   d("acquire_seconds_total", "Time spent waiting to take a connection from the Postgres pool."),
		emptyAcquires:    d("empty_acquires_total", "Acquires that found no idle connection and had to wait for one or open one."),
		canceledAcquires: d("canceled_acquires_total", "Acquires abandoned because their context ended first."),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.conns, c.maxConns, c.acquires, c.acquireSeconds, c.emptyAcquires, c.canceledAcquires} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for name, p := range c.pools {
		s := p.Stat()
		g := func(d *prometheus.Desc, v float64, labels ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, append([]string{name}, labels...)...)
		}
		n := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, name)
		}
		g(c.conns, float64(s.AcquiredConns()), "acquired")
		g(c.conns, float64(s.IdleConns()), "idle")
		g(c.conns, float64(s.ConstructingConns()), "constructing")
		g(c.maxConns, float64(s.MaxConns()))
		n(c.acquires, float64(s.AcquireCount()))
		n(c.acquireSeconds, s.AcquireDuration().Seconds())
		n(c.emptyAcquires, float64(s.EmptyAcquireCount()))
		n(c.canceledAcquires, float64(s.CanceledAcquireCount()))
	}
}
