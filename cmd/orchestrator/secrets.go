package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/airlockhq/airlock/orchestrator/config"
	"github.com/airlockhq/airlock/orchestrator/llm"
	"github.com/airlockhq/airlock/orchestrator/secrets"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/redact"
)

// openVault opens the master key (creating it on first start unless an
// explicit key file is configured) and the vault, and registers the
// secrets given in the environment, which win over the vault's.
func openVault(ctx context.Context, cfg config.Config, st *store.Store) (*secrets.Vault, error) {
	sealer, err := secrets.OpenKey(ctx, st, cfg.MasterKeyPath(), cfg.MasterKeyFile == "")
	if err != nil {
		return nil, err
	}
	v, err := secrets.Open(ctx, st, sealer)
	if err != nil {
		return nil, err
	}
	for _, e := range []struct {
		name, source string
		value        config.Secret
	}{
		{secrets.LLMAPIKey, cfg.LLMAPIKeySource, cfg.LLMAPIKey},
		{secrets.DiscordToken, cfg.DiscordTokenSource, cfg.DiscordToken},
	} {
		if err := v.AddEnv(e.name, e.source, e.value.Reveal()); err != nil {
			return nil, fmt.Errorf("%s from %s: %w", e.name, e.source, err)
		}
	}
	return v, nil
}

// rebuildRedactor makes a redactor of every secret the vault knows and
// swaps it in. On error the previous one stays, which still knows every
// secret that existed before.
func rebuildRedactor(ctx context.Context, v *secrets.Vault, h *redact.Holder) error {
	vals, err := v.Values(ctx)
	if err != nil {
		return fmt.Errorf("redactor: read secrets: %w", err)
	}
	list := make([]redact.Secret, len(vals))
	for i, nv := range vals {
		list[i] = redact.Secret{Name: nv.Name, Value: nv.Value}
	}
	r, err := redact.New(list)
	if err != nil {
		return fmt.Errorf("redactor: %w", err)
	}
	h.Store(r)
	return nil
}

// llmKeyWatcher rebuilds the LLM client when the vault's LLM key changes.
type llmKeyWatcher struct {
	mu      sync.Mutex
	cfg     config.Config
	gateway *llm.Gateway
	holder  *redact.Holder
	logger  *slog.Logger
	key     string
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

func (w *llmKeyWatcher) refresh(ctx context.Context, v *secrets.Vault) {
	w.mu.Lock()
	defer w.mu.Unlock()
	key, err := llmKey(ctx, v)
	if err != nil {
		w.logger.Error("reading the LLM key from the vault failed", "err", err)
		return
	}
	if key == w.key || w.gateway == nil {
		return
	}
	client, err := newLLMClient(w.cfg, key, w.holder, w.logger)
	if err != nil {
		w.logger.Error("rebuilding the LLM client failed", "err", err)
		return
	}
	w.gateway.SetClient(client)
	w.key = key
	w.logger.Info("LLM key changed; the next model call uses it")
}
