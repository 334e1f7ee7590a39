package main

import (
	"context"
	"fmt"

	"github.com/airlockhq/airlock/orchestrator/config"
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
