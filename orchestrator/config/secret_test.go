package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestSecretsNeverRendered(t *testing.T) {
	const llmKey, discord = "sk-live-SUPERSECRET", "DISCORD.TOKEN.VALUE"
	cfg, _, err := loadYAML(t, "llm:\n  model: m\n", map[string]string{
		"AIRLOCK_LLM_API_KEY": llmKey, "DISCORD_TOKEN": discord})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LLMAPIKey.Reveal() != llmKey || cfg.DiscordToken.Reveal() != discord {
		t.Fatal("secrets not loaded")
	}
	jsonDump, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	yamlDump, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logBuf, nil))
	logger.Info("config", "cfg", cfg, "key", cfg.LLMAPIKey, "ptr", &cfg)
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("secret", "key", cfg.LLMAPIKey)
	var fmtDump strings.Builder
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%X", "%q", "%10s"} {
		for _, arg := range []any{cfg, &cfg, cfg.LLMAPIKey, cfg.DiscordToken, []Secret{cfg.LLMAPIKey}} {
			fmt.Fprintf(&fmtDump, verb+"\n", arg)
		}
	}
	dumps := map[string]string{
		"fmt":      fmtDump.String(),
		"json":     string(jsonDump),
		"yaml":     string(yamlDump),
		"redacted": cfg.Redacted(),
		"slog":     logBuf.String(),
	}
	for name, d := range dumps {
		for _, s := range []string{llmKey, discord, "SUPERSECRET", fmt.Sprintf("%x", llmKey)} {
			if strings.Contains(d, s) {
				t.Errorf("%s dump reveals a secret: %s", name, d)
			}
		}
		if name != "yaml" && !strings.Contains(d, "[redacted]") {
			t.Errorf("%s dump lacks [redacted]: %s", name, d)
		}
	}
	if !strings.Contains(cfg.Redacted(), "env AIRLOCK_LLM_API_KEY") {
		t.Errorf("Redacted() does not name the key's source:\n%s", cfg.Redacted())
	}
}
