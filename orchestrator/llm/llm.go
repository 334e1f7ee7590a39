// Package llm is Airlock's LLM gateway: the only code that holds the LLM API
// key and talks to the provider. It turns a provider-neutral
// Request into an Anthropic Messages or OpenAI Chat Completions
// call, whole (Complete) or streamed as server-sent events with the text
// passed on as it arrives (CompleteStream), retries transient failures
// with backoff, and enforces daily request, token and money budgets (Gateway). It knows nothing about MCP or storage:
// recording usage is the caller's job. Anthropic requests carry prompt
// cache breakpoints (markCache); usage reports cache reads and writes, and
// a price table (Price, Prices) turns usage into cost.
//
// Invariants:
//   - The API key is sent only in the provider's auth header. It never
//     appears in an error string (every error text and every provider
//     message is scrubbed of it) nor in any rendering of Config or Client.
//   - Every request body passes the outbound redactor New is given (the
//     shape detectors when that is nil).
//     Tool-call arguments are re-encoded in plain JSON first (no \uXXXX
//     escape of a printable character), so the redactor sees what the
//     provider will decode.
//   - Response bodies are read size-capped, streamed ones in total;
//     provider error bodies more so, and only a short, sanitised message
//     is kept.
//   - A failed call is retried only while nothing of its answer has been
//     handed on: a stream that breaks after its first text is an error.
//   - A Gateway checks the budget before any provider call.
package llm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/airlockhq/airlock/internal/backoff"
	"github.com/airlockhq/airlock/secure/redact"
)

// Sentinel errors.
var (
	// ErrInvalidConfig wraps every configuration error from New.
	ErrInvalidConfig = errors.New("invalid config")
	// ErrNotConfigured is returned by a Gateway that has no Client.
	ErrNotConfigured = errors.New("llm: no LLM provider configured")
	// ErrBudgetExhausted is matched (errors.Is) by every *BudgetError.
	ErrBudgetExhausted = errors.New("llm: daily budget exhausted")
)

// Neutral stop reasons in Response.StopReason. Other provider
// values (for example "stop_sequence", "content_filter", "refusal") are
// passed through unchanged.
const (
	StopEndTurn   = "end_turn"
	StopToolUse   = "tool_use"
	StopMaxTokens = "max_tokens"
)

// Client calls one provider with one model and key. It is immutable and
// safe for concurrent use; build a new one to change settings.
type Client struct {
	cfg      Config
	url      string
	hc       *http.Client
	logger   *slog.Logger
	redactor *redact.Holder // outbound redactor; nil: shapes only

	// Injected for tests.
	sleep  func(ctx context.Context, d time.Duration) error
	jitter func(ceiling time.Duration) time.Duration
	now    func() time.Time
}

// New validates cfg, applies defaults and returns a Client. A nil hc means
// a fresh http.Client (per-attempt timeouts come from cfg.Timeout). Every
// request body passes r's current redactor before it leaves; a nil r
// applies the shape detectors. A nil logger discards logs.
func New(cfg Config, hc *http.Client, r *redact.Holder, logger *slog.Logger) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	u, err := endpoint(cfg.Provider, cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if hc == nil {
		hc = &http.Client{}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Client{cfg: cfg, url: u, hc: hc, logger: logger, redactor: r,
		sleep: backoff.Sleep, jitter: backoff.FullJitter, now: time.Now}, nil
}

// Provider returns the provider name.
func (c *Client) Provider() string { return c.cfg.Provider }

// Model returns the model name.
func (c *Client) Model() string { return c.cfg.Model }

// Config returns the effective config, defaults applied. It still holds the
// key; its renderings redact it.
func (c *Client) Config() Config { return c.cfg }

// String describes the client without its key.
func (c *Client) String() string {
	return fmt.Sprintf("llm.Client{%s %s at %s}", c.cfg.Provider, c.cfg.Model, c.url)
}

// Format implements fmt.Formatter so that no verb prints the key.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// Complete sends req to the provider and returns the assistant message.
// HTTP failures are *APIError (errors.As); transient ones are retried first.
//
// Tool call arguments in the response are normalised so that they are
// always valid JSON: empty becomes {}, valid JSON is kept as sent, and text
// that is not valid JSON is kept as a JSON string holding the raw text, so
// the caller's decode into an argument struct fails with a clear error.
func (c *Client) Complete(ctx context.Context, req Request) (Response, error) {
	return c.complete(ctx, req, nil)
}

// CompleteStream is Complete with the answer streamed: onText receives
// each piece of the reply text as it arrives (in order, never empty; tool
// calls are not passed on), and the returned response is the one Complete
// would return for the same answer. Transient failures are retried as by
// Complete only while onText has received nothing: once text has gone out,
// a failure is returned. An error event inside the stream is an *APIError
// with Stream set. A server that ignores the stream request and answers
// with plain JSON is decoded whole and its text passed to onText at once.
//
// onText runs on the calling goroutine and should return quickly: the
// per-attempt timeout (Config.Timeout) bounds the whole stream. nil means
// discard.
func (c *Client) CompleteStream(ctx context.Context, req Request, onText func(delta string)) (Response, error) {
	if onText == nil {
		onText = func(string) {}
	}
	return c.complete(ctx, req, onText)
}

// complete makes the call, streamed when onText is not nil.
func (c *Client) complete(ctx context.Context, req Request, onText func(string)) (Response, error) {
	if len(req.Messages) == 0 {
		return Response{}, errors.New("llm: request has no messages")
	}
	start := c.now()
	var resp Response
	var err error
	if c.cfg.Provider == ProviderAnthropic {
		resp, err = c.completeAnthropic(ctx, req, onText)
	} else {
		resp, err = c.completeOpenAI(ctx, req, onText)
	}
	if err != nil {
		return Response{}, c.scrubErr(err)
	}
	resp.Usage = resp.Usage.sane()
	c.logger.DebugContext(ctx, "llm call done", "provider", c.cfg.Provider, "model", c.cfg.Model,
		"stream", onText != nil, "input_tokens", resp.Usage.InputTokens, "output_tokens", resp.Usage.OutputTokens,
		"tool_calls", len(resp.Message.ToolCalls), "stop_reason", resp.StopReason,
		"duration", c.now().Sub(start))
	return resp, nil
}

// scrub removes the API key from s.
func (c *Client) scrub(s string) string {
	if c.cfg.APIKey == "" {
		return s
	}
	return strings.ReplaceAll(s, c.cfg.APIKey, redact.Masked)
}

// scrubErr guarantees that err's text does not contain the key.
func (c *Client) scrubErr(err error) error {
	msg := err.Error()
	if clean := c.scrub(msg); clean != msg {
		return &scrubbedError{msg: clean, err: err}
	}
	return err
}

// scrubbedError replaces the text of an error chain and keeps it for
// errors.Is and errors.As.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }
