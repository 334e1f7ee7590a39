package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"time"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/auth"
	"github.com/airlockhq/airlock/orchestrator/config"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// newAuth opens the server key (<data>/secure/jwt.key, created on first
// start) and returns the auth service and the CSRF key derived from it.
func newAuth(ctx context.Context, cfg config.Config, st *store.Store, auditFn func(context.Context, audit.Event),
	logger *slog.Logger) (*auth.Service, []byte, error) {
	key, created, err := auth.LoadOrCreateServerKey(filepath.Join(cfg.SecureDir(), auth.ServerKeyFile))
	if err != nil {
		return nil, nil, err
	}
	if created {
		logger.Info("created the token signing key", "path", filepath.Join(cfg.SecureDir(), auth.ServerKeyFile))
	}
	svc, err := auth.New(auth.Config{Store: st, ServerKey: key, Logger: logger, Audit: auditFn})
	if err != nil {
		return nil, nil, err
	}
	return svc, auth.CSRFKey(key), nil
}

// setupBanner frames the setup code in the log, so that `docker compose
// logs | grep "setup code"` finds it.
const setupBanner = `
==============================================================================
  Airlock has no admin yet. Open the admin UI at %s/setup
  and enter this one-time setup code (valid for %s):

      %s

  The code is printed only here. A new one is printed when it expires.
==============================================================================
`

// announceSetup mints a setup code while no admin exists and prints it,
// again whenever the previous one expires, until setup is done.
func announceSetup(ctx context.Context, a *auth.Service, ui string, logger *slog.Logger, w io.Writer) {
	for {
		need, err := a.SetupNeeded(ctx)
		if err != nil {
			logger.Error("checking for first-run setup failed", "err", err)
		}
		if err == nil && !need {
			return
		}
		if err == nil {
			code, err := a.StartSetup(ctx)
			switch {
			case errors.Is(err, auth.ErrSetupDone):
				return
			case err != nil:
				logger.Error("minting a setup code failed", "err", err)
			default:
				logger.Warn("first-run setup: enter the setup code at /setup", "setup_code", code,
					"expires_in", auth.SetupCodeTTL.String())
				fmt.Fprintf(w, setupBanner, ui, auth.SetupCodeTTL, code)
			}
		}
		// Check often whether setup finished; mint anew only on expiry.
		deadline := time.Now().Add(auth.SetupCodeTTL)
		for time.Now().Before(deadline) {
			select {
			case <-ctx.Done():
				return
			case <-time.After(5 * time.Second):
			}
			if need, err := a.SetupNeeded(ctx); err == nil && !need {
				return
			}
		}
	}
}

// uiURL is where an operator on the host opens the admin UI, given the
// address the server listens on (a wildcard address becomes 127.0.0.1:
// the container publishes the port on the host's loopback).
func uiURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// pruneSessions deletes long-dead sessions now and then.
func pruneSessions(ctx context.Context, a *auth.Service, logger *slog.Logger) {
	t := time.NewTicker(6 * time.Hour)
	defer t.Stop()
	for {
		if n, err := a.PruneSessions(ctx); err != nil && ctx.Err() == nil {
			logger.Warn("pruning old sessions failed", "err", err)
		} else if n > 0 {
			logger.Info("pruned old sessions", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// flushAuthFailures writes the summaries of failed sign-ins once their
// window has ended, checking every minute.
func flushAuthFailures(ctx context.Context, a *auth.Service) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.FlushFailures(ctx)
		}
	}
}

// parseProxies parses the trusted proxy list: IP addresses or CIDRs.
func parseProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, e := range list {
		if p, err := netip.ParsePrefix(e); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(e)
		if err != nil {
			return nil, fmt.Errorf("config: http.trusted_proxies: %q is not an IP address or CIDR", e)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
