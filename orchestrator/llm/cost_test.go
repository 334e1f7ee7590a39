package llm

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/llm/llmtest"
)

func ptr(f float64) *float64 { return &f }

// sonnet is a price list shaped like Anthropic's published one for a
// Sonnet model: $3 input, $15 output, $0.30 cache read, $3.75 cache write
// per million tokens.
var sonnet = Price{Input: ptr(3), Output: ptr(15), CacheRead: ptr(0.30), CacheWrite: ptr(3.75)}

func TestPriceCost(t *testing.T) {
	tests := []struct {
		name      string
		price     Price
		usage     Usage
		wantNanos int64
		wantKnown bool
	}{
		// 1M uncached input at $3 + 1M output at $15.
		{"plain", sonnet, Usage{InputTokens: 1_000_000, OutputTokens: 1_000_000}, 18 * NanosPerUnit, true},
		// 10,000 input, of which 8,000 read from and 1,000 written to
		// the cache, so 1,000 uncached: (1,000×3 + 8,000×0.30 +
		// 1,000×3.75) / 10⁶ = $0.00915; 500 output × 15 / 10⁶ = $0.0075.
		{"cached", sonnet, Usage{InputTokens: 10_000, OutputTokens: 500, CacheReadTokens: 8_000, CacheWriteTokens: 1_000},
			9_150_000 + 7_500_000, true},
		// One token at $0.30/M is 300 nano-dollars.
		{"one cached token", sonnet, Usage{InputTokens: 1, CacheReadTokens: 1}, 300, true},
		{"local model", Price{Input: ptr(0), Output: ptr(0), CacheRead: ptr(0), CacheWrite: ptr(0)},
			Usage{InputTokens: 5000, OutputTokens: 5000, CacheReadTokens: 100}, 0, true},
		{"no cache price, no cache tokens", Price{Input: ptr(2.5), Output: ptr(10)},
			Usage{InputTokens: 4000, OutputTokens: 1000}, 20_000_000, true},
		{"cache read used, price unknown", Price{Input: ptr(2.5), Output: ptr(10)},
			Usage{InputTokens: 4000, OutputTokens: 1000, CacheReadTokens: 10}, 0, false},
		{"output price unknown", Price{Input: ptr(1)}, Usage{InputTokens: 10, OutputTokens: 1}, 0, false},
		{"nothing used", Price{}, Usage{}, 0, true},
		// Reads and writes larger than the input (a provider bug) do not
		// make the uncached part negative.
		{"inconsistent counts", sonnet, Usage{InputTokens: 10, CacheReadTokens: 20}, 6000, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, known := tt.price.Cost(tt.usage)
			if got != tt.wantNanos || known != tt.wantKnown {
				t.Errorf("Cost(%+v) = %d, %v; want %d, %v", tt.usage, got, known, tt.wantNanos, tt.wantKnown)
			}
		})
	}
	ps := Prices{"m": sonnet}
	if _, known := ps.Cost("other", Usage{InputTokens: 1}); known {
		t.Error("a model without a price has a known cost")
	}
	if n, known := ps.Cost("m", Usage{OutputTokens: 2}); n != 30_000 || !known {
		t.Errorf("Prices.Cost = %d, %v", n, known)
	}
}

func TestFormatMoney(t *testing.T) {
	for nanos, want := range map[int64]string{0: "0.00", 5 * NanosPerUnit: "5.00", 1_234_567_890: "1.23",
		4_200_000: "0.0042", 10_000_000: "0.01"} {
		if got := FormatMoney(nanos); got != want {
			t.Errorf("FormatMoney(%d) = %q, want %q", nanos, got, want)
		}
	}
}

// fakeCost is a usage counter that also counts cost.
type fakeCost struct {
	fakeUsage
	nanos int64
}

func (f *fakeCost) CostSince(context.Context, time.Time) (int64, error) { return f.nanos, f.err }

func TestGatewayMoneyBudget(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC) }
	for _, tt := range []struct {
		spent   int64
		refused bool
	}{{4_999_999_999, false}, {5 * NanosPerUnit, true}, {7 * NanosPerUnit, true}} {
		t.Run(fmt.Sprint(tt.spent), func(t *testing.T) {
			s := newFake(t)
			c, _ := newTestClient(t, ProviderAnthropic, s)
			g := NewGateway(c, Budget{MoneyPerDay: 5 * NanosPerUnit}, &fakeCost{nanos: tt.spent}, now)
			_, err := g.Complete(context.Background(), conversation())
			if !tt.refused {
				if err != nil || len(s.Requests()) != 1 {
					t.Fatalf("err = %v, requests = %d", err, len(s.Requests()))
				}
				return
			}
			var be *BudgetError
			if !errors.As(err, &be) || !errors.Is(err, ErrBudgetExhausted) || be.Resource != ResourceMoney {
				t.Fatalf("err = %v, want a money budget error", err)
			}
			if n := len(s.Requests()); n != 0 {
				t.Errorf("%d requests reached the provider", n)
			}
			if want := "The daily LLM spending budget (5.00) is used up; it resets at 00:00 UTC."; be.UserMessage() != want {
				t.Errorf("UserMessage = %q", be.UserMessage())
			}
			if want := FormatMoney(tt.spent) + " of 5.00 spent"; !strings.Contains(err.Error(), want) {
				t.Errorf("Error = %q", err)
			}
		})
	}
	// A counter that cannot count costs fails closed: no call.
	s := newFake(t)
	c, _ := newTestClient(t, ProviderAnthropic, s)
	g := NewGateway(c, Budget{MoneyPerDay: 1}, &fakeUsage{}, now)
	if _, err := g.Complete(context.Background(), conversation()); err == nil || len(s.Requests()) != 0 {
		t.Errorf("err = %v, requests = %d; want a refusal and no call", err, len(s.Requests()))
	}
}

func TestGatewayCostUsesPrices(t *testing.T) {
	g := NewGateway(nil, Budget{}, nil, nil)
	if _, known := g.Cost("m", Usage{InputTokens: 1}); known {
		t.Error("known cost without prices")
	}
	g.SetPrices(Prices{"m": sonnet})
	if n, known := g.Cost("m", Usage{InputTokens: 1_000_000}); n != 3*NanosPerUnit || !known {
		t.Errorf("Cost = %d, %v", n, known)
	}
}

// turnRequest is the request of turn k (0-based) of a conversation: the
// system prompt, the tools, k earlier exchanges and a new question.
func turnRequest(system string, defs []Tool, k int) Request {
	req := Request{System: system, Tools: defs}
	for i := 0; i <= k; i++ {
		q := fmt.Sprintf("Question %d: %s", i, strings.Repeat("tell me more about the weather. ", 6))
		req.Messages = append(req.Messages, Message{Role: RoleUser, Content: q})
		if i < k {
			req.Messages = append(req.Messages, Message{Role: RoleAssistant, Content: "fake reply: " + q})
		}
	}
	return req
}

// modelTools are the real model tool definitions.
func modelTools() []Tool {
	var out []Tool
	for _, d := range tools.Model() {
		out = append(out, Tool{Name: d.Name, Description: d.Description, InputSchema: d.InputSchema})
	}
	return out
}

// conversationUsage runs a 20-turn conversation against the fake and
// returns each call's usage and the fake's recorded cache breakpoints.
func conversationUsage(t testing.TB, noCache bool) ([]Usage, [][]string) {
	s, err := llmtest.New()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := New(Config{Provider: ProviderAnthropic, BaseURL: s.URL(), Model: "m", NoPromptCache: noCache}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A system prompt of the size a real one has with some memory: about
	// 2,000 tokens.
	system := strings.Repeat("You are Airlock, a careful assistant. Remember: the user likes tea. ", 120)
	defs := modelTools()
	var us []Usage
	for k := range 20 {
		resp, err := c.Complete(context.Background(), turnRequest(system, defs, k))
		if err != nil {
			t.Fatal(err)
		}
		us = append(us, resp.Usage)
	}
	var bps [][]string
	for _, r := range s.Requests() {
		bps = append(bps, r.CacheBreakpoints)
	}
	return us, bps
}

// inputCost sums the input side (uncached, cache read, cache write) of us
// at sonnet's prices, in nano-dollars.
func inputCost(us []Usage) int64 {
	var sum int64
	for _, u := range us {
		u.OutputTokens = 0
		n, _ := sonnet.Cost(u)
		sum += n
	}
	return sum
}

func TestAnthropicCacheControlInFakeRequests(t *testing.T) {
	us, bps := conversationUsage(t, false)
	nTools := len(modelTools())
	for k, got := range bps {
		last := fmt.Sprintf("messages[%d].content[0]", 2*k)
		want := []string{fmt.Sprintf("tools[%d]", nTools-1), "system[0]"}
		if k > 0 {
			want = append(want, fmt.Sprintf("messages[%d].content[0]", 2*k-2))
		}
		want = append(want, last)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("turn %d: cache_control on %q, want %q", k, got, want)
		}
		if len(got) > MaxCacheBreakpoints {
			t.Errorf("turn %d: %d breakpoints, the API allows %d", k, len(got), MaxCacheBreakpoints)
		}
	}
	// The first call writes the cache; every later one reads the prefix
	// the one before wrote and writes only its own new turn.
	if us[0].CacheReadTokens != 0 || us[0].CacheWriteTokens == 0 {
		t.Errorf("turn 0 usage = %+v, want a cache write and no read", us[0])
	}
	for k := 1; k < len(us); k++ {
		u := us[k]
		if u.CacheReadTokens <= us[k-1].CacheReadTokens || u.CacheWriteTokens >= us[0].CacheWriteTokens {
			t.Errorf("turn %d usage = %+v, want a growing cache read and a small write (turn 0: %+v)", k, u, us[0])
		}
	}
	uncached, bpsOff := conversationUsage(t, true)
	for k, b := range bpsOff {
		if len(b) != 0 || uncached[k].CacheReadTokens != 0 || uncached[k].CacheWriteTokens != 0 {
			t.Errorf("turn %d without caching: breakpoints %q, usage %+v", k, b, uncached[k])
		}
	}
	with, without := inputCost(us), inputCost(uncached)
	t.Logf("20-turn conversation, input cost at $3/$0.30/$3.75 per M (input/cache read/cache write): with caching $%s, without $%s (%.0f%% saved)",
		FormatMoney(with), FormatMoney(without), 100*(1-float64(with)/float64(without)))
	if with*2 > without {
		t.Errorf("caching saves too little: $%s with, $%s without", FormatMoney(with), FormatMoney(without))
	}
}

// BenchmarkPromptCache20Turns reports the input cost of a 20-turn
// conversation with and without prompt caching (docs/performance.md).
func BenchmarkPromptCache20Turns(b *testing.B) {
	var with, without int64
	for b.Loop() {
		us, _ := conversationUsage(b, false)
		un, _ := conversationUsage(b, true)
		with, without = inputCost(us), inputCost(un)
	}
	b.ReportMetric(float64(with)/NanosPerUnit, "usd_cached")
	b.ReportMetric(float64(without)/NanosPerUnit, "usd_uncached")
	b.ReportMetric(100*(1-float64(with)/float64(without)), "%saved")
}

func TestOpenAICachedTokensFromFake(t *testing.T) {
	s := newFake(t)
	c, _ := newTestClient(t, ProviderOpenAI, s)
	first, err := c.Complete(context.Background(), turnRequest("be brief", testTools, 0))
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.Complete(context.Background(), turnRequest("be brief", testTools, 1))
	if err != nil {
		t.Fatal(err)
	}
	if first.Usage.CacheReadTokens != 0 || second.Usage.CacheReadTokens == 0 ||
		second.Usage.CacheReadTokens >= second.Usage.InputTokens || second.Usage.CacheWriteTokens != 0 {
		t.Errorf("usage %+v then %+v: want cached_tokens on the repeated prefix only", first.Usage, second.Usage)
	}
	if strings.Contains(string(s.Requests()[1].Body), "cache_control") {
		t.Error("cache_control sent to an OpenAI-compatible server")
	}
}

func TestHostileUsageIsSane(t *testing.T) {
	s := newFake(t)
	c, _ := newTestClient(t, ProviderAnthropic, s)
	s.Enqueue(llmtest.Reply{Text: "x", InputTokens: 10, OutputTokens: 2, CacheReadTokens: -5, CacheWriteTokens: 1 << 40})
	resp, err := c.Complete(context.Background(), conversation())
	if err != nil {
		t.Fatal(err)
	}
	// Anthropic adds cache counts to the input: 10 + 2⁴⁰ - 5.
	u := resp.Usage
	if u.CacheReadTokens != 0 || u.CacheWriteTokens > u.InputTokens || u.InputTokens < 0 {
		t.Errorf("usage %+v", u)
	}
	if n, ok := sonnet.Cost(Usage{InputTokens: 1 << 62, CacheWriteTokens: 1 << 62}); !ok || n <= 0 {
		t.Errorf("huge cost = %d, %v; want capped, positive", n, ok)
	}
}
