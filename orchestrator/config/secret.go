package config

import "github.com/airlockhq/airlock/secure/redact"

// Secret is a credential value: every rendering (fmt verbs, slog, JSON,
// YAML, text) shows "[redacted]" when it is set and "" when it is not;
// Reveal is the only way to the value.
type Secret = redact.Credential
