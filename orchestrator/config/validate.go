package config

import (
	"errors"

	"filippo.io/age"
	"fmt"
	"github.com/airlockhq/airlock/secure/egress"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// maxSocketPath is the longest Unix socket path Linux accepts.
const maxSocketPath = 107

// checker collects validation problems.
type checker struct {
	c    *Config
	errs []error
}

// fail records a problem with key, named by the env variable that set it
// when there is one.
func (k *checker) fail(key, format string, args ...any) {
	name := key
	if env := k.c.origin[key]; env != "" {
		name = env
	}
	k.errs = append(k.errs, fmt.Errorf("config: %s: %s", name, fmt.Sprintf(format, args...)))
}

// Validate reports every invalid setting, each naming its key (or the
// environment variable that set it).
func (c Config) Validate() error {
	k := &checker{c: &c}
	k.paths()
	k.httpAddr()
	k.llm()
	k.limits()
	k.egress()
	k.proxies()
	k.allowedHosts()
	k.backup()
	if _, ok := parseLevel(c.Log.Level); !ok {
		k.fail("log.level", `must be "debug", "info", "warn" or "error", got %q`, c.Log.Level)
	}
	return errors.Join(k.errs...)
}

func (k *checker) paths() {
	c := k.c
	k.absPath("data_dir", c.DataDir, true)
	k.absPath("socket", c.Socket, true)
	if len(c.Socket) > maxSocketPath {
		k.fail("socket", "path is %d bytes, longer than a Unix socket path may be (%d)", len(c.Socket), maxSocketPath)
	}
	k.absPath("worker_binary", c.WorkerBinary, false)
	k.absPath("master_key_file", c.MasterKeyFile, false)
	k.absPath("llm.api_key_file", c.LLM.APIKeyFile, false)
	if c.WorkerUID < 0 {
		k.fail("worker_uid", "must not be negative, got %d", c.WorkerUID)
	}
}

func (k *checker) absPath(key, p string, required bool) {
	switch {
	case p == "" && required:
		k.fail(key, "must be set")
	case p != "" && !filepath.IsAbs(p):
		k.fail(key, "must be an absolute path, got %q", p)
	}
}

func (k *checker) httpAddr() {
	addr := k.c.HTTPAddr
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		k.fail("http_addr", "want host:port, got %q", addr)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		k.fail("http_addr", "invalid port %q", port)
	}
	if host != "" && !isIP(host) && !egress.ValidHostname(host) {
		k.fail("http_addr", "invalid host %q", host)
	}
	if k.c.Dev && !isLoopback(host) {
		k.fail("http_addr", "dev mode binds loopback only (127.0.0.1, ::1 or localhost), got %q", addr)
	}
}

func (k *checker) llm() {
	l := k.c.LLM
	if l.Provider != ProviderAnthropic && l.Provider != ProviderOpenAI {
		k.fail("llm.provider", "must be %q or %q, got %q", ProviderAnthropic, ProviderOpenAI, l.Provider)
	}
	if l.BaseURL != "" {
		u, err := url.Parse(l.BaseURL)
		switch {
		case err != nil:
			k.fail("llm.base_url", "not a valid URL")
		case u.User != nil:
			k.fail("llm.base_url", "must not contain credentials; give the key through llm.api_key_file or AIRLOCK_LLM_API_KEY")
		case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
			k.fail("llm.base_url", "want an http:// or https:// URL with a host, got %q", u.Redacted())
		}
	}
	k.positive("llm.max_tokens", int64(l.MaxTokens))
	k.positiveDuration("llm.timeout", l.Timeout)
	if l.MaxRetries < 0 || l.MaxRetries > 10 {
		k.fail("llm.max_retries", "must be between 0 and 10, got %d", l.MaxRetries)
	}
	k.notNegative("llm.requests_per_day", int64(l.RequestsPerDay))
	k.notNegative("llm.tokens_per_day", l.TokensPerDay)
}

func (k *checker) limits() {
	c := k.c
	k.positive("agent.max_rounds", int64(c.Agent.MaxRounds))
	k.positiveDuration("agent.task_timeout", c.Agent.TaskTimeout)
	k.positive("workspace.max_file_bytes", c.Workspace.MaxFileBytes)
	k.positive("workspace.max_memory_bytes", c.Workspace.MaxMemoryBytes)
	k.positive("workspace.max_total_bytes", c.Workspace.MaxTotalBytes)
	k.positive("http.max_body_bytes", c.HTTP.MaxBodyBytes)
	k.positive("http.max_connections", int64(c.HTTP.MaxConnections))
	k.positiveDuration("http.body_read_timeout", c.HTTP.BodyReadTimeout)
}

func (k *checker) positive(key string, n int64) {
	if n <= 0 {
		k.fail(key, "must be positive, got %d", n)
	}
}

func (k *checker) notNegative(key string, n int64) {
	if n < 0 {
		k.fail(key, "must not be negative, got %d (0 means unlimited)", n)
	}
}

func (k *checker) positiveDuration(key string, d time.Duration) {
	if d <= 0 {
		k.fail(key, "must be a positive duration, got %q", d.String())
	}
}

func (k *checker) proxies() {
	for i, e := range k.c.HTTP.TrustedProxies {
		if _, err := netip.ParsePrefix(e); err != nil && !isIP(e) {
			k.fail("http.trusted_proxies", "entry %d %q is not an IP address or CIDR", i, e)
		}
	}
}

// allowedHosts: each entry is a bare host name or IP address, what the
// server compares the Host header (without its port) with.
func (k *checker) allowedHosts() {
	for i, e := range k.c.HTTP.AllowedHosts {
		h := strings.TrimSuffix(strings.ToLower(e), ".")
		if !isIP(strings.Trim(h, "[]")) && !egress.ValidHostname(h) {
			k.fail("http.allowed_hosts", "entry %d %q is not a host name or IP address (no scheme, port or path: e.g. airlock.example.org)", i, e)
		}
	}
}

func (k *checker) egress() {
	for i, e := range k.c.EgressAllow {
		if !validEgress(e) {
			k.fail("egress_allow", "entry %d %q is not a hostname, IP address or CIDR", i, e)
		}
	}
}

// validEgress reports whether the egress guard accepts e (a hostname, an
// IP address or a CIDR): validation is the guard's own parser, so the two
// cannot disagree.
func validEgress(e string) bool {
	_, err := egress.ParseAllow([]string{e})
	return err == nil
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

func (k *checker) backup() {
	b := k.c.Backup
	k.absPath("backup.dir", b.Dir, false)
	k.absPath("backup.passphrase_file", b.PassphraseFile, false)
	if b.Recipient != "" {
		if _, err := age.ParseX25519Recipient(b.Recipient); err != nil {
			k.fail("backup.recipient", "must be an age X25519 recipient (age1...), got %q", b.Recipient)
		}
		if b.PassphraseFile != "" {
			k.fail("backup.recipient", "set either backup.passphrase_file or backup.recipient, not both")
		}
	}
}
