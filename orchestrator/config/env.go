package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// envVar binds one environment variable to a config key.
type envVar struct {
	name string
	key  string // YAML key path, for validation messages
	set  func(c *Config, v string) error
}

func envString(dst func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *dst(c) = v; return nil }
}

func envInt(dst func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("not a number: %q", v)
		}
		*dst(c) = n
		return nil
	}
}

func envInt64(dst func(*Config) *int64) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return fmt.Errorf("not a number: %q", v)
		}
		*dst(c) = n
		return nil
	}
}

func envDuration(dst func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("invalid duration %q, want e.g. \"30s\" or \"5m\"", v)
		}
		*dst(c) = d
		return nil
	}
}

// envVars returns the non-secret overrides of SPEC 8, plus the limits.
func envVars() []envVar {
	return []envVar{
		{"AIRLOCK_DATA_DIR", "data_dir", envString(func(c *Config) *string { return &c.DataDir })},
		{"AIRLOCK_HTTP_ADDR", "http_addr", envString(func(c *Config) *string { return &c.HTTPAddr })},
		{"AIRLOCK_SOCKET", "socket", envString(func(c *Config) *string { return &c.Socket })},
		{"AIRLOCK_WORKER_UID", "worker_uid", envInt(func(c *Config) *int { return &c.WorkerUID })},
		{"AIRLOCK_MASTER_KEY_FILE", "master_key_file", envString(func(c *Config) *string { return &c.MasterKeyFile })},
		{"AIRLOCK_EGRESS_ALLOW", "egress_allow", func(c *Config, v string) error { c.EgressAllow = splitList(v); return nil }},
		{"AIRLOCK_TRUSTED_PROXIES", "http.trusted_proxies", func(c *Config, v string) error { c.HTTP.TrustedProxies = splitList(v); return nil }},
		{"AIRLOCK_ALLOWED_HOSTS", "http.allowed_hosts", func(c *Config, v string) error { c.HTTP.AllowedHosts = splitList(v); return nil }},
		{"AIRLOCK_LLM_PROVIDER", "llm.provider", envString(func(c *Config) *string { return &c.LLM.Provider })},
		{"AIRLOCK_LLM_BASE_URL", "llm.base_url", envString(func(c *Config) *string { return &c.LLM.BaseURL })},
		{"AIRLOCK_LLM_MODEL", "llm.model", envString(func(c *Config) *string { return &c.LLM.Model })},
		{"AIRLOCK_LLM_REQUESTS_PER_DAY", "llm.requests_per_day", envInt(func(c *Config) *int { return &c.LLM.RequestsPerDay })},
		{"AIRLOCK_LLM_TOKENS_PER_DAY", "llm.tokens_per_day", envInt64(func(c *Config) *int64 { return &c.LLM.TokensPerDay })},
		{"AIRLOCK_AGENT_MAX_ROUNDS", "agent.max_rounds", envInt(func(c *Config) *int { return &c.Agent.MaxRounds })},
		{"AIRLOCK_AGENT_TASK_TIMEOUT", "agent.task_timeout", envDuration(func(c *Config) *time.Duration { return &c.Agent.TaskTimeout })},
		{"AIRLOCK_LOG_LEVEL", "log.level", envString(func(c *Config) *string { return &c.Log.Level })},
		{"AIRLOCK_BACKUP_DIR", "backup.dir", envString(func(c *Config) *string { return &c.Backup.Dir })},
		{"AIRLOCK_BACKUP_PASSPHRASE_FILE", "backup.passphrase_file", envString(func(c *Config) *string { return &c.Backup.PassphraseFile })},
		{"AIRLOCK_BACKUP_RECIPIENT", "backup.recipient", envString(func(c *Config) *string { return &c.Backup.Recipient })},
	}
}

// EnvNames returns the names of the non-secret environment overrides.
func EnvNames() []string {
	names := make([]string, 0, 16)
	for _, e := range envVars() {
		names = append(names, e.name)
	}
	return names
}

// EnvKeys returns each non-secret environment override mapped to the
// configuration key it sets ("AIRLOCK_LLM_MODEL" → "llm.model").
func EnvKeys() map[string]string {
	keys := make(map[string]string, 16)
	for _, e := range envVars() {
		keys[e.name] = e.key
	}
	return keys
}

// applyEnv applies the set (non-empty) variables over c.
func applyEnv(c *Config, getenv func(string) string) error {
	for _, e := range envVars() {
		v := getenv(e.name)
		if v == "" {
			continue
		}
		if err := e.set(c, v); err != nil {
			return fmt.Errorf("config: %s: %w", e.name, err)
		}
		if c.origin == nil {
			c.origin = map[string]string{}
		}
		c.origin[e.key] = e.name
	}
	return nil
}

// splitList splits a comma-separated list, dropping blanks.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
