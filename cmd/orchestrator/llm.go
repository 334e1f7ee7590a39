package main

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/airlockhq/airlock/orchestrator/config"
	"github.com/airlockhq/airlock/orchestrator/llm"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// newGateway builds the LLM gateway, or returns nil when no model is
// configured (the assistant then tells users so).
func newGateway(cfg config.Config, st *store.Store, logger *slog.Logger) (*llm.Gateway, error) {
	if cfg.LLM.Model == "" {
		logger.Warn("no LLM model configured; chat will answer that the assistant is not set up")
		return nil, nil
	}
	client, err := llm.New(llm.Config{
		Provider: cfg.LLM.Provider, BaseURL: cfg.LLM.BaseURL, Model: cfg.LLM.Model, APIKey: cfg.LLMAPIKey.Reveal(),
		MaxTokens: cfg.LLM.MaxTokens, Timeout: cfg.LLM.Timeout, MaxRetries: cfg.LLM.MaxRetries,
	}, &http.Client{}, logger)
	if err != nil {
		return nil, err
	}
	return llm.NewGateway(client, llm.Budget{RequestsPerDay: cfg.LLM.RequestsPerDay, TokensPerDay: int(cfg.LLM.TokensPerDay)},
		st, time.Now), nil
}
