package config

import (
	"fmt"
	"log/slog"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/airlockhq/airlock/secure/redact"
)

// parseLevel maps a log level name (any case) to slog.
func parseLevel(s string) (slog.Level, bool) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, true
	case "info", "":
		return slog.LevelInfo, true
	case "warn", "warning":
		return slog.LevelWarn, true
	case "error":
		return slog.LevelError, true
	}
	return slog.LevelInfo, false
}

// SlogLevel returns the configured level (info if unset or unknown).
func (l LogConfig) SlogLevel() slog.Level {
	lvl, _ := parseLevel(l.Level)
	return lvl
}

// Redacted returns a YAML dump of the configuration that is safe to log or
// show: secrets appear only as "[redacted]" with their source.
func (c Config) Redacted() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# file: %s\n# dev: %t\n", orNone(c.File), c.Dev)
	fmt.Fprintf(&b, "# llm api key: %s\n", secretLine(c.LLMAPIKey, c.LLMAPIKeySource))
	fmt.Fprintf(&b, "# discord token: %s\n", secretLine(c.DiscordToken, c.DiscordTokenSource))
	out, err := yaml.Marshal(c)
	if err != nil {
		fmt.Fprintf(&b, "# (dump failed: %v)\n", err)
		return b.String()
	}
	b.Write(out)
	return b.String()
}

// LogValue implements slog.LogValuer with the settings that matter at
// startup; secrets are shown as set or not, never their value.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("file", orNone(c.File)),
		slog.Bool("dev", c.Dev),
		slog.String("data_dir", c.DataDir),
		slog.String("http_addr", c.HTTPAddr),
		slog.String("socket", c.Socket),
		slog.Int("worker_uid", c.WorkerUID),
		slog.String("llm_provider", c.LLM.Provider),
		slog.String("llm_model", c.LLM.Model),
		slog.String("llm_base_url", c.LLM.BaseURL),
		slog.String("llm_api_key", secretLine(c.LLMAPIKey, c.LLMAPIKeySource)),
		slog.String("discord_token", secretLine(c.DiscordToken, c.DiscordTokenSource)),
		slog.Any("egress_allow", c.EgressAllow),
		slog.Any("allowed_hosts", c.HTTP.AllowedHosts),
	)
}

func secretLine(s Secret, source string) string {
	if !s.IsSet() {
		return "not set"
	}
	return redact.Masked + " (" + source + ")"
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
