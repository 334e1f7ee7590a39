package doctor

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/vault"
)

func secretChecks() []check {
	return []check{
		{"secrets.plain_env", "No secret comes from a plain environment variable", Medium,
			"store the LLM key and Discord token in the vault (Settings, Secrets) or give them as *_FILE (Docker secrets)",
			func(_ context.Context, e *Env) (Status, string) {
				var plain []string
				for _, src := range []string{e.Config.LLMAPIKeySource, e.Config.DiscordTokenSource} {
					if name, ok := strings.CutPrefix(src, "env "); ok {
						plain = append(plain, name)
					}
				}
				if len(plain) > 0 {
					return warnf("set in plain environment variables (visible to `docker inspect`): %s", strings.Join(plain, ", "))
				}
				return okf("no LLM key or Discord token in plain environment variables")
			}},
		{"secrets.master_key_location", "The master key is kept apart from the database", Info,
			"set AIRLOCK_MASTER_KEY_FILE to a key outside the data volume (a Docker secret) so a copy of the volume alone opens nothing",
			func(_ context.Context, e *Env) (Status, string) {
				key := e.Config.MasterKeyPath()
				if within(e.Config.DataDir, key) {
					return warnf("%s is inside the data volume, next to the database", key)
				}
				return okf("%s is outside the data directory", key)
			}},
		{"secrets.vault_key", "The master key opens the vault", Critical,
			"give the orchestrator the master key this database was sealed with (AIRLOCK_MASTER_KEY_FILE or <data>/secure/master.key)",
			func(ctx context.Context, e *Env) (Status, string) {
				if e.Store == nil {
					return skipf("no database")
				}
				check, err := e.Store.KeyCheck(ctx)
				if errors.Is(err, store.ErrNotFound) {
					return skipf("the vault has no key check yet (first start)")
				}
				if err != nil {
					return failf("cannot read the key check: %v", err)
				}
				key, err := vault.LoadKey(e.Config.MasterKeyPath())
				if err != nil {
					return failf("%s does not load (%s)", e.Config.MasterKeyPath(), keyProblem(err))
				}
				s, err := vault.NewSealer(key)
				if err != nil {
					return failf("the key is unusable")
				}
				if err := s.VerifyKeyCheck(check); err != nil {
					return failf("%s is not the key this vault was sealed with", e.Config.MasterKeyPath())
				}
				return okf("%s matches the vault's key check", e.Config.MasterKeyPath())
			}},
	}
}

// within reports whether path is dir or below it.
func within(dir, path string) bool {
	rel, err := filepath.Rel(filepath.Clean(dir), filepath.Clean(path))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

func exposureChecks() []check {
	return []check{
		{"exposure.dev_bind", "Dev mode binds loopback only", Critical,
			"in dev mode set AIRLOCK_HTTP_ADDR to 127.0.0.1:PORT; use the container for anything reachable",
			func(_ context.Context, e *Env) (Status, string) {
				if !e.Config.Dev {
					return okf("container mode: the compose file publishes the port on 127.0.0.1 only")
				}
				if !loopbackAddr(e.Config.HTTPAddr) {
					return failf("dev mode listens on %s", e.Config.HTTPAddr)
				}
				return okf("dev mode listens on %s", e.Config.HTTPAddr)
			}},
		{"exposure.allowed_hosts", "The allowed host names are specific", Medium,
			"list only the names the UI is reached under in AIRLOCK_ALLOWED_HOSTS (no wildcard, no 0.0.0.0)",
			func(_ context.Context, e *Env) (Status, string) {
				hosts := e.Config.HTTP.AllowedHosts
				for _, h := range hosts {
					if ip, err := netip.ParseAddr(h); h == "*" || strings.Contains(h, "*") || err == nil && ip.IsUnspecified() {
						return warnf("allowed hosts include %q: any Host header is answered (DNS rebinding)", h)
					}
				}
				if len(hosts) == 0 {
					return okf("none: only loopback host names are answered")
				}
				return okf("%s", listed(hosts))
			}},
		{"exposure.trusted_proxies", "Trusted proxies are specific addresses", High,
			"list only your reverse proxy's address in AIRLOCK_TRUSTED_PROXIES (a /32, or a small docker network)",
			func(_ context.Context, e *Env) (Status, string) {
				var broad []string
				for _, p := range e.Config.HTTP.TrustedProxies {
					if pre, err := netip.ParsePrefix(p); err == nil && broadPrefix(pre) {
						broad = append(broad, p)
					}
				}
				if len(broad) > 0 {
					return warnf("broad ranges trusted to set X-Forwarded-For: %s (a client there can fake its IP past the login limits)", listed(broad))
				}
				if len(e.Config.HTTP.TrustedProxies) == 0 {
					return okf("none")
				}
				return okf("%s", listed(e.Config.HTTP.TrustedProxies))
			}},
		{"exposure.review_url", "Review links sent in Discord DMs use https", Medium,
			"set the Discord review URL (Settings) to the https address of your reverse proxy",
			func(_ context.Context, e *Env) (Status, string) {
				d := e.Settings.Discord
				if !e.DiscordToken || len(d.Admins) == 0 {
					return skipf("no Discord admin gets review links")
				}
				u, err := url.Parse(d.ReviewBaseURL)
				switch {
				case d.ReviewBaseURL == "":
					return okf("review links are bare paths (no URL is sent)")
				case err != nil || u.Scheme != "https" && !loopbackHost(u.Hostname()):
					return warnf("review URL %s is not https: a link in a DM leads to a sign-in over plain HTTP", d.ReviewBaseURL)
				}
				return okf("review URL %s", d.ReviewBaseURL)
			}},
		{"exposure.metrics", "/metrics is not reachable from outside", Low,
			"block /metrics at your reverse proxy, or keep the port published on 127.0.0.1 only",
			func(_ context.Context, e *Env) (Status, string) {
				if e.Config.Dev && loopbackAddr(e.Config.HTTPAddr) {
					return okf("listens on %s only", e.Config.HTTPAddr)
				}
				if len(e.Config.HTTP.AllowedHosts) > 0 || len(e.Config.HTTP.TrustedProxies) > 0 {
					return warnf("the UI is reached from outside (allowed hosts or trusted proxies are set); /metrics needs no sign-in")
				}
				return okf("answers loopback host names only; the shipped compose file publishes 127.0.0.1 only")
			}},
	}
}

func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && loopbackHost(host)
}

func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// broadPrefix reports whether p covers more than a small network: shorter
// than /16 for IPv4, /48 for IPv6.
func broadPrefix(p netip.Prefix) bool {
	if p.Addr().Is4() || p.Addr().Is4In6() {
		return p.Bits() < 16
	}
	return p.Bits() < 48
}

// setupCodeLifetime is the setup code's validity (orchestrator/auth).
const setupCodeLifetime = 30 * time.Minute

func setupChecks() []check {
	return []check{
		{"setup.window", "Setup is done (no open setup window)", High,
			"open the admin UI and finish setup with the code from `docker compose logs airlock`",
			func(ctx context.Context, e *Env) (Status, string) {
				if e.Store == nil {
					return skipf("no database")
				}
				n, err := e.Store.CountAdmins(ctx)
				if err != nil {
					return failf("cannot count admins: %v", err)
				}
				if n > 0 {
					return okf("%d admin(s); /setup is closed", n)
				}
				code, err := e.Store.GetSetupCode(ctx)
				if err != nil {
					return warnf("no admin yet")
				}
				age := e.Now().Sub(code.CreatedAt)
				if first, ferr := e.Store.OldestAuditAt(ctx); ferr == nil && !first.IsZero() {
					age = e.Now().Sub(first)
				}
				if age > setupCodeLifetime {
					return warnf("no admin yet; setup has been open for %s (a code lives %s)", age.Round(time.Minute), setupCodeLifetime)
				}
				return okf("no admin yet; setup opened %s ago", age.Round(time.Second))
			}},
		{"setup.admin_login", "An admin signed in recently", Low,
			"sign in, or add a second admin you can reach (a lost single account locks you out)",
			func(ctx context.Context, e *Env) (Status, string) {
				if e.Store == nil {
					return skipf("no database")
				}
				n, err := e.Store.CountAdmins(ctx)
				if err != nil || n == 0 {
					return skipf("no admin yet")
				}
				last, err := e.Store.LastAdminSignIn(ctx)
				if err != nil {
					return failf("cannot read sessions: %v", err)
				}
				if n == 1 && (last.IsZero() || e.Now().Sub(last) > 90*24*time.Hour) {
					if last.IsZero() {
						return warnf("one admin, never signed in")
					}
					return warnf("one admin, last sign-in %s ago", e.Now().Sub(last).Round(time.Hour))
				}
				return okf("%d admin(s), last sign-in %s", n, last.UTC().Format(time.DateOnly))
			}},
	}
}

func aiChecks() []check {
	return []check{
		{"ai.budgets", "Daily model budgets are set", Medium,
			"set requests and tokens per day in Settings (0 is unlimited)",
			func(_ context.Context, e *Env) (Status, string) {
				l := e.Settings.LLM
				if l.RequestsPerDay == 0 || l.TokensPerDay == 0 {
					return warnf("requests/day %d, tokens/day %d (0 is unlimited)", l.RequestsPerDay, l.TokensPerDay)
				}
				return okf("requests/day %d, tokens/day %d", l.RequestsPerDay, l.TokensPerDay)
			}},
		{"ai.limits", "Agent rounds and task time are within the defaults", Low,
			"lower the agent's max rounds and task timeout in Settings to the defaults",
			func(_ context.Context, e *Env) (Status, string) {
				a := e.Settings.Agent
				if a.MaxRounds > tools.DefaultMaxRounds || a.TaskTimeout > tools.DefaultTaskTimeout {
					return warnf("max rounds %d (default %d), task timeout %s (default %s)", a.MaxRounds,
						tools.DefaultMaxRounds, a.TaskTimeout, tools.DefaultTaskTimeout)
				}
				return okf("max rounds %d, task timeout %s", a.MaxRounds, a.TaskTimeout)
			}},
		{"ai.egress_allow", "The egress allowlist holds no broad range", High,
			"list single hosts or small networks in the egress allowlist, never 0.0.0.0/0, 10.0.0.0/8 or 169.254.0.0/16",
			func(_ context.Context, e *Env) (Status, string) {
				var broad []string
				for _, a := range e.Settings.EgressAllow {
					p, err := netip.ParsePrefix(a)
					if ip, aerr := netip.ParseAddr(a); aerr == nil {
						p, err = netip.PrefixFrom(ip, ip.BitLen()), nil
					}
					if err == nil && (broadPrefix(p) || p.Contains(metadataIP)) {
						broad = append(broad, a)
					}
				}
				if len(broad) > 0 {
					return failf("the AI's requests may reach %s", listed(broad))
				}
				if len(e.Settings.EgressAllow) == 0 {
					return okf("empty: private, loopback and metadata addresses are refused")
				}
				return okf("%s", listed(e.Settings.EgressAllow))
			}},
		{"ai.dev_mode", "Dev mode is off", High,
			"run the container (docker compose up); dev mode has no OS-level separation",
			func(_ context.Context, e *Env) (Status, string) {
				if e.Config.Dev {
					return warnf("dev mode: the worker runs as the orchestrator's user")
				}
				return okf("container mode")
			}},
	}
}

var metadataIP = netip.MustParseAddr("169.254.169.254")
