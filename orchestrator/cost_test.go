package orchestrator_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/llm"
)

func price(f float64) *float64 { return &f }

// TestCostRecordedAndMoneyBudget: each model call's cache tokens and cost
// (at the gateway's prices) are recorded with its usage; once today's
// cost reaches the money budget, the next message is refused without a
// provider call and the user is told why.
func TestCostRecordedAndMoneyBudget(t *testing.T) {
	h := newHarness(t, orchestrator.Config{}, llm.Budget{})
	p := llm.Price{Input: price(2.5), Output: price(10), CacheRead: price(1.25)}
	h.gw.SetPrices(llm.Prices{"fake": p})
	h.runAgent(t)
	conv := h.conversation(t)
	for _, text := range []string{"first question", "second question"} {
		if r := <-h.submit(t, conv, text); r.Failed {
			t.Fatalf("reply: %+v", r)
		}
	}
	ctx := context.Background()
	rep, err := h.store.UsageReport(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	today := rep.Today
	if today.Requests != 2 || today.UnknownCostCalls != 0 || today.CacheReadTokens == 0 || today.CacheWriteTokens != 0 {
		t.Fatalf("today %+v: want 2 priced calls, the second reading the fake's cache", today)
	}
	want, _ := p.Cost(llm.Usage{InputTokens: int(today.InputTokens), OutputTokens: int(today.OutputTokens),
		CacheReadTokens: int(today.CacheReadTokens)})
	// Each call is rounded on its own: the sum may differ by a nano-unit
	// per call.
	if d := today.CostNanos - want; d < -2 || d > 2 || today.CostNanos == 0 {
		t.Errorf("recorded cost %d, want %d", today.CostNanos, want)
	}
	if len(rep.TopConversations) != 1 || rep.TopConversations[0].ConversationID != conv {
		t.Errorf("top conversations %+v", rep.TopConversations)
	}

	// Today's spending now reaches the budget.
	h.gw.SetBudget(llm.Budget{MoneyPerDay: today.CostNanos})
	calls := len(h.llm.Requests())
	r := <-h.submit(t, conv, "third question")
	if !strings.Contains(r.Text, "spending budget") {
		t.Errorf("reply %+v, want the money budget notice", r)
	}
	if n := len(h.llm.Requests()); n != calls {
		t.Errorf("%d provider calls after the budget was reached", n-calls)
	}
	// A model without a price: the cost is unknown, counted as such.
	h.gw.SetBudget(llm.Budget{})
	h.gw.SetPrices(nil)
	if r := <-h.submit(t, conv, "fourth question"); r.Failed {
		t.Fatalf("reply: %+v", r)
	}
	rep, _ = h.store.UsageReport(ctx, time.Now())
	if rep.Today.UnknownCostCalls != 1 || rep.Today.CostNanos != today.CostNanos {
		t.Errorf("after an unpriced call: %+v", rep.Today)
	}
}
