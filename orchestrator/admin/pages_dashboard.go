package admin

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/auth"
	"github.com/airlockhq/airlock/orchestrator/integration"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/orchestrator/worker"
	"github.com/airlockhq/airlock/secure/confine"
)

// llmStatus is the model's state and today's use against the budget.
type llmStatus struct {
	Configured      bool
	Provider, Model string
	Requests        int64
	Tokens          int64
	RequestsPerDay  int64 // 0: unlimited
	TokensPerDay    int64
}

// usageClass is the CSS class of a meter filled to pct percent, rounded
// down to a multiple of ten (widths come from classes: the CSP allows no
// inline style).
func usageClass(n, of int64) string {
	if of <= 0 {
		return "w0"
	}
	p := min(100, n*100/of) / 10 * 10
	return "w" + strconv.FormatInt(p, 10)
}

type dashboardData struct {
	Worker   worker.Status
	Own      *confine.Report // the orchestrator's own confinement
	LLM      llmStatus
	Discord  *DiscordStatus
	Pending  []tools.ScriptInfo
	Recent   []audit.Entry
	Setup    bool // the model is not configured yet: point to the wizard
	ReqClass string
	TokClass string
	Load     load // messages waiting their turn, model calls in flight
	// MCPServers are the external MCP servers and their state (issue 15).
	MCPServers []integration.ServerView
	// Usage is the cost section: today, this month, the chart of the
	// last 30 days and the costliest conversations.
	Usage      usageView
	Chart      usageChart
	MoneyClass string
	Security   *securityCard // nil: no doctor
	// PendingJobs are the jobs the assistant proposed (job_propose),
	// waiting for an admin's approval like scripts (issue 14).
	PendingJobs []store.Job
	// BackupWarning warns when the last verified backup is older than two
	// days (or there is none); "" when fine or backups are not set up.
	BackupWarning string
}

func (s *Server) llmStatus(r *http.Request) (llmStatus, error) {
	var st llmStatus
	if s.LLM != nil {
		st.Provider, st.Model = s.LLM.Provider(), s.LLM.Model()
		st.Configured = st.Model != ""
		b := s.LLM.Budget()
		st.RequestsPerDay, st.TokensPerDay = int64(b.RequestsPerDay), int64(b.TokensPerDay)
	}
	req, tok, err := s.usageToday(r.Context())
	if err != nil {
		return st, err
	}
	st.Requests, st.Tokens = int64(req), int64(tok)
	return st, nil
}

func (s *Server) pageDashboard(w http.ResponseWriter, r *http.Request) error {
	d := dashboardData{Worker: s.Queue.Status(s.WorkerGrace), Own: s.Confinement, Load: s.load(), BackupWarning: s.backupWarning()}
	var err error
	if d.LLM, err = s.llmStatus(r); err != nil {
		return err
	}
	d.Setup = !d.LLM.Configured
	if d.Usage, err = s.usageView(r); err != nil {
		return err
	}
	d.Chart = newUsageChart(d.Usage.Days)
	d.MoneyClass = usageClass(d.Usage.Today.CostNanos, d.Usage.MoneyPerDayNanos)
	d.ReqClass, d.TokClass = usageClass(d.LLM.Requests, d.LLM.RequestsPerDay), usageClass(d.LLM.Tokens, d.LLM.TokensPerDay)
	if s.DiscordStatus != nil {
		ds := s.DiscordStatus()
		d.Discord = &ds
	}
	if d.Pending, err = s.pendingScripts(r.Context()); err != nil {
		return err
	}
	if d.PendingJobs, err = s.pendingJobs(r.Context()); err != nil {
		return err
	}
	if s.Integrations != nil {
		if d.MCPServers, err = s.Integrations.List(r.Context()); err != nil {
			return err
		}
	}
	d.Security = s.securityCard(r.Context())
	recent := hideFailures(audit.Filter{Limit: 12})
	if d.Recent, err = s.Audit.List(r.Context(), recent); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "dashboard", view{Title: "Dashboard", Nav: "dashboard", Data: d})
	return nil
}

// hideFailures leaves unauthenticated failures out of f: refused sign-ins
// and setups (actor anonymous) and lockouts. They are aggregated, but a
// long attack still writes them steadily; the dashboard and, on request,
// the audit page show the rest.
func hideFailures(f audit.Filter) audit.Filter {
	f.ExceptActors, f.ExceptActions = []string{"anonymous"}, []string{auth.ActionLockout}
	return f
}

// usageToday returns the model requests and tokens since midnight UTC,
// the days the budgets count.
func (s *Server) usageToday(ctx context.Context) (requests, tokens int, err error) {
	return s.Store.UsageSince(ctx, time.Now().UTC().Truncate(24*time.Hour))
}

// pendingScripts returns the script versions awaiting review.
func (s *Server) pendingScripts(ctx context.Context) ([]tools.ScriptInfo, error) {
	if s.Approval == nil {
		return nil, nil
	}
	list, err := s.Approval.List(ctx, false)
	return slices.DeleteFunc(list, func(si tools.ScriptInfo) bool { return si.Status != tools.ScriptPending }), err
}

// pendingJobs returns the job proposals awaiting review, oldest first.
func (s *Server) pendingJobs(ctx context.Context) ([]store.Job, error) {
	if s.Jobs == nil {
		return nil, nil
	}
	list, err := s.Jobs.List(ctx)
	list = slices.DeleteFunc(list, func(j store.Job) bool { return j.State != store.JobProposed })
	slices.SortStableFunc(list, func(a, b store.Job) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return list, err
}
