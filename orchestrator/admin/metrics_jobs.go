package admin

import (
	"context"
	"time"

	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/prometheus/client_golang/prometheus"
)

// Scheduled jobs on /metrics (issue 14): runs by status and the tokens
// job runs spent, read from the run history at scrape time.
var (
	descJobRuns = prometheus.NewDesc("airlock_job_runs_total",
		"Runs of scheduled jobs recorded, by status (ok, empty, failed, capped, skipped, missed, running).", []string{"status"}, nil)
	descJobTokens = prometheus.NewDesc("airlock_job_tokens_total", "Model tokens spent by runs of scheduled jobs.", nil, nil)
)

// jobMetrics collects the jobs' counters.
type jobMetrics struct{ s *Server }

func (m *jobMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- descJobRuns
	ch <- descJobTokens
}

func (m *jobMetrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	counts, tokens, err := m.s.Store.JobRunCounts(ctx)
	if err != nil {
		return
	}
	for _, st := range []string{store.RunOK, store.RunEmpty, store.RunFailed, store.RunCapped, store.RunSkipped, store.RunMissed, store.RunRunning} {
		ch <- prometheus.MustNewConstMetric(descJobRuns, prometheus.CounterValue, float64(counts[st]), st)
	}
	ch <- prometheus.MustNewConstMetric(descJobTokens, prometheus.CounterValue, float64(tokens))
}
