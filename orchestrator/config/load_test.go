package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestContainerDefaults(t *testing.T) {
	cfg, err := Load(filepath.Join(t.TempDir(), "none.yaml"), false, envMap(nil), false)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"data_dir", cfg.DataDir, "/data"},
		{"http_addr", cfg.HTTPAddr, "0.0.0.0:8080"},
		{"socket", cfg.Socket, "/run/airlock/mcp.sock"},
		{"worker_uid", cfg.WorkerUID, 10002},
		{"provider", cfg.LLM.Provider, "openai"},
		{"max_rounds", cfg.Agent.MaxRounds, 8},
		{"task_timeout", cfg.Agent.TaskTimeout, 3 * time.Minute},
		{"max_body_bytes", cfg.HTTP.MaxBodyBytes, int64(1 << 20)},
		{"max_connections", cfg.HTTP.MaxConnections, 256},
		{"body_read_timeout", cfg.HTTP.BodyReadTimeout, 30 * time.Second},
		{"max_file_bytes", cfg.Workspace.MaxFileBytes, int64(256 << 10)},
		{"max_memory_bytes", cfg.Workspace.MaxMemoryBytes, int64(64 << 10)},
		{"file", cfg.File, ""},
		{"worker_binary", cfg.WorkerBinary, ""},
		{"master key path", cfg.MasterKeyPath(), "/data/secure/master.key"},
		{"workspace dir", cfg.WorkspaceDir(), "/data/workspace"},
		{"db path", cfg.DBPath(), "/data/secure/airlock.db"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestDevDefaults(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	cfg, err := Load("", false, envMap(nil), true)
	if err != nil {
		t.Fatal(err)
	}
	wantData := filepath.Join(dir, ".airlock")
	if cfg.DataDir != wantData || cfg.Socket != filepath.Join(wantData, "run", "mcp.sock") {
		t.Errorf("dev paths: data_dir %q socket %q", cfg.DataDir, cfg.Socket)
	}
	if cfg.HTTPAddr != "127.0.0.1:8080" || cfg.WorkerUID != os.Getuid() || !cfg.Dev {
		t.Errorf("dev: http_addr %q worker_uid %d dev %t", cfg.HTTPAddr, cfg.WorkerUID, cfg.Dev)
	}
	cfg, err = Load("", false, envMap(map[string]string{"AIRLOCK_DATA_DIR": "/srv/air"}), true)
	if err != nil || cfg.Socket != "/srv/air/run/mcp.sock" {
		t.Fatalf("socket follows data_dir: %q, %v", cfg.Socket, err)
	}
	for addr, ok := range map[string]bool{"127.0.0.1:9000": true, "[::1]:8080": true, "localhost:80": true,
		"0.0.0.0:8080": false, ":8080": false, "192.168.1.2:8080": false} {
		_, err := Load("", false, envMap(map[string]string{"AIRLOCK_HTTP_ADDR": addr}), true)
		if ok != (err == nil) {
			t.Errorf("dev http_addr %q: err %v", addr, err)
		}
		if !ok && err != nil && !strings.Contains(err.Error(), "dev mode binds loopback only") {
			t.Errorf("dev http_addr %q: error %q does not explain", addr, err)
		}
	}
}

func TestDefaultPath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	tests := []struct {
		env  map[string]string
		dev  bool
		want string
	}{
		{nil, false, "/data/secure/config.yaml"},
		{nil, true, filepath.Join(dir, ".airlock", "secure", "config.yaml")},
		{map[string]string{"AIRLOCK_DATA_DIR": "/srv"}, false, "/srv/secure/config.yaml"},
		{map[string]string{"AIRLOCK_CONFIG": "/etc/airlock.yaml", "AIRLOCK_DATA_DIR": "/srv"}, true, "/etc/airlock.yaml"},
	}
	for _, tt := range tests {
		if got := DefaultPath(tt.dev, envMap(tt.env)); got != tt.want {
			t.Errorf("DefaultPath(%v, %v) = %q, want %q", tt.dev, tt.env, got, tt.want)
		}
	}
}

func TestMissingFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "missing.yaml")
	if _, err := Load(p, true, envMap(nil), false); err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("explicit missing file: %v", err)
	}
	if _, err := Load(p, false, envMap(nil), false); err != nil {
		t.Fatalf("implicit missing file: %v", err)
	}
}

func TestWritableConfigRefused(t *testing.T) {
	for perm, ok := range map[os.FileMode]bool{0o600: true, 0o644: true, 0o400: true, 0o664: false, 0o646: false, 0o666: false} {
		p := writeFile(t, t.TempDir(), "config.yaml", "log:\n  level: debug\n", perm)
		_, err := Load(p, true, envMap(nil), false)
		if ok != (err == nil) {
			t.Errorf("mode %04o: err %v", perm, err)
		}
		if !ok && err != nil && !strings.Contains(err.Error(), "group- or world-writable") {
			t.Errorf("mode %04o: unclear error %q", perm, err)
		}
	}
}

func TestFullYAML(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "llm.key", "sk-from-file\n", 0o600)
	p := writeFile(t, dir, "config.yaml", `# full example
data_dir: /srv/airlock
http_addr: 127.0.0.1:9090
socket: /run/x/mcp.sock
worker_uid: 2000
worker_binary: /usr/local/bin/aiworker
master_key_file: /run/secrets/master
egress_allow: [printer.lan, 10.0.0.0/8, 192.168.1.5]
llm:
  provider: anthropic
  base_url: https://llm.example.com/v1
  model: claude-x
  api_key_file: llm.key
  max_tokens: 1000
  timeout: 45s
  max_retries: 2
  requests_per_day: 50
  tokens_per_day: 100000
agent: {max_rounds: 4, task_timeout: 90s}
workspace:
  max_file_bytes: 1000
  max_memory_bytes: 500
http:
  max_body_bytes: 2048
  allowed_hosts: [airlock.example.org]
  max_connections: 64
  body_read_timeout: 5s
log:
  level: DEBUG
`, 0o600)
	cfg, err := Load(p, true, envMap(nil), false)
	if err != nil {
		t.Fatal(err)
	}
	want := Defaults(false)
	want.DataDir, want.HTTPAddr, want.Socket, want.WorkerUID = "/srv/airlock", "127.0.0.1:9090", "/run/x/mcp.sock", 2000
	want.WorkerBinary, want.MasterKeyFile = "/usr/local/bin/aiworker", "/run/secrets/master"
	want.EgressAllow = []string{"printer.lan", "10.0.0.0/8", "192.168.1.5"}
	want.LLM = LLMConfig{Provider: "anthropic", BaseURL: "https://llm.example.com/v1", Model: "claude-x",
		APIKeyFile: filepath.Join(dir, "llm.key"), MaxTokens: 1000, Timeout: 45 * time.Second, MaxRetries: 2,
		RequestsPerDay: 50, TokensPerDay: 100000}
	want.Agent = AgentConfig{MaxRounds: 4, TaskTimeout: 90 * time.Second}
	want.Workspace.MaxFileBytes, want.Workspace.MaxMemoryBytes = 1000, 500
	want.HTTP.MaxBodyBytes = 2048
	want.HTTP.AllowedHosts, want.HTTP.MaxConnections, want.HTTP.BodyReadTimeout = []string{"airlock.example.org"}, 64, 5*time.Second
	want.Log.Level = "DEBUG"
	want.File = p
	want.LLMAPIKey, want.LLMAPIKeySource = "sk-from-file", "file "+filepath.Join(dir, "llm.key")
	if got, exp := cfg.Redacted(), want.Redacted(); got != exp {
		t.Errorf("config:\n%s\nwant:\n%s", got, exp)
	}
	if cfg.LLMAPIKey.Reveal() != "sk-from-file" || cfg.LLMAPIKeySource != want.LLMAPIKeySource {
		t.Errorf("api key from file: %q from %q", cfg.LLMAPIKey.Reveal(), cfg.LLMAPIKeySource)
	}
	if cfg.Log.SlogLevel().String() != "DEBUG" {
		t.Errorf("slog level %v", cfg.Log.SlogLevel())
	}
}
