package admin

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsHandler serves /metrics in the Prometheus text format: the Go
// runtime and process metrics, and gauges read at scrape time. It holds
// counts and states only, never a name, a message or a secret.
func (s *Server) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&gauges{s: s})
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: nil, Timeout: 5 * time.Second})
}

var (
	descWorker   = prometheus.NewDesc("airlock_worker_connected", "1 when an AI worker is connected.", nil, nil)
	descQueued   = prometheus.NewDesc("airlock_tasks_queued", "Tasks waiting for the worker.", nil, nil)
	descInFlight = prometheus.NewDesc("airlock_tasks_in_flight", "Tasks the worker is running.", nil, nil)
	descReqs     = prometheus.NewDesc("airlock_llm_requests_today", "Model requests since midnight UTC.", nil, nil)
	descTokens   = prometheus.NewDesc("airlock_llm_tokens_today", "Model tokens (input and output) since midnight UTC.", nil, nil)
	descPending  = prometheus.NewDesc("airlock_scripts_pending", "Script versions awaiting review.", nil, nil)
	descDiscord  = prometheus.NewDesc("airlock_discord_connected", "1 when the Discord bot is connected.", nil, nil)
)

// gauges reads the system's state on each scrape.
type gauges struct{ s *Server }

func (g *gauges) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descWorker, descQueued, descInFlight, descReqs, descTokens, descPending, descDiscord} {
		ch <- d
	}
}

func (g *gauges) Collect(ch chan<- prometheus.Metric) {
	s := g.s
	ws := s.Queue.Status(s.WorkerGrace)
	ch <- prometheus.MustNewConstMetric(descWorker, prometheus.GaugeValue, b2f(ws.Connected))
	ch <- prometheus.MustNewConstMetric(descQueued, prometheus.GaugeValue, float64(ws.Queued))
	ch <- prometheus.MustNewConstMetric(descInFlight, prometheus.GaugeValue, float64(ws.InFlight))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if req, tok, err := s.usageToday(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(descReqs, prometheus.GaugeValue, float64(req))
		ch <- prometheus.MustNewConstMetric(descTokens, prometheus.GaugeValue, float64(tok))
	}
	if pending, err := s.pendingScripts(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(len(pending)))
	}
	if s.DiscordStatus != nil {
		ch <- prometheus.MustNewConstMetric(descDiscord, prometheus.GaugeValue, b2f(s.DiscordStatus().Connected))
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
