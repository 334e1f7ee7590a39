package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

const baseYAML = `http_addr: 127.0.0.1:9000
worker_uid: 3000
llm:
  model: from-yaml
  requests_per_day: 10
agent:
  task_timeout: 1m
egress_allow: [yaml.example]
`

func TestEnvBeatsYAML(t *testing.T) {
	cfg, _, err := loadYAML(t, baseYAML, map[string]string{
		"AIRLOCK_HTTP_ADDR":            "0.0.0.0:8081",
		"AIRLOCK_WORKER_UID":           "4000",
		"AIRLOCK_LLM_MODEL":            "from-env",
		"AIRLOCK_LLM_PROVIDER":         "anthropic",
		"AIRLOCK_LLM_BASE_URL":         "http://127.0.0.1:11434/v1",
		"AIRLOCK_LLM_REQUESTS_PER_DAY": "20",
		"AIRLOCK_LLM_TOKENS_PER_DAY":   "30",
		"AIRLOCK_AGENT_MAX_ROUNDS":     "5",
		"AIRLOCK_AGENT_TASK_TIMEOUT":   "2m30s",
		"AIRLOCK_EGRESS_ALLOW":         " a.example, 10.1.0.0/16 ,,192.168.0.7",
		"AIRLOCK_DATA_DIR":             "/srv/env",
		"AIRLOCK_SOCKET":               "/run/env.sock",
		"AIRLOCK_MASTER_KEY_FILE":      "/run/secrets/mk",
		"AIRLOCK_LOG_LEVEL":            "warn",
		"AIRLOCK_ALLOWED_HOSTS":        "airlock.example.org, 192.168.1.20",
	})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"http_addr", cfg.HTTPAddr, "0.0.0.0:8081"},
		{"worker_uid", cfg.WorkerUID, 4000},
		{"model", cfg.LLM.Model, "from-env"},
		{"provider", cfg.LLM.Provider, "anthropic"},
		{"base_url", cfg.LLM.BaseURL, "http://127.0.0.1:11434/v1"},
		{"requests", cfg.LLM.RequestsPerDay, 20},
		{"tokens", cfg.LLM.TokensPerDay, int64(30)},
		{"rounds", cfg.Agent.MaxRounds, 5},
		{"timeout", cfg.Agent.TaskTimeout, 150 * time.Second},
		{"egress", strings.Join(cfg.EgressAllow, " "), "a.example 10.1.0.0/16 192.168.0.7"},
		{"data_dir", cfg.DataDir, "/srv/env"},
		{"socket", cfg.Socket, "/run/env.sock"},
		{"master key", cfg.MasterKeyFile, "/run/secrets/mk"},
		{"log level", cfg.Log.Level, "warn"},
		{"allowed hosts", strings.Join(cfg.HTTP.AllowedHosts, " "), "airlock.example.org 192.168.1.20"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	for _, name := range []string{"AIRLOCK_DATA_DIR", "AIRLOCK_EGRESS_ALLOW", "AIRLOCK_AGENT_TASK_TIMEOUT", "AIRLOCK_ALLOWED_HOSTS"} {
		if !slices.Contains(EnvNames(), name) {
			t.Errorf("EnvNames lacks %s", name)
		}
	}
}

func TestBadEnv(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"AIRLOCK_WORKER_UID": "abc"}, `config: AIRLOCK_WORKER_UID: not a number: "abc"`},
		{map[string]string{"AIRLOCK_WORKER_UID": "-3"}, "config: AIRLOCK_WORKER_UID: must not be negative, got -3"},
		{map[string]string{"AIRLOCK_AGENT_TASK_TIMEOUT": "5 minutes"}, `config: AIRLOCK_AGENT_TASK_TIMEOUT: invalid duration "5 minutes"`},
		{map[string]string{"AIRLOCK_AGENT_MAX_ROUNDS": "0"}, "config: AIRLOCK_AGENT_MAX_ROUNDS: must be positive"},
		{map[string]string{"AIRLOCK_LLM_TOKENS_PER_DAY": "1e6"}, `config: AIRLOCK_LLM_TOKENS_PER_DAY: not a number: "1e6"`},
		{map[string]string{"AIRLOCK_LLM_REQUESTS_PER_DAY": "many"}, `config: AIRLOCK_LLM_REQUESTS_PER_DAY: not a number`},
		{map[string]string{"AIRLOCK_LLM_PROVIDER": "gemini"}, `config: AIRLOCK_LLM_PROVIDER: must be "anthropic" or "openai", got "gemini"`},
		{map[string]string{"AIRLOCK_EGRESS_ALLOW": "ok.example,10.0.0.0/33"}, `config: AIRLOCK_EGRESS_ALLOW: entry 1 "10.0.0.0/33"`},
		{map[string]string{"AIRLOCK_EGRESS_ALLOW": "*.example.com"}, `config: AIRLOCK_EGRESS_ALLOW: entry 0 "*.example.com"`},
		{map[string]string{"AIRLOCK_HTTP_ADDR": "nonsense"}, `config: AIRLOCK_HTTP_ADDR: want host:port`},
		{map[string]string{"AIRLOCK_LOG_LEVEL": "verbose"}, `config: AIRLOCK_LOG_LEVEL: must be`},
		{map[string]string{"AIRLOCK_ALLOWED_HOSTS": "ok.example,https://airlock.example.org"}, `config: AIRLOCK_ALLOWED_HOSTS: entry 1 "https://airlock.example.org" is not a host name`},
		{map[string]string{"AIRLOCK_ALLOWED_HOSTS": "airlock.example.org:8443"}, `config: AIRLOCK_ALLOWED_HOSTS: entry 0`},
		{map[string]string{"AIRLOCK_LLM_BASE_URL": "localhost:11434"}, `config: AIRLOCK_LLM_BASE_URL: want an http:// or https:// URL`},
	}
	for _, tt := range tests {
		_, _, err := loadYAML(t, baseYAML, tt.env)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("env %v: error %v, want %q", tt.env, err, tt.want)
		}
	}
}
