package worker

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"yamen/modules"
)

// Metrics are the worker's Prometheus series: runs, failures and latency
// per task type, and what the relay moved. It is a prometheus.Collector, to
// register in whichever registry the process exposes.
type Metrics struct {
	processed   *prometheus.CounterVec
	failed      *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	relayed     prometheus.Counter
	relayErrors prometheus.Counter
}

var _ prometheus.Collector = (*Metrics)(nil)

func newMetrics(tasks map[string]modules.Task) *Metrics {
	m := &Metrics{
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yamen_task_processed_total",
			Help: "Runs of a task, by task type, whatever their outcome.",
		}, []string{"type"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yamen_task_failed_total",
			Help: "Runs of a task that failed (returned an error or panicked), by task type.",
		}, []string{"type"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "yamen_task_duration_seconds",
			Help:    "Time a run of a task took, by task type.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"type"}),
		relayed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "yamen_outbox_relayed_total",
			Help: "Outbox rows the relay handed to the queue.",
		}),
		relayErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "yamen_outbox_relay_errors_total",
			Help: "Relay passes that failed (Redis or PostgreSQL unreachable); the rows wait for the next.",
		}),
	}
	// Every declared type shows, at zero, before it first runs.
	for typ := range tasks {
		m.processed.WithLabelValues(typ)
		m.failed.WithLabelValues(typ)
	}
	return m
}

func (m *Metrics) observe(taskType string, took time.Duration, failed bool) {
	m.processed.WithLabelValues(taskType).Inc()
	if failed {
		m.failed.WithLabelValues(taskType).Inc()
	}
	m.latency.WithLabelValues(taskType).Observe(took.Seconds())
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.processed.Describe(ch)
	m.failed.Describe(ch)
	m.latency.Describe(ch)
	m.relayed.Describe(ch)
	m.relayErrors.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.processed.Collect(ch)
	m.failed.Collect(ch)
	m.latency.Collect(ch)
	m.relayed.Collect(ch)
	m.relayErrors.Collect(ch)
}
