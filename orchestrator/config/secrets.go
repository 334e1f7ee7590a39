package config

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// loadSecrets fills LLMAPIKey and DiscordToken. LLM key precedence:
// AIRLOCK_LLM_API_KEY(_FILE) > llm.api_key_file > the provider's own
// variable (ANTHROPIC_API_KEY or OPENAI_API_KEY, each with _FILE).
func loadSecrets(c *Config, getenv func(string) string) error {
	key, src, err := secretFromEnv(getenv, "AIRLOCK_LLM_API_KEY")
	if err != nil {
		return err
	}
	if key == "" && c.LLM.APIKeyFile != "" {
		v, err := readSecretFile(c.LLM.APIKeyFile)
		if err != nil {
			return fmt.Errorf("config: llm.api_key_file: %w", err)
		}
		key, src = v, "file "+c.LLM.APIKeyFile
	}
	if key == "" {
		if name := providerKeyVar(c.LLM.Provider); name != "" {
			if key, src, err = secretFromEnv(getenv, name); err != nil {
				return err
			}
		}
	}
	c.LLMAPIKey, c.LLMAPIKeySource = key, src
	c.DiscordToken, c.DiscordTokenSource, err = secretFromEnv(getenv, "DISCORD_TOKEN")
	return err
}

// providerKeyVar is the provider's conventional key variable.
func providerKeyVar(provider string) string {
	switch provider {
	case ProviderAnthropic:
		return "ANTHROPIC_API_KEY"
	case ProviderOpenAI:
		return "OPENAI_API_KEY"
	}
	return ""
}

// secretFromEnv reads name or name_FILE (not both) and reports the source.
func secretFromEnv(getenv func(string) string, name string) (Secret, string, error) {
	v, file := getenv(name), getenv(name+"_FILE")
	switch {
	case v != "" && file != "":
		return "", "", fmt.Errorf("config: %s and %s_FILE are both set; set only one", name, name)
	case v != "":
		return Secret(v), "env " + name, nil
	case file != "":
		s, err := readSecretFile(file)
		if err != nil {
			return "", "", fmt.Errorf("config: %s_FILE: %w", name, err)
		}
		return s, "file " + file, nil
	}
	return "", "", nil
}

// readSecretFile reads a secret from path, without its trailing newline.
// Errors name the path, never the content.
func readSecretFile(path string) (Secret, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("open secret file %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return "", fmt.Errorf("read secret file %s: %w", path, err)
	}
	if len(data) > maxFileBytes {
		return "", fmt.Errorf("secret file %s is larger than %d bytes", path, maxFileBytes)
	}
	s := strings.TrimRight(string(data), "\r\n")
	if s == "" {
		return "", fmt.Errorf("secret file %s is empty", path)
	}
	return Secret(s), nil
}
