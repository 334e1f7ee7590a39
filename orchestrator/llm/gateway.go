package llm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Budget caps LLM use per UTC day. Zero means unlimited.
type Budget struct {
	RequestsPerDay int
	TokensPerDay   int // input plus output tokens
	// MoneyPerDay caps the recorded cost, in nano-units of the price
	// table's currency (see NanosPerUnit). Calls whose price was unknown
	// when they were made count as nothing toward it.
	MoneyPerDay int64
}

// UsageCounter reports the LLM requests and tokens (input plus output)
// recorded since a point in time. The store implements it.
type UsageCounter interface {
	UsageSince(ctx context.Context, since time.Time) (requests, tokens int, err error)
}

// CostCounter reports the cost (in nano-units) of the LLM calls recorded
// since a point in time, calls of unknown price counting as nothing. The
// store implements it; a money budget needs it.
type CostCounter interface {
	CostSince(ctx context.Context, since time.Time) (nanos int64, err error)
}

// Gateway is the orchestrator's way to the model: a swappable Client behind
// a daily budget. It is safe for concurrent use.
//
// The budget is checked before each call from recorded usage, so requests
// running concurrently may overshoot it by the calls in flight.
type Gateway struct {
	client atomic.Pointer[Client]
	usage  UsageCounter
	now    func() time.Time

	mu     sync.Mutex
	budget Budget
	prices Prices
}

// NewGateway returns a Gateway. c may be nil until a provider is
// configured (Complete then fails with ErrNotConfigured); now nil means
// time.Now. u may be nil only if b is unlimited.
func NewGateway(c *Client, b Budget, u UsageCounter, now func() time.Time) *Gateway {
	if now == nil {
		now = time.Now
	}
	g := &Gateway{usage: u, now: now, budget: b}
	g.client.Store(c)
	return g
}

// SetClient swaps the Client; calls already running finish on the old one.
// nil unconfigures the gateway.
func (g *Gateway) SetClient(c *Client) { g.client.Store(c) }

// Client returns the current Client, or nil.
func (g *Gateway) Client() *Client { return g.client.Load() }

// SetBudget replaces the budget.
func (g *Gateway) SetBudget(b Budget) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.budget = b
}

// SetPrices replaces the price table (model name to price); Cost uses it.
// The gateway keeps p: the caller must not change it afterwards.
func (g *Gateway) SetPrices(p Prices) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.prices = p
}

// Cost returns what u cost with model at the current prices, in
// nano-units, and whether that is known (see Price.Cost).
func (g *Gateway) Cost(model string, u Usage) (nanos int64, known bool) {
	g.mu.Lock()
	p := g.prices
	g.mu.Unlock()
	return p.Cost(model, u)
}

// Budget returns the current budget.
func (g *Gateway) Budget() Budget {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.budget
}

// Provider returns the current provider name, or "" if unconfigured.
func (g *Gateway) Provider() string {
	if c := g.client.Load(); c != nil {
		return c.Provider()
	}
	return ""
}

// Model returns the current model name, or "" if unconfigured.
func (g *Gateway) Model() string {
	if c := g.client.Load(); c != nil {
		return c.Model()
	}
	return ""
}

// Complete checks today's budget and, if some is left, calls the provider.
// An exhausted budget is a *BudgetError (errors.Is ErrBudgetExhausted) and
// no provider call is made.
func (g *Gateway) Complete(ctx context.Context, req Request) (Response, error) {
	c, err := g.ready(ctx)
	if err != nil {
		return Response{}, err
	}
	return c.Complete(ctx, req)
}

// CompleteStream is Complete with the answer streamed to onText (see
// Client.CompleteStream), after the same budget check.
func (g *Gateway) CompleteStream(ctx context.Context, req Request, onText func(delta string)) (Response, error) {
	c, err := g.ready(ctx)
	if err != nil {
		return Response{}, err
	}
	return c.CompleteStream(ctx, req, onText)
}

// ready returns the current Client if there is one and budget is left.
func (g *Gateway) ready(ctx context.Context) (*Client, error) {
	c := g.client.Load()
	if c == nil {
		return nil, ErrNotConfigured
	}
	if err := g.checkBudget(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// checkBudget fails when today's recorded usage reaches a limit.
func (g *Gateway) checkBudget(ctx context.Context) error {
	b := g.Budget()
	if b.RequestsPerDay <= 0 && b.TokensPerDay <= 0 && b.MoneyPerDay <= 0 {
		return nil
	}
	if g.usage == nil {
		return errors.New("llm: budget set but no usage counter")
	}
	now := g.now().UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	reqs, toks, err := g.usage.UsageSince(ctx, day)
	if err != nil {
		return fmt.Errorf("llm: read usage for budget: %w", err)
	}
	reset := day.AddDate(0, 0, 1)
	if b.RequestsPerDay > 0 && reqs >= b.RequestsPerDay {
		return &BudgetError{Resource: "request", Limit: b.RequestsPerDay, Used: reqs, ResetAt: reset}
	}
	if b.TokensPerDay > 0 && toks >= b.TokensPerDay {
		return &BudgetError{Resource: "token", Limit: b.TokensPerDay, Used: toks, ResetAt: reset}
	}
	if b.MoneyPerDay > 0 {
		cc, ok := g.usage.(CostCounter)
		if !ok {
			return errors.New("llm: money budget set but the usage counter cannot count costs")
		}
		spent, err := cc.CostSince(ctx, day)
		if err != nil {
			return fmt.Errorf("llm: read cost for budget: %w", err)
		}
		if spent >= b.MoneyPerDay {
			return &BudgetError{Resource: ResourceMoney, LimitNanos: b.MoneyPerDay, UsedNanos: spent, ResetAt: reset}
		}
	}
	return nil
}

// ResourceMoney is the BudgetError.Resource of the money budget.
const ResourceMoney = "money"

// FormatMoney renders nano-units as an amount with cents, or with more
// digits when it is below a cent and not zero ("0.0042").
func FormatMoney(nanos int64) string {
	v := float64(nanos) / NanosPerUnit
	if nanos != 0 && math.Abs(v) < 0.01 {
		return strconv.FormatFloat(v, 'f', 4, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// BudgetError reports an exhausted daily budget.
type BudgetError struct {
	Resource string    // "request", "token" or ResourceMoney
	Limit    int       // the daily limit (requests, tokens)
	Used     int       // usage recorded today (requests, tokens)
	ResetAt  time.Time // next 00:00 UTC
	// LimitNanos and UsedNanos are Limit and Used of the money budget.
	LimitNanos, UsedNanos int64
}

func (e *BudgetError) Error() string {
	if e.Resource == ResourceMoney {
		return fmt.Sprintf("llm: daily money budget exhausted (%s of %s spent, resets %s)",
			FormatMoney(e.UsedNanos), FormatMoney(e.LimitNanos), e.ResetAt.Format(time.RFC3339))
	}
	return fmt.Sprintf("llm: daily %s budget exhausted (%d of %d used, resets %s)",
		e.Resource, e.Used, e.Limit, e.ResetAt.Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrBudgetExhausted) true.
func (e *BudgetError) Is(target error) bool { return target == ErrBudgetExhausted }

// UserMessage is a sentence fit for the end user.
func (e *BudgetError) UserMessage() string {
	if e.Resource == ResourceMoney {
		return fmt.Sprintf("The daily LLM spending budget (%s) is used up; it resets at 00:00 UTC.",
			FormatMoney(e.LimitNanos))
	}
	return fmt.Sprintf("The daily LLM %s budget (%d %ss) is used up; it resets at 00:00 UTC.",
		e.Resource, e.Limit, e.Resource)
}
