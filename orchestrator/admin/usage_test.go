package admin

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/orchestrator/llm"
	"github.com/airlockhq/airlock/orchestrator/settings"
	"github.com/airlockhq/airlock/orchestrator/store"
)

func nanos(n int64) *int64 { return &n }

// recordCalls stores LLM calls now: two priced ones in a titled
// conversation, one unpriced in another.
func recordCalls(t *testing.T, e *env) (costly, unpriced store.Conversation) {
	t.Helper()
	ctx := context.Background()
	var err error
	if costly, err = e.store.CreateConversation(ctx, store.SourceWeb, "Trip planning"); err != nil {
		t.Fatal(err)
	}
	if unpriced, err = e.store.CreateConversation(ctx, store.SourceWeb, "Local model chat"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []store.LLMCall{
		{ConversationID: costly.ID, InputTokens: 10_000, OutputTokens: 500, CacheReadTokens: 8_000, CacheWriteTokens: 1_000,
			CostNanos: nanos(16_650_000)},
		{ConversationID: costly.ID, InputTokens: 2_000, OutputTokens: 100, CostNanos: nanos(7_500_000)},
		{ConversationID: unpriced.ID, InputTokens: 300, OutputTokens: 30},
	} {
		c.TaskID, c.Provider, c.Model = "t_x", "anthropic", "m"
		if err := e.store.RecordLLMCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	return costly, unpriced
}

func TestUsageAPI(t *testing.T) {
	e := newEnv(t, func(d *Deps) {
		d.LLM = llm.NewGateway(nil, llm.Budget{MoneyPerDay: 5 * llm.NanosPerUnit}, d.Store, nil)
	})
	e.setup()
	costly, unpriced := recordCalls(t, e)
	var got usageView
	if c := e.api(e.apiToken(), "GET", "/api/v1/usage", nil, &got); c != http.StatusOK {
		t.Fatalf("GET /api/v1/usage: %d", c)
	}
	want := store.UsageTotals{Requests: 3, InputTokens: 12_300, OutputTokens: 630, CacheReadTokens: 8_000,
		CacheWriteTokens: 1_000, CostNanos: 24_150_000, UnknownCostCalls: 1}
	if got.Today != want || got.Month != want {
		t.Errorf("today %+v, month %+v; want %+v", got.Today, got.Month, want)
	}
	if len(got.Days) != store.ReportDays || got.Days[len(got.Days)-1].UsageTotals != want {
		t.Errorf("days: %d, last %+v", len(got.Days), got.Days[len(got.Days)-1])
	}
	if len(got.TopConversations) != 2 || got.TopConversations[0].ConversationID != costly.ID ||
		got.TopConversations[0].Title != "Trip planning" || got.TopConversations[1].ConversationID != unpriced.ID {
		t.Errorf("top conversations %+v", got.TopConversations)
	}
	if got.MoneyPerDayNanos != 5*llm.NanosPerUnit || got.TopJobs == nil {
		t.Errorf("money budget %d, top jobs %v", got.MoneyPerDayNanos, got.TopJobs)
	}
}

func TestDashboardShowsCostAndChart(t *testing.T) {
	e := newEnv(t, func(d *Deps) {
		d.LLM = llm.NewGateway(nil, llm.Budget{MoneyPerDay: 5 * llm.NanosPerUnit}, d.Store, nil)
	})
	e.setup()
	recordCalls(t, e)
	b := e.login()
	c, body := b.get("/")
	if c != http.StatusOK {
		t.Fatalf("dashboard: %d", c)
	}
	for _, want := range []string{
		`id="usage-today"`, "0.02", "of 5.00", // $0.02415 today against a $5 budget
		`<svg class="chart" id="usage-chart"`, "Trip planning", "Local model chat", "<td>unknown</td>",
		`id="usage-unknown"`, "8000 cache read",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	svg := body[strings.Index(body, "<svg"):strings.Index(body, "</svg>")]
	if n := strings.Count(svg, `<rect class="bar`); n != store.ReportDays {
		t.Errorf("%d bars, want %d", n, store.ReportDays)
	}
	// Today's bar is the tallest (the only one with a cost) and has a
	// tooltip with its figures.
	today := regexp.MustCompile(`<rect class="bar today" x="\d+" y="(\d+)" width="14" height="140"><title>([^<]+)</title>`).FindStringSubmatch(svg)
	if today == nil || !strings.Contains(html.UnescapeString(today[2]), "0.02, 12930 tokens, 3 calls") {
		t.Errorf("today's bar not found or wrong in\n%s", svg)
	}
	// The CSP forbids inline style and script: the chart uses neither.
	if strings.Contains(body, "style=") || strings.Contains(svg, "<script") {
		t.Error("the dashboard has an inline style or script")
	}
}

func TestSettingsPricesForm(t *testing.T) {
	e := newEnv(t)
	e.setup()
	b := e.login()
	before := e.settings.Get()
	for form, msg := range map[string]string{
		"claude 3":          "line 1: want a model name then 2 to 4 prices",
		"claude 3 15 cheap": `line 1 (model &#34;claude&#34;): cache_read: &#34;cheap&#34; is not a number`,
		"claude -3 15":      `entry 1 (model &#34;claude&#34;): input must be empty (unknown) or between 0 and 10000`,
	} {
		c, _, body := b.post("/settings", url.Values{"llm.prices": {form}})
		if c != http.StatusBadRequest || !strings.Contains(body, msg) {
			t.Errorf("prices %q: %d, want 400 with %q", form, c, msg)
		}
	}
	if c, _, body := b.post("/settings", url.Values{"llm.money_per_day": {"lots"}}); c != http.StatusBadRequest ||
		!strings.Contains(body, "must be an amount such as 5 or 2.50") {
		t.Errorf("money_per_day lots: %d", c)
	}
	// A money budget without a price for the model is refused, naming why.
	if c, _, body := b.post("/settings", url.Values{"llm.model": {"claude"}, "llm.money_per_day": {"5"}}); c != http.StatusBadRequest ||
		!strings.Contains(body, "no input and output price for the model &#34;claude&#34;") {
		t.Errorf("money without price: %d", c)
	}
	if got := e.settings.Get(); got.LLM.MoneyPerDay != before.LLM.MoneyPerDay || len(got.LLM.Prices) != 0 || got.LLM.Model != before.LLM.Model {
		t.Fatalf("refused forms changed settings: %+v", got.LLM)
	}
	b.post("/settings", url.Values{"llm.model": {"claude"}})
	if _, page := b.get("/settings"); !strings.Contains(page, `id="model-unpriced"`) {
		t.Error("the settings page does not say the current model has no price")
	}
	c, loc, _ := b.post("/settings", url.Values{"llm.model": {"claude"}, "llm.money_per_day": {"2.50"},
		"llm.prices": {"claude 3 15 0.30 3.75\nllama3.1 0 0 0 0\n"}})
	if c != http.StatusSeeOther || loc != "/settings" {
		t.Fatalf("good prices: %d %s", c, loc)
	}
	got := e.settings.Get().LLM
	if !got.PromptCache {
		t.Error("a form without the prompt cache checkbox turned it off")
	}
	if c, _, _ := b.post("/settings", url.Values{"llm.prompt_cache": {"off"}}); c != http.StatusSeeOther || e.settings.Get().LLM.PromptCache {
		t.Errorf("turning prompt caching off: %d", c)
	}
	if p, ok := got.PriceOf("claude"); !ok || *p.CacheRead != 0.30 || got.MoneyPerDay != 2.5 || len(got.Prices) != 2 {
		t.Errorf("saved %+v", got)
	}
	_, page := b.get("/settings")
	if !strings.Contains(page, "claude 3 15 0.3 3.75\nllama3.1 0 0 0 0") || !strings.Contains(page, `name="llm.money_per_day"`) ||
		strings.Contains(page, `id="model-unpriced"`) {
		t.Error("the settings page does not show the saved prices")
	}
	// The JSON API names the field too.
	var bad struct {
		Problems []settings.FieldError `json:"problems"`
	}
	body := map[string]any{"llm": map[string]any{"prices": []map[string]any{{"model": "x", "input": -1}}}}
	if c := e.api(e.apiToken(), "PUT", "/api/v1/settings", body, &bad); c != http.StatusBadRequest ||
		len(bad.Problems) == 0 || bad.Problems[0].Field != "llm.prices" || !strings.Contains(bad.Problems[0].Message, "input must be") {
		t.Errorf("API bad price: %d %+v", c, bad)
	}
}

func TestUsageChart(t *testing.T) {
	day := func(d string, cost, in int64) store.UsageDay {
		return store.UsageDay{Day: d, UsageTotals: store.UsageTotals{CostNanos: cost, InputTokens: in, Requests: 1}}
	}
	c := newUsageChart([]store.UsageDay{day("2026-03-01", 0, 0), day("2026-03-02", 2*llm.NanosPerUnit, 10),
		day("2026-03-03", llm.NanosPerUnit, 10), day("2026-03-04", 1, 10)})
	if c.Metric != "cost" || c.Peak != "2.00" || c.First != "2026-03-01" || c.Last != "2026-03-04" || c.W != 4*chartSlot {
		t.Fatalf("chart %+v", c)
	}
	// Heights are proportional; a tiny non-zero day still shows; bars
	// stand on the baseline; only the last is today's.
	for i, want := range []int{0, chartHeight, chartHeight / 2, 1} {
		b := c.Bars[i]
		if b.H != want || b.Y+b.H != c.Base || b.Today != (i == 3) {
			t.Errorf("bar %d = %+v, want height %d", i, b, want)
		}
	}
	// Without any cost, tokens are drawn.
	c = newUsageChart([]store.UsageDay{day("2026-03-01", 0, 300), day("2026-03-02", 0, 100)})
	if c.Metric != "tokens" || c.Bars[0].H != chartHeight || c.Bars[1].H != chartHeight/3 {
		t.Errorf("tokens chart %+v", c)
	}
	if c := newUsageChart(nil); len(c.Bars) != 0 || c.Peak != "0 tokens" {
		t.Errorf("empty chart %+v", c)
	}
}
