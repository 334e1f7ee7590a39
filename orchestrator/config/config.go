// Package config loads the orchestrator's configuration: defaults, then a
// YAML file, then environment variables (SPEC 8), then validation.
//
// Invariants:
//
//   - Secrets (LLM API key, Discord token) never come from the YAML file:
//     an inline secret key is refused and points to the *_FILE or env
//     alternative. They are held as Secret, which renders as "[redacted]"
//     through fmt, slog, JSON and YAML; only Reveal returns the value.
//   - Unknown YAML keys fail the load, naming the key path and line.
//   - A group- or world-writable config file is refused: it controls
//     security settings.
//   - Dev mode binds loopback addresses only.
package config

import (
	"os"
	"path/filepath"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
)

// Config is the whole orchestrator configuration, parsed once in main and
// passed by value.
type Config struct {
	DataDir   string `yaml:"data_dir"`
	HTTPAddr  string `yaml:"http_addr"`
	Socket    string `yaml:"socket"`
	WorkerUID int    `yaml:"worker_uid"`
	// WorkerBinary is the aiworker executable; empty means "next to the
	// orchestrator executable", resolved by main.
	WorkerBinary string `yaml:"worker_binary"`
	// MasterKeyFile is the vault master key; empty means the default
	// <data_dir>/secure/master.key, created on first start.
	MasterKeyFile string `yaml:"master_key_file"`
	// EgressAllow lists hostnames, IPs and CIDRs the egress guard lets
	// through even though they are private, loopback and so on.
	EgressAllow []string `yaml:"egress_allow"`

	LLM       LLMConfig       `yaml:"llm"`
	Agent     AgentConfig     `yaml:"agent"`
	Workspace WorkspaceConfig `yaml:"workspace"`
	HTTP      HTTPConfig      `yaml:"http"`
	Log       LogConfig       `yaml:"log"`
	Backup    BackupConfig    `yaml:"backup"`

	// Dev is the --dev mode: current user, data under ./.airlock, loopback.
	Dev bool `yaml:"-"`
	// File is the config file that was read, "" when none was.
	File string `yaml:"-"`
	// LLMAPIKey is the LLM provider key; LLMAPIKeySource says where it came
	// from ("env AIRLOCK_LLM_API_KEY", "file /run/secrets/x", "" if unset).
	LLMAPIKey       Secret `yaml:"-"`
	LLMAPIKeySource string `yaml:"-"`
	// DiscordToken is the bot token from DISCORD_TOKEN(_FILE), if any.
	DiscordToken       Secret `yaml:"-"`
	DiscordTokenSource string `yaml:"-"`

	// origin maps a YAML key to the env variable that set it, for errors.
	origin map[string]string
}

// LLMConfig selects and limits the LLM provider.
type LLMConfig struct {
	Provider   string `yaml:"provider"` // "anthropic" or "openai"
	BaseURL    string `yaml:"base_url"` // empty: the provider's public API
	Model      string `yaml:"model"`    // empty: LLM not configured
	APIKeyFile string `yaml:"api_key_file"`
	MaxTokens  int    `yaml:"max_tokens"`
	// Timeout bounds one provider request.
	Timeout    time.Duration `yaml:"timeout"`
	MaxRetries int           `yaml:"max_retries"`
	// RequestsPerDay and TokensPerDay are budgets; 0 means unlimited.
	RequestsPerDay int   `yaml:"requests_per_day"`
	TokensPerDay   int64 `yaml:"tokens_per_day"`
}

// AgentConfig bounds one task of the agent loop.
type AgentConfig struct {
	MaxRounds   int           `yaml:"max_rounds"`
	TaskTimeout time.Duration `yaml:"task_timeout"`
}

// WorkspaceConfig caps the assistant's workspace.
type WorkspaceConfig struct {
	MaxFileBytes   int64 `yaml:"max_file_bytes"`
	MaxMemoryBytes int64 `yaml:"max_memory_bytes"`
	MaxTotalBytes  int64 `yaml:"max_total_bytes"`
}

// HTTPConfig limits the admin HTTP server.
type HTTPConfig struct {
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// TrustedProxies are the IP addresses and CIDRs of reverse proxies
	// whose X-Forwarded-For and X-Forwarded-Proto headers are believed
	// (for the client IP of rate limits and for Secure cookies).
	TrustedProxies []string `yaml:"trusted_proxies"`
	// AllowedHosts are the host names (or IP addresses) the server answers
	// besides loopback ones (localhost, 127.0.0.1, ::1) and the host of the
	// review URL setting: any other Host header is refused, which stops
	// DNS rebinding. Set it when the UI is reached under a name.
	AllowedHosts []string `yaml:"allowed_hosts"`
	// MaxConnections caps concurrent connections; a small reserve beyond
	// it serves only /healthz and /readyz.
	MaxConnections int `yaml:"max_connections"`
	// BodyReadTimeout bounds reading one request body.
	BodyReadTimeout time.Duration `yaml:"body_read_timeout"`
}

// BackupConfig says where scheduled backups go and how they are
// encrypted (issue 18; the schedule itself is in the settings). At most one
// of PassphraseFile and Recipient; with neither, the orchestrator makes a
// random passphrase in <data_dir>/secure/backup.passphrase.
type BackupConfig struct {
	// Dir holds the scheduled backups; empty means <data_dir>/backups.
	Dir string `yaml:"dir"`
	// PassphraseFile's first line is the passphrase of scheduled backups.
	PassphraseFile string `yaml:"passphrase_file"`
	// Recipient is an age X25519 recipient (age1...) to encrypt to instead.
	Recipient string `yaml:"recipient"`
}

// BackupDir is Backup.Dir or its default, <data_dir>/backups.
func (c Config) BackupDir() string {
	if c.Backup.Dir != "" {
		return c.Backup.Dir
	}
	return filepath.Join(c.DataDir, "backups")
}

// LogConfig sets logging.
type LogConfig struct {
	Level string `yaml:"level"` // debug, info, warn or error
}

// Providers.
const (
	ProviderAnthropic = "anthropic"
	ProviderOpenAI    = "openai"
)

// Container defaults.
const (
	containerDataDir   = "/data"
	containerHTTPAddr  = "0.0.0.0:8080"
	containerSocket    = "/run/airlock/mcp.sock"
	containerWorkerUID = 10002
	devDataDir         = ".airlock"
	devHTTPAddr        = "127.0.0.1:8080"
)

// Defaults returns the configuration used when nothing overrides it. In dev
// mode paths are under ./.airlock (absolute) and the worker runs as the
// current user.
func Defaults(dev bool) Config {
	c := Config{
		DataDir:   containerDataDir,
		HTTPAddr:  containerHTTPAddr,
		Socket:    containerSocket,
		WorkerUID: containerWorkerUID,
		Dev:       dev,
		LLM: LLMConfig{Provider: ProviderOpenAI, MaxTokens: 4096, Timeout: 2 * time.Minute,
			MaxRetries: 3, RequestsPerDay: 2000, TokensPerDay: 5_000_000},
		Agent:     AgentConfig{MaxRounds: tools.DefaultMaxRounds, TaskTimeout: tools.DefaultTaskTimeout},
		Workspace: WorkspaceConfig{MaxFileBytes: 256 << 10, MaxMemoryBytes: 64 << 10, MaxTotalBytes: 50 << 20},
		HTTP:      HTTPConfig{MaxBodyBytes: 1 << 20, MaxConnections: 256, BodyReadTimeout: 30 * time.Second},
		Log:       LogConfig{Level: "info"},
	}
	if dev {
		c.DataDir = absOr(devDataDir)
		c.HTTPAddr = devHTTPAddr
		c.Socket = "" // derived from the final data_dir
		c.WorkerUID = os.Getuid()
	}
	return c
}

// DefaultPath returns the config file path: AIRLOCK_CONFIG if set, else
// <data dir>/secure/config.yaml, where the data dir is AIRLOCK_DATA_DIR or
// the mode's default.
func DefaultPath(dev bool, getenv func(string) string) string {
	if p := getenv("AIRLOCK_CONFIG"); p != "" {
		return p
	}
	dir := getenv("AIRLOCK_DATA_DIR")
	if dir == "" {
		dir = containerDataDir
		if dev {
			dir = devDataDir
		}
	}
	return filepath.Join(absOr(dir), "secure", "config.yaml")
}

// SecureDir is <data_dir>/secure: database, master key, config.
func (c Config) SecureDir() string { return filepath.Join(c.DataDir, "secure") }

// WorkspaceDir is <data_dir>/workspace: the assistant's files.
func (c Config) WorkspaceDir() string { return filepath.Join(c.DataDir, "workspace") }

// DBPath is the SQLite database file.
func (c Config) DBPath() string { return filepath.Join(c.SecureDir(), "airlock.db") }

// MasterKeyPath is MasterKeyFile or its default in the secure directory.
func (c Config) MasterKeyPath() string {
	if c.MasterKeyFile != "" {
		return c.MasterKeyFile
	}
	return filepath.Join(c.SecureDir(), "master.key")
}

// absOr returns p made absolute, or p unchanged if that fails.
func absOr(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
