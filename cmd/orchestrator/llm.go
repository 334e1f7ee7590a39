package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/config"
	"github.com/airlockhq/airlock/orchestrator/llm"
	"github.com/airlockhq/airlock/orchestrator/secrets"
	"github.com/airlockhq/airlock/orchestrator/settings"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/redact"
)

// llmManager keeps the LLM gateway's client and budget in step with the
// settings (provider, base URL, model, budgets) and the vault's key: a
// change applies from the next model call, without a restart. While no
// model is set, the gateway has no client and the assistant says so.
type llmManager struct {
	cfg     config.Config // timeouts and retries
	holder  *redact.Holder
	logger  *slog.Logger
	gateway *llm.Gateway

	mu      sync.Mutex
	applied *llm.Config // the client's configuration; nil before the first apply
}

func newLLMManager(cfg config.Config, st *store.Store, h *redact.Holder, logger *slog.Logger) *llmManager {
	return &llmManager{cfg: cfg, holder: h, logger: logger,
		gateway: llm.NewGateway(nil, llm.Budget{}, st, time.Now)}
}

// refresh reads the key from the vault and applies it with conf.
func (m *llmManager) refresh(ctx context.Context, v *secrets.Vault, conf settings.LLM) error {
	key, err := llmKey(ctx, v)
	if err != nil {
		return err
	}
	return m.apply(key, conf)
}

// apply sets the budget, and rebuilds the client when the key or the model
// settings changed.
func (m *llmManager) apply(key string, conf settings.LLM) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gateway.SetBudget(llm.Budget{RequestsPerDay: conf.RequestsPerDay, TokensPerDay: int(conf.TokensPerDay)})
	want := m.config(key, conf)
	if m.applied != nil && *m.applied == want {
		return nil
	}
	first := m.applied == nil
	if conf.Model == "" {
		m.gateway.SetClient(nil)
		m.applied = &want
		m.logger.Warn("no LLM model configured; chat will answer that the assistant is not set up")
		return nil
	}
	client, err := m.client(want)
	if err != nil {
		return err
	}
	m.gateway.SetClient(client)
	m.applied = &want
	if !first {
		m.logger.Info("LLM settings changed; the next model call uses them", "provider", conf.Provider, "model", conf.Model)
	}
	return nil
}

// config is the client configuration of key and conf.
func (m *llmManager) config(key string, conf settings.LLM) llm.Config {
	return llm.Config{Provider: conf.Provider, BaseURL: conf.BaseURL, Model: conf.Model, APIKey: key,
		MaxTokens: conf.MaxTokens, Timeout: m.cfg.LLM.Timeout, MaxRetries: m.cfg.LLM.MaxRetries}
}

// client makes a provider client whose every request body passes the
// current redactor.
func (m *llmManager) client(c llm.Config) (*llm.Client, error) {
	return llm.New(c, &http.Client{}, m.holder, m.logger)
}

// test sends one tiny request with conf and key (empty: the current key),
// for the settings page's "test connection" button. It uses no budget and
// its error text is the client's, which never holds the key, redacted.
func (m *llmManager) test(ctx context.Context, conf settings.LLM, key string) error {
	if conf.Model == "" {
		return errors.New("no model is set")
	}
	if key == "" {
		m.mu.Lock()
		if m.applied != nil {
			key = m.applied.APIKey
		}
		m.mu.Unlock()
	}
	conf.MaxTokens = 16
	client, err := m.client(m.config(key, conf))
	if err != nil {
		return err
	}
	_, err = client.Complete(ctx, tools.LLMRequest{System: "This is a connection test.",
		Messages: []tools.Message{{Role: tools.RoleUser, Content: "Reply with the word OK."}}})
	if err != nil {
		return errors.New(m.holder.Load().String(err.Error()))
	}
	return nil
}

// llmKey returns the LLM key: the environment's, else the vault's, else
// none (local servers need none).
func llmKey(ctx context.Context, v *secrets.Vault) (string, error) {
	key, err := v.Get(ctx, secrets.LLMAPIKey)
	if errors.Is(err, secrets.ErrNotFound) {
		return "", nil
	}
	return key, err
}
