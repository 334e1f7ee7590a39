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
		&gauges{s: s}, &jobMetrics{s: s})
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

	descConfined = prometheus.NewDesc("airlock_worker_confined",
		"1 when the worker is confined: the kernel shows its seccomp filter, and it reports the network refused and Landlock's file rules in force.", nil, nil)
	descSeccomp = prometheus.NewDesc("airlock_worker_seccomp",
		"1 when the kernel shows the worker with a seccomp filter of its own.", nil, nil)
	descNetRefused = prometheus.NewDesc("airlock_worker_network_refused",
		"1 when the worker reports that opening an IP socket fails.", nil, nil)
	descLandlock = prometheus.NewDesc("airlock_worker_landlock_abi",
		"The Landlock ABI the worker reports applying its file rules with; 0 when none.", nil, nil)
	descOwnLandlock = prometheus.NewDesc("airlock_orchestrator_landlock",
		"1 when the orchestrator's own files are limited by Landlock.", nil, nil)
)

// Load gauges (issue 13): how much work is waiting where.
var (
	descParallel = prometheus.NewDesc("airlock_worker_parallel",
		"The most tasks the worker says it runs at once (AIRLOCK_WORKER_PARALLEL); 0 when unknown.", nil, nil)
	descWaiting = prometheus.NewDesc("airlock_messages_waiting",
		"Messages waiting behind a task already running in their conversation (not yet queued).", nil, nil)
	descActiveConvs = prometheus.NewDesc("airlock_conversations_busy",
		"Conversations with a task queued or running.", nil, nil)
	descLLMInFlight = prometheus.NewDesc("airlock_llm_calls_in_flight",
		"Model calls reserved under the daily budget and not yet settled.", nil, nil)
	descLLMReserved = prometheus.NewDesc("airlock_llm_tokens_reserved",
		"Tokens the model calls in flight reserve under the daily budget.", nil, nil)
)

// load is the work in progress beyond the queue's own counts.
type load struct {
	Waiting     int // messages waiting their conversation's turn
	Busy        int // conversations with a task queued or running
	LLMInFlight int
	LLMReserved int
}

func (s *Server) load() load {
	var l load
	if s.Core != nil {
		l.Waiting, l.Busy = s.Core.Waiting()
	}
	if s.LLM != nil {
		l.LLMInFlight, l.LLMReserved = s.LLM.InFlight()
	}
	return l
}

// gauges reads the system's state on each scrape.
type gauges struct{ s *Server }

func (g *gauges) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descWorker, descQueued, descInFlight, descReqs, descTokens, descPending, descDiscord,
		descConfined, descSeccomp, descNetRefused, descLandlock, descOwnLandlock,
		descParallel, descWaiting, descActiveConvs, descLLMInFlight, descLLMReserved} {
		ch <- d
	}
}

func (g *gauges) Collect(ch chan<- prometheus.Metric) {
	s := g.s
	ws := s.Queue.Status(s.WorkerGrace)
	ch <- prometheus.MustNewConstMetric(descWorker, prometheus.GaugeValue, b2f(ws.Connected))
	ch <- prometheus.MustNewConstMetric(descQueued, prometheus.GaugeValue, float64(ws.Queued))
	ch <- prometheus.MustNewConstMetric(descInFlight, prometheus.GaugeValue, float64(ws.InFlight))
	ch <- prometheus.MustNewConstMetric(descParallel, prometheus.GaugeValue, float64(ws.Parallel))
	l := s.load()
	ch <- prometheus.MustNewConstMetric(descWaiting, prometheus.GaugeValue, float64(l.Waiting))
	ch <- prometheus.MustNewConstMetric(descActiveConvs, prometheus.GaugeValue, float64(l.Busy))
	ch <- prometheus.MustNewConstMetric(descLLMInFlight, prometheus.GaugeValue, float64(l.LLMInFlight))
	ch <- prometheus.MustNewConstMetric(descLLMReserved, prometheus.GaugeValue, float64(l.LLMReserved))
	wc := ws.Confinement
	var netRefused bool
	var landlock int
	if r := wc.Reported; r != nil {
		netRefused = r.NetworkRefused
		if r.LandlockFiles {
			landlock = r.LandlockABI
		}
	}
	ch <- prometheus.MustNewConstMetric(descConfined, prometheus.GaugeValue, b2f(wc.Confined()))
	ch <- prometheus.MustNewConstMetric(descSeccomp, prometheus.GaugeValue, b2f(wc.KernelSeccomp))
	ch <- prometheus.MustNewConstMetric(descNetRefused, prometheus.GaugeValue, b2f(netRefused))
	ch <- prometheus.MustNewConstMetric(descLandlock, prometheus.GaugeValue, float64(landlock))
	ch <- prometheus.MustNewConstMetric(descOwnLandlock, prometheus.GaugeValue, b2f(s.Confinement != nil && s.Confinement.LandlockFiles))
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
