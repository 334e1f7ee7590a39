package llm

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/airlockhq/airlock/secure/redact"
)

// Manager keeps a Gateway's client and budget in step with settings that
// change at run time (provider, base URL, model, key, budgets): a change
// applies from the next model call, without a restart. While no model is
// set, the gateway has no client and the assistant says so. It is safe for
// concurrent use.
type Manager struct {
	gateway  *Gateway
	redactor *redact.Holder // every client's outbound redactor
	logger   *slog.Logger

	// hc is shared by every client the manager makes: its pool keeps a
	// connection per call running at once (net/http's default keeps two
	// per host, so a busy assistant would open a new TLS connection for
	// most calls).
	hc *http.Client

	mu      sync.Mutex
	applied *Config // the client's configuration; nil before the first Apply
}

// maxIdlePerHost is how many idle connections to the provider are kept:
// enough for the worker's default task cap (256). They are let go after
// idleConnTimeout without a call.
const (
	maxIdlePerHost  = 256
	idleConnTimeout = 30 * time.Second
)

// NewManager returns a Manager of g. The clients it makes pass every
// request body through r (nil: the shape detectors) and log to logger (nil:
// nowhere).
func NewManager(g *Gateway, r *redact.Holder, logger *slog.Logger) *Manager {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost, tr.IdleConnTimeout = maxIdlePerHost, maxIdlePerHost, idleConnTimeout
	return &Manager{gateway: g, redactor: r, logger: logger, hc: &http.Client{Transport: tr}}
}

// Gateway returns the managed gateway.
func (m *Manager) Gateway() *Gateway { return m.gateway }

// Apply sets the budget, and rebuilds the client when c differs from the
// configuration last applied. A c without a model unconfigures the
// gateway. An invalid c leaves the previous client in place.
func (m *Manager) Apply(c Config, b Budget) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gateway.SetBudget(b)
	if m.applied != nil && *m.applied == c {
		return nil
	}
	first := m.applied == nil
	if c.Model == "" {
		m.gateway.SetClient(nil)
		m.applied = &c
		m.logger.Warn("no LLM model configured; chat will answer that the assistant is not set up")
		return nil
	}
	client, err := m.client(c)
	if err != nil {
		return err
	}
	m.gateway.SetClient(client)
	m.applied = &c
	if !first {
		m.logger.Info("LLM settings changed; the next model call uses them", "provider", c.Provider, "model", c.Model)
	}
	return nil
}

// client makes a provider client whose every request body passes the
// current redactor.
func (m *Manager) client(c Config) (*Client, error) {
	return New(c, m.hc, m.redactor, m.logger)
}

// Test sends one tiny request with c (an empty APIKey: the key last
// applied), for the settings page's "test connection" button. It uses no
// budget and its error text is the client's, which never holds the key,
// redacted.
func (m *Manager) Test(ctx context.Context, c Config) error {
	if c.Model == "" {
		return errors.New("no model is set")
	}
	if c.APIKey == "" {
		m.mu.Lock()
		if m.applied != nil {
			c.APIKey = m.applied.APIKey
		}
		m.mu.Unlock()
	}
	c.MaxTokens = 16
	client, err := m.client(c)
	if err != nil {
		return err
	}
	_, err = client.Complete(ctx, Request{System: "This is a connection test.",
		Messages: []Message{{Role: RoleUser, Content: "Reply with the word OK."}}})
	if err != nil {
		return errors.New(m.redactor.Load().String(err.Error()))
	}
	return nil
}
