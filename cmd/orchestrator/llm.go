package main

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/airlockhq/airlock/orchestrator/config"
	"github.com/airlockhq/airlock/orchestrator/llm"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/redact"
)

// newGateway builds the LLM gateway, or returns nil when no model is
// configured (the assistant then tells users so).
func newGateway(cfg config.Config, key string, st *store.Store, h *redact.Holder, logger *slog.Logger) (*llm.Gateway, error) {
	if cfg.LLM.Model == "" {
		logger.Warn("no LLM model configured; chat will answer that the assistant is not set up")
		return nil, nil
	}
	client, err := newLLMClient(cfg, key, h, logger)
	if err != nil {
		return nil, err
	}
	return llm.NewGateway(client, llm.Budget{RequestsPerDay: cfg.LLM.RequestsPerDay, TokensPerDay: int(cfg.LLM.TokensPerDay)},
		st, time.Now), nil
}

// newLLMClient makes a provider client whose every request body passes
// the current redactor.
func newLLMClient(cfg config.Config, key string, h *redact.Holder, logger *slog.Logger) (*llm.Client, error) {
	client, err := llm.New(llm.Config{
		Provider: cfg.LLM.Provider, BaseURL: cfg.LLM.BaseURL, Model: cfg.LLM.Model, APIKey: key,
		MaxTokens: cfg.LLM.MaxTokens, Timeout: cfg.LLM.Timeout, MaxRetries: cfg.LLM.MaxRetries,
	}, &http.Client{}, logger)
	if err != nil {
		return nil, err
	}
	client.SetRedactor(func(b []byte) []byte { return h.Load().Bytes(b) })
	return client, nil
}
