package llm

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator/llm/llmtest"
)

// ledger is a UsageCounter the way the store is one: calls are recorded
// after they return, before they settle.
type ledger struct {
	mu               sync.Mutex
	requests, tokens int
	prices           Prices // with model, prices the calls it records
	model            string
	nanos            int64
}

func (l *ledger) CostSince(context.Context, time.Time) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.nanos, nil
}

func (l *ledger) UsageSince(context.Context, time.Time) (int, int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.requests, l.tokens, nil
}

func (l *ledger) record(u Usage) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.requests++
	l.tokens += u.InputTokens + u.OutputTokens
	if n, ok := l.prices.Cost(l.model, u); ok {
		l.nanos += n
	}
}

// race runs n calls at once through g the way the orchestrator makes them
// (reserve, call, record, settle) and returns how many were answered and
// how many were refused for the budget.
func race(t *testing.T, g *Gateway, l *ledger, n int) (answered, refused int) {
	t.Helper()
	var ok, denied atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req := conversation()
			call, err := g.Reserve(context.Background(), req)
			if errors.Is(err, ErrBudgetExhausted) {
				denied.Add(1)
				return
			}
			if err != nil {
				t.Error(err)
				return
			}
			defer call.Settle()
			resp, err := call.Complete(context.Background(), req)
			if err != nil {
				t.Error(err)
				return
			}
			l.record(resp.Usage)
			ok.Add(1)
		}()
	}
	close(start)
	wg.Wait()
	return int(ok.Load()), int(denied.Load())
}

// TestRequestBudgetExactUnderConcurrency: 60 calls racing for a budget of
// 10 requests: exactly 10 reach the provider, the others are refused, and
// nothing stays reserved.
func TestRequestBudgetExactUnderConcurrency(t *testing.T) {
	s := newFake(t)
	s.SetResponder(func(llmtest.RecordedRequest) (llmtest.Reply, bool) {
		return llmtest.Reply{Text: "ok", Delay: 20 * time.Millisecond}, true
	})
	c, _ := newTestClient(t, ProviderOpenAI, s)
	l := &ledger{}
	g := NewGateway(c, Budget{RequestsPerDay: 10}, l, nil)
	answered, refused := race(t, g, l, 60)
	if n := len(s.Requests()); n != 10 || answered != 10 || refused != 50 {
		t.Errorf("provider calls = %d, answered = %d, refused = %d; want 10, 10, 50", n, answered, refused)
	}
	if calls, toks := g.InFlight(); calls != 0 || toks != 0 {
		t.Errorf("still reserved after every call settled: %d calls, %d tokens", calls, toks)
	}
}

// TestTokenBudgetBoundedUnderConcurrency: calls racing for a token budget
// that fits about five of them: more than one runs at once, and the day
// ends over the budget by less than one call's reservation, the documented
// bound when the input estimate holds (here the fake reports exactly the
// estimated input tokens, and half the output cap).
func TestTokenBudgetBoundedUnderConcurrency(t *testing.T) {
	r := newBoundedRace(t)
	budget := 5 * r.reservation
	l := &ledger{}
	answered, refused := race(t, NewGateway(r.c, Budget{TokensPerDay: budget}, l, nil), l, 40)
	_, used, _ := l.UsageSince(context.Background(), time.Time{})
	r.check(t, "tokens", int64(used), int64(budget), int64(r.reservation), answered, refused)
}

// boundedRace is the setup of the budget races: a fake whose every answer
// takes 20 ms and reports exactly the estimated input tokens and half the
// output cap, noting how many calls ran at once.
type boundedRace struct {
	s           *llmtest.Server
	c           *Client
	reservation int // EstimateTokens of each call
	most        atomic.Int32
}

const raceMaxOut = 100

func newBoundedRace(t *testing.T) *boundedRace {
	r := &boundedRace{s: newFake(t), reservation: EstimateTokens(conversation(), raceMaxOut)}
	var running atomic.Int32
	r.s.SetResponder(func(llmtest.RecordedRequest) (llmtest.Reply, bool) {
		n := running.Add(1)
		for m := r.most.Load(); n > m && !r.most.CompareAndSwap(m, n); m = r.most.Load() {
		}
		time.Sleep(20 * time.Millisecond)
		running.Add(-1)
		return llmtest.Reply{Text: "ok", InputTokens: r.reservation - raceMaxOut, OutputTokens: raceMaxOut / 2}, true
	})
	r.c, _ = newTestClient(t, ProviderOpenAI, r.s, func(c *Config) { c.MaxTokens = raceMaxOut })
	return r
}

// check asserts the documented bound of a race of 40 calls: at least five
// answered, the budget reached but not passed by a whole reservation (in
// the budget's unit), more than one call at once, one provider call per
// answer.
func (r *boundedRace) check(t *testing.T, unit string, used, budget, reservation int64, answered, refused int) {
	t.Helper()
	if answered+refused != 40 || answered < 5 {
		t.Fatalf("answered %d, refused %d", answered, refused)
	}
	if used > budget-1+reservation {
		t.Errorf("used %d %s: over the budget %d by more than one reservation (%d)", used, unit, budget, reservation)
	}
	if used < budget {
		t.Errorf("used %d %s of %d: calls were refused before the budget was reached", used, unit, budget)
	}
	if r.most.Load() < 2 {
		t.Errorf("at most %d call ran at once: reservations serialised the calls", r.most.Load())
	}
	if n := len(r.s.Requests()); n != answered {
		t.Errorf("%d provider calls for %d answers", n, answered)
	}
}

// TestReserveWaitsForSettle: a call that only in-flight reservations keep
// out waits, and goes when one is given back unused; it gives up with its
// ctx.
func TestReserveWaitsForSettle(t *testing.T) {
	s := newFake(t)
	c, _ := newTestClient(t, ProviderOpenAI, s)
	l := &ledger{}
	g := NewGateway(c, Budget{RequestsPerDay: 1}, l, nil)
	first, err := g.Reserve(context.Background(), conversation())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := g.Reserve(ctx, conversation()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second reservation while the first is in flight: %v; want to wait until ctx ends", err)
	}
	got := make(chan error, 1)
	go func() {
		r, err := g.Reserve(context.Background(), conversation())
		if err == nil {
			r.Settle()
		}
		got <- err
	}()
	time.Sleep(20 * time.Millisecond)
	first.Settle() // failed: nothing recorded
	first.Settle() // twice is harmless
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("after the first settled unrecorded: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting reservation was not admitted when the first settled")
	}
	l.record(Usage{})
	if _, err := g.Reserve(context.Background(), conversation()); !errors.Is(err, ErrBudgetExhausted) {
		t.Fatalf("after one recorded request of one: %v", err)
	}
}

// TestMoneyBudgetBoundedUnderConcurrency: calls racing for a money budget
// that fits about five of them: more than one runs at once, and the day
// ends over the budget by less than one call's reservation priced at the
// model's prices (the fake reports exactly the estimated input tokens).
func TestMoneyBudgetBoundedUnderConcurrency(t *testing.T) {
	r := newBoundedRace(t)
	one, two := 1.0, 2.0 // per million tokens: 1,000 and 2,000 nanos a token
	model := r.c.Model()
	prices := Prices{model: {Input: &one, Output: &two}}
	perCall, ok := prices.Cost(model, Usage{InputTokens: r.reservation - raceMaxOut, OutputTokens: raceMaxOut})
	if !ok || perCall <= 0 {
		t.Fatalf("price of a reservation: %d, %v", perCall, ok)
	}
	budget := 5 * perCall
	l := &ledger{prices: prices, model: model}
	g := NewGateway(r.c, Budget{MoneyPerDay: budget}, l, nil)
	g.SetPrices(prices)
	answered, refused := race(t, g, l, 40)
	spent, _ := l.CostSince(context.Background(), time.Time{})
	r.check(t, "nanos", spent, budget, perCall, answered, refused)
}
