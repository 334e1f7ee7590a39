package secrets

import (
	"fmt"

	"github.com/airlockhq/airlock/secure/vault"
)

// AddEnv registers a value the environment provides for name. source says
// where it came from, for people: a variable ("AIRLOCK_LLM_API_KEY") or a
// file ("AIRLOCK_LLM_API_KEY_FILE /run/secrets/llm"); the origin shown is
// "environment (<source>)". From then on the value wins over the vault's
// for Get and Lookup, is listed, and is included in Values, so it is
// redacted. An empty value means "not provided" and does nothing. Name and
// value must pass vault.ValidName and vault.ValidValue.
func (v *Vault) AddEnv(name, source, value string) error {
	if value == "" {
		return nil
	}
	if err := vault.ValidName(name); err != nil {
		return fmt.Errorf("secrets: environment secret from %s: %w", source, err)
	}
	if err := vault.ValidValue(value); err != nil {
		return fmt.Errorf("secrets: environment secret %s from %s: %w", name, source, err)
	}
	v.mu.Lock()
	v.env[name] = envSecret{value: value, source: source, origin: "environment (" + source + ")"}
	v.mu.Unlock()
	v.notify()
	return nil
}

// envSecret returns the environment's value for name, if any.
func (v *Vault) envSecret(name string) (envSecret, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	e, ok := v.env[name]
	return e, ok
}
