package config

import (
	"strings"
	"testing"
)

func TestYAMLErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // substrings; "$FILE" is replaced by the path
		notWant    string
	}{
		{"unknown nested key", "data_dir: /srv\nllm:\n  provider: openai\n  modle: x\n",
			[]string{`config: $FILE line 4: unknown key "llm.modle"`}, ""},
		{"unknown top key", "dta_dir: /x\n", []string{`config: $FILE line 1: unknown key "dta_dir"`}, ""},
		{"unknown key in flow map", "agent: {max_rounds: 3, max_round: 4}\n", []string{`line 1: unknown key "agent.max_round"`}, ""},
		{"inline api key", "llm:\n  api_key: sk-live-123456\n",
			[]string{`$FILE line 2: "llm.api_key": secrets must not be written`, "llm.api_key_file", "AIRLOCK_LLM_API_KEY"}, "sk-live-123456"},
		{"inline discord token", "discord_token: abc.def.ghi\n", []string{`"discord_token"`, "DISCORD_TOKEN_FILE"}, "abc.def.ghi"},
		{"inline master key", "master_key: 00112233\n", []string{"AIRLOCK_MASTER_KEY_FILE"}, "00112233"},
		{"bad duration", "agent:\n  task_timeout: 5 minutes\n",
			[]string{`config: agent.task_timeout: invalid duration "5 minutes"`, "line 2"}, ""},
		{"bare number duration", "llm:\n  timeout: 30\n", []string{`config: llm.timeout: invalid duration "30"`}, ""},
		{"not a number", "worker_uid: abc\n", []string{`config: worker_uid: invalid value "abc", want a whole number`}, ""},
		{"list for mapping", "llm: [a, b]\n", []string{"config: llm: want a mapping"}, ""},
		{"syntax error", "llm: [\n", []string{"config: $FILE: yaml:"}, ""},
		{"duplicate key", "log:\n  level: info\n  level: debug\n", []string{"already defined"}, ""},
		{"provider", "llm:\n  provider: gemini\n", []string{`config: llm.provider: must be "anthropic" or "openai", got "gemini"`}, ""},
		{"negative rounds", "agent:\n  max_rounds: -1\n", []string{"config: agent.max_rounds: must be positive, got -1"}, ""},
		{"zero rounds", "agent:\n  max_rounds: 0\n", []string{"config: agent.max_rounds: must be positive"}, ""},
		{"negative timeout", "agent:\n  task_timeout: -5s\n", []string{`config: agent.task_timeout: must be a positive duration, got "-5s"`}, ""},
		{"negative file cap", "workspace:\n  max_file_bytes: -5\n", []string{"config: workspace.max_file_bytes: must be positive"}, ""},
		{"zero body cap", "http:\n  max_body_bytes: 0\n", []string{"config: http.max_body_bytes: must be positive"}, ""},
		{"zero connections", "http:\n  max_connections: 0\n", []string{"config: http.max_connections: must be positive"}, ""},
		{"zero body timeout", "http:\n  body_read_timeout: 0s\n", []string{`config: http.body_read_timeout: must be a positive duration`}, ""},
		{"allowed host with scheme", "http:\n  allowed_hosts: ['https://a.example']\n",
			[]string{`config: http.allowed_hosts: entry 0 "https://a.example" is not a host name`}, ""},
		{"negative budget", "llm:\n  requests_per_day: -1\n", []string{"config: llm.requests_per_day: must not be negative"}, ""},
		{"negative tokens", "llm:\n  tokens_per_day: -1\n", []string{"config: llm.tokens_per_day: must not be negative"}, ""},
		{"retries", "llm:\n  max_retries: 11\n", []string{"config: llm.max_retries: must be between 0 and 10"}, ""},
		{"max tokens", "llm:\n  max_tokens: 0\n", []string{"config: llm.max_tokens: must be positive"}, ""},
		{"http addr no port", "http_addr: localhost\n", []string{`config: http_addr: want host:port, got "localhost"`}, ""},
		{"http addr bad port", "http_addr: 127.0.0.1:http\n", []string{`config: http_addr: invalid port "http"`}, ""},
		{"http addr bad host", "http_addr: bad_host!:80\n", []string{`config: http_addr: invalid host "bad_host!"`}, ""},
		{"negative uid", "worker_uid: -1\n", []string{"config: worker_uid: must not be negative, got -1"}, ""},
		{"relative data dir is made absolute, socket too long", "socket: /" + strings.Repeat("s", 120) + "\n",
			[]string{"config: socket: path is 121 bytes"}, ""},
		{"base url credentials", "llm:\n  base_url: https://user:hunter2@llm.example.com\n",
			[]string{"config: llm.base_url: must not contain credentials"}, "hunter2"},
		{"base url scheme", "llm:\n  base_url: ftp://llm.example.com\n", []string{"config: llm.base_url: want an http:// or https:// URL"}, ""},
		{"egress", "egress_allow: [ok.example.com, 'bad host', 10.0.0.0/33]\n",
			[]string{`config: egress_allow: entry 1 "bad host"`, `entry 2 "10.0.0.0/33"`}, ""},
		{"log level", "log:\n  level: loud\n", []string{`config: log.level: must be "debug", "info", "warn" or "error", got "loud"`}, ""},
		{"several problems at once", "worker_uid: -1\nagent:\n  max_rounds: 0\n",
			[]string{"worker_uid: must not be negative", "agent.max_rounds: must be positive"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, file, err := loadYAML(t, tt.yaml, nil)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			for _, w := range tt.want {
				if w = strings.ReplaceAll(w, "$FILE", file); !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
			if tt.notWant != "" && strings.Contains(err.Error(), tt.notWant) {
				t.Errorf("error %q reveals %q", err, tt.notWant)
			}
		})
	}
}

func TestYAMLEdgeCasesAccepted(t *testing.T) {
	for name, doc := range map[string]string{
		"empty":                      "",
		"comments only":              "# nothing here\n",
		"null section":               "llm:\nagent:\n  max_rounds:\n",
		"max_tokens is not a secret": "llm:\n  max_tokens: 10\n  tokens_per_day: 5\n",
	} {
		cfg, _, err := loadYAML(t, doc, nil)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if cfg.Agent.MaxRounds != 8 {
			t.Errorf("%s: defaults lost: max_rounds %d", name, cfg.Agent.MaxRounds)
		}
	}
}
