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
// The budget holds under concurrency because every call is reserved before
// it reaches the provider and settled after its usage is recorded
// (Reserve, Reservation.Settle): admission reads today's recorded usage and
// adds the reservations of the calls in flight, under one lock.
//
//   - Requests: a call reserves one request, and is admitted while the
//     requests recorded today plus those in flight stay below
//     RequestsPerDay. So no more calls than the budget reach the provider
//     in a day, however many run at once. (A call that fails is settled
//     unrecorded: it gives its request back.)
//
//   - Tokens: a call reserves its estimate (EstimateTokens: a quarter of the
//     request's bytes, plus the client's output cap MaxTokens), and is
//     admitted while the tokens recorded today plus the reservations in
//     flight are below TokensPerDay. So the day ends over the budget by at
//     most one call's reservation (as when calls run one at a time, where
//     the last call admitted may cross it), plus what the input estimate
//     undercounts.
//
//   - Money: a call reserves its token estimate priced at the current
//     model's prices (the output cap as output, the rest as input; nothing
//     when the price is unknown), and is admitted while today's recorded
//     cost plus the reservations in flight stay below MoneyPerDay; a lone
//     call is always admitted while the recorded cost is under it.
//
// A call that would be refused only because of reservations in flight, not
// of recorded usage, waits for one of them to settle instead of failing.
type Gateway struct {
	client atomic.Pointer[Client]
	usage  UsageCounter
	now    func() time.Time

	mu       sync.Mutex
	budget   Budget
	prices   Prices
	inflight int           // reserved calls not yet settled
	reserved int           // their token reservations
	nanos    int64         // their money reservations (known prices only)
	settled  chan struct{} // closed and replaced when a reservation settles
}

// NewGateway returns a Gateway. c may be nil until a provider is
// configured (Complete then fails with ErrNotConfigured); now nil means
// time.Now. u may be nil only if b is unlimited.
func NewGateway(c *Client, b Budget, u UsageCounter, now func() time.Time) *Gateway {
	if now == nil {
		now = time.Now
	}
	g := &Gateway{usage: u, now: now, budget: b, settled: make(chan struct{})}
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

// Complete reserves a call under today's budget (Reserve) and, if some is
// left, calls the provider; the reservation is settled when it returns.
// An exhausted budget is a *BudgetError (errors.Is ErrBudgetExhausted) and
// no provider call is made. A caller that records the usage itself after
// the call should use Reserve, and settle after recording, so that no
// other call is admitted in between on stale usage.
func (g *Gateway) Complete(ctx context.Context, req Request) (Response, error) {
	r, err := g.Reserve(ctx, req)
	if err != nil {
		return Response{}, err
	}
	defer r.Settle()
	return r.Complete(ctx, req)
}

// CompleteStream is Complete with the answer streamed to onText (see
// Client.CompleteStream), after the same budget check.
func (g *Gateway) CompleteStream(ctx context.Context, req Request, onText func(delta string)) (Response, error) {
	r, err := g.Reserve(ctx, req)
	if err != nil {
		return Response{}, err
	}
	defer r.Settle()
	return r.CompleteStream(ctx, req, onText)
}

// Reservation is one admitted model call. Make the call with its Complete
// or CompleteStream, record its usage, then Settle.
type Reservation struct {
	g      *Gateway
	c      *Client
	tokens int
	nanos  int64
	once   sync.Once
}

// Complete calls the provider (Client.Complete) on the client current
// when the call was reserved.
func (r *Reservation) Complete(ctx context.Context, req Request) (Response, error) {
	return r.c.Complete(ctx, req)
}

// CompleteStream is Client.CompleteStream on the reserved client.
func (r *Reservation) CompleteStream(ctx context.Context, req Request, onText func(delta string)) (Response, error) {
	return r.c.CompleteStream(ctx, req, onText)
}

// Settle ends the reservation. Call it once the call's usage is recorded
// where the UsageCounter reads it (or the call failed); later calls do
// nothing.
func (r *Reservation) Settle() {
	r.once.Do(func() {
		g := r.g
		g.mu.Lock()
		defer g.mu.Unlock()
		g.inflight--
		g.reserved -= r.tokens
		g.nanos -= r.nanos
		close(g.settled)
		g.settled = make(chan struct{})
	})
}

// InFlight returns the model calls reserved and not yet settled, and the
// tokens they reserve.
func (g *Gateway) InFlight() (calls, tokens int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.inflight, g.reserved
}

// EstimateTokens is the token reservation of a call (see Gateway): a
// quarter of the bytes of its system prompt, messages, tool calls and tool
// definitions, four per message, plus maxOutput.
func EstimateTokens(req Request, maxOutput int) int {
	n := len(req.System)
	for _, m := range req.Messages {
		n += len(m.Content) + len(m.ToolCallID) + len(m.ToolName) + 16
		for _, c := range m.ToolCalls {
			n += len(c.ID) + len(c.Name) + len(c.Arguments)
		}
	}
	for _, t := range req.Tools {
		n += len(t.Name) + len(t.Description) + len(t.InputSchema)
	}
	return (n+3)/4 + max(maxOutput, 0)
}

// Reserve admits one call under today's budget and returns its
// reservation, which the caller must Settle. It fails with
// ErrNotConfigured without a client, with a *BudgetError when today's
// recorded usage has reached a limit, and with the UsageCounter's error
// (fail closed). While recorded usage is under the limits but the calls in
// flight reserve the rest, it waits for one to settle, or for ctx.
func (g *Gateway) Reserve(ctx context.Context, req Request) (*Reservation, error) {
	c := g.client.Load()
	if c == nil {
		return nil, ErrNotConfigured
	}
	r := &Reservation{g: g, c: c, tokens: EstimateTokens(req, c.Config().MaxTokens)}
	for {
		wait, err := g.admit(ctx, r)
		if err != nil {
			return nil, err
		}
		if wait == nil {
			return r, nil
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// admit reserves r if the budget allows it now. Otherwise it returns the
// error refusing it, or the channel to wait on before trying again.
func (g *Gateway) admit(ctx context.Context, r *Reservation) (wait <-chan struct{}, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	b := g.budget
	if b.RequestsPerDay > 0 || b.TokensPerDay > 0 || b.MoneyPerDay > 0 {
		if g.usage == nil {
			return nil, errors.New("llm: budget set but no usage counter")
		}
		// Read under g.mu: a call settling meanwhile (after its usage is
		// stored) is then either in this read or still reserved.
		now := g.now().UTC()
		day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		reqs, toks, err := g.usage.UsageSince(ctx, day)
		if err != nil {
			return nil, fmt.Errorf("llm: read usage for budget: %w", err)
		}
		reset := day.AddDate(0, 0, 1)
		if b.RequestsPerDay > 0 && reqs >= b.RequestsPerDay {
			return nil, &BudgetError{Resource: "request", Limit: b.RequestsPerDay, Used: reqs, ResetAt: reset}
		}
		if b.TokensPerDay > 0 && toks >= b.TokensPerDay {
			return nil, &BudgetError{Resource: "token", Limit: b.TokensPerDay, Used: toks, ResetAt: reset}
		}
		var spent int64
		if b.MoneyPerDay > 0 {
			cc, ok := g.usage.(CostCounter)
			if !ok {
				return nil, errors.New("llm: money budget set but the usage counter cannot count costs")
			}
			if spent, err = cc.CostSince(ctx, day); err != nil {
				return nil, fmt.Errorf("llm: read cost for budget: %w", err)
			}
			if spent >= b.MoneyPerDay {
				return nil, &BudgetError{Resource: ResourceMoney, LimitNanos: b.MoneyPerDay, UsedNanos: spent, ResetAt: reset}
			}
		}
		if (b.RequestsPerDay > 0 && reqs+g.inflight >= b.RequestsPerDay) ||
			(b.TokensPerDay > 0 && toks+g.reserved >= b.TokensPerDay) ||
			(b.MoneyPerDay > 0 && g.inflight > 0 && spent+g.nanos >= b.MoneyPerDay) {
			return g.settled, nil
		}
	}
	// The money a call reserves: its token estimate at the current prices,
	// the output cap priced as output and the rest as input.
	out := min(max(r.c.Config().MaxTokens, 0), r.tokens)
	r.nanos, _ = g.prices.Cost(r.c.Model(), Usage{InputTokens: r.tokens - out, OutputTokens: out})
	g.inflight++
	g.reserved += r.tokens
	g.nanos += r.nanos
	return nil, nil
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
