package admin

import (
	"fmt"
	"net/http"
	"time"

	"github.com/airlockhq/airlock/orchestrator/llm"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// usageView is the dashboard's cost section and the body of
// GET /api/v1/usage: the store's report plus the money budget. Costs are
// in nano-units (10⁻⁹) of the price table's currency, US dollars by
// convention; a call whose model had no price counts as nothing and is
// counted in unknown_cost_calls.
type usageView struct {
	store.UsageReport
	// MoneyPerDayNanos is the daily money budget; 0: unlimited.
	MoneyPerDayNanos int64 `json:"money_per_day_nanos"`
}

func (s *Server) usageView(r *http.Request) (usageView, error) {
	rep, err := s.Store.UsageReport(r.Context(), time.Now())
	if err != nil {
		return usageView{}, err
	}
	v := usageView{UsageReport: rep}
	if s.LLM != nil {
		v.MoneyPerDayNanos = s.LLM.Budget().MoneyPerDay
	}
	return v, nil
}

func (s *Server) apiUsage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.usageView(r)
	if err != nil {
		return err
	}
	s.writeJSON(w, http.StatusOK, v)
	return nil
}

// usageChart is a bar chart of the last days, drawn on the server as
// inline SVG: no script, and only presentation attributes and classes
// (the CSP allows no inline style).
type usageChart struct {
	Metric     string // "cost" or "tokens"
	Peak       string // the tallest bar's value, for the caption
	First      string // first and last day, for the axis
	Last       string
	Bars       []usageBar
	W, H, Base int // view box and baseline
}

// usageBar is one day's bar.
type usageBar struct {
	X, Y, W, H int
	Label      string // the tooltip: day and value
	Today      bool
}

// Chart geometry, in view box units.
const (
	chartSlot   = 20 // per day
	chartBar    = 14
	chartHeight = 140 // tallest bar
	chartTop    = 8
)

// newUsageChart draws days: their cost when any is known, else their
// tokens.
func newUsageChart(days []store.UsageDay) usageChart {
	c := usageChart{Metric: "tokens", W: chartSlot * len(days), Base: chartTop + chartHeight}
	c.H = c.Base + 22
	val := func(d store.UsageDay) int64 { return d.Tokens() }
	for _, d := range days {
		if d.CostNanos > 0 {
			c.Metric, val = "cost", func(d store.UsageDay) int64 { return d.CostNanos }
			break
		}
	}
	var peak int64
	for _, d := range days {
		peak = max(peak, val(d))
	}
	show := func(n int64) string {
		if c.Metric == "cost" {
			return llm.FormatMoney(n)
		}
		return fmt.Sprintf("%d tokens", n)
	}
	c.Peak = show(peak)
	for i, d := range days {
		h := 0
		if v := val(d); v > 0 && peak > 0 {
			h = max(1, int(float64(v)/float64(peak)*chartHeight))
		}
		c.Bars = append(c.Bars, usageBar{X: i*chartSlot + (chartSlot-chartBar)/2, Y: c.Base - h, W: chartBar, H: h,
			Label: fmt.Sprintf("%s: %s, %d tokens, %d calls", d.Day, llm.FormatMoney(d.CostNanos), d.Tokens(), d.Requests),
			Today: i == len(days)-1})
	}
	if len(days) > 0 {
		c.First, c.Last = days[0].Day, days[len(days)-1].Day
	}
	return c
}
