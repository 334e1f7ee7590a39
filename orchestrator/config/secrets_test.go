package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestSecretSources(t *testing.T) {
	dir := t.TempDir()
	keyFile := writeFile(t, dir, "key", "sk-file\n", 0o400)
	crlfFile := writeFile(t, dir, "crlf", "sk-crlf\r\n", 0o400)
	empty := writeFile(t, dir, "empty", "\n", 0o400)
	yamlKey := writeFile(t, dir, "yaml.key", "sk-yaml", 0o400)
	withKeyFile := "llm:\n  api_key_file: yaml.key\n"
	tests := []struct {
		name, yaml string
		env        map[string]string
		key, src   string
		discord    string
		errWant    string
	}{
		{name: "none", key: "", src: ""},
		{name: "env", env: map[string]string{"AIRLOCK_LLM_API_KEY": "sk-env"}, key: "sk-env", src: "env AIRLOCK_LLM_API_KEY"},
		{name: "env file", env: map[string]string{"AIRLOCK_LLM_API_KEY_FILE": keyFile}, key: "sk-file", src: "file " + keyFile},
		{name: "crlf trimmed", env: map[string]string{"AIRLOCK_LLM_API_KEY_FILE": crlfFile}, key: "sk-crlf", src: "file " + crlfFile},
		{name: "both set", env: map[string]string{"AIRLOCK_LLM_API_KEY": "sk-env", "AIRLOCK_LLM_API_KEY_FILE": keyFile},
			errWant: "AIRLOCK_LLM_API_KEY and AIRLOCK_LLM_API_KEY_FILE are both set"},
		{name: "yaml key file", yaml: withKeyFile, key: "sk-yaml", src: "file " + yamlKey},
		{name: "env beats yaml key file", yaml: withKeyFile, env: map[string]string{"AIRLOCK_LLM_API_KEY": "sk-env"},
			key: "sk-env", src: "env AIRLOCK_LLM_API_KEY"},
		{name: "yaml key file beats provider var", yaml: withKeyFile, env: map[string]string{"OPENAI_API_KEY": "sk-openai"},
			key: "sk-yaml", src: "file " + yamlKey},
		{name: "openai var", env: map[string]string{"OPENAI_API_KEY": "sk-openai", "ANTHROPIC_API_KEY": "sk-ant"},
			key: "sk-openai", src: "env OPENAI_API_KEY"},
		{name: "anthropic var", yaml: "llm:\n  provider: anthropic\n",
			env: map[string]string{"OPENAI_API_KEY": "sk-openai", "ANTHROPIC_API_KEY": "sk-ant"}, key: "sk-ant", src: "env ANTHROPIC_API_KEY"},
		{name: "anthropic var via provider env", env: map[string]string{"AIRLOCK_LLM_PROVIDER": "anthropic", "ANTHROPIC_API_KEY_FILE": keyFile},
			key: "sk-file", src: "file " + keyFile},
		{name: "provider var both", env: map[string]string{"OPENAI_API_KEY": "a", "OPENAI_API_KEY_FILE": keyFile},
			errWant: "OPENAI_API_KEY and OPENAI_API_KEY_FILE are both set"},
		{name: "missing key file", env: map[string]string{"AIRLOCK_LLM_API_KEY_FILE": filepath.Join(dir, "nope")},
			errWant: "config: AIRLOCK_LLM_API_KEY_FILE: open secret file " + filepath.Join(dir, "nope")},
		{name: "empty key file", env: map[string]string{"AIRLOCK_LLM_API_KEY_FILE": empty}, errWant: "is empty"},
		{name: "missing yaml key file", yaml: "llm:\n  api_key_file: /nonexistent/k\n", errWant: "config: llm.api_key_file: open secret file"},
		{name: "discord env", env: map[string]string{"DISCORD_TOKEN": "dt-env"}, discord: "dt-env"},
		{name: "discord file", env: map[string]string{"DISCORD_TOKEN_FILE": keyFile}, discord: "sk-file"},
		{name: "discord both", env: map[string]string{"DISCORD_TOKEN": "x", "DISCORD_TOKEN_FILE": keyFile},
			errWant: "DISCORD_TOKEN and DISCORD_TOKEN_FILE are both set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, dir, "config.yaml", tt.yaml, 0o600)
			cfg, err := Load(p, true, envMap(tt.env), false)
			if tt.errWant != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errWant) {
					t.Fatalf("error %v, want %q", err, tt.errWant)
				}
				for _, v := range []string{"sk-env", "sk-file", "dt-env"} {
					if strings.Contains(err.Error(), v) {
						t.Fatalf("error %q reveals a secret", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.LLMAPIKey.Reveal() != tt.key || cfg.LLMAPIKeySource != tt.src {
				t.Errorf("LLM key %q from %q, want %q from %q", cfg.LLMAPIKey.Reveal(), cfg.LLMAPIKeySource, tt.key, tt.src)
			}
			if cfg.DiscordToken.Reveal() != tt.discord {
				t.Errorf("Discord token %q, want %q", cfg.DiscordToken.Reveal(), tt.discord)
			}
		})
	}
}
