package main

import (
	"context"
	"net"
	"net/netip"
	"strconv"

	"github.com/airlockhq/airlock/orchestrator/integration"
	"github.com/airlockhq/airlock/orchestrator/settings"
	"github.com/airlockhq/airlock/secure/egress"
)

// buildIntegrations builds the egress guard and the service of the
// external MCP servers (issue 15).
func (a *app) buildIntegrations(cur settings.Settings) error {
	var err error
	if a.mcpWeb, err = egress.NewClient(egress.Policy{Allow: cur.EgressAllow, Deny: adminAddrs(a.cfg.HTTPAddr)}); err != nil {
		return err
	}
	a.remote, err = integration.New(integration.Config{Store: a.st, Web: a.mcpWeb, Secret: a.vault.Get,
		// OAuth tokens are vault secrets: setting one rebuilds the redactor
		// (the vault's change hook) before the token is used.
		SetSecret: func(ctx context.Context, name, value string) error {
			_, err := a.vault.Set(ctx, name, value)
			return err
		},
		DeleteSecret: a.vault.Delete,
		Audit:        a.auditFn, Redact: func(s string) string { return a.holder.Load().String(s) },
		Logger: a.logger.With("component", "integrations"),
		Notify: func(_ context.Context, server string, tools []string) {
			// The bot is built after the core; it exists by the time Run lists tools.
			if a.bot != nil {
				a.bot.NotifyToolsWithdrawn(server, tools)
			}
		}})
	return err
}

// denyAdmin keeps the MCP servers' guard off the admin server's own
// address once it is known (a configured port 0 is chosen at listen).
func (a *app) denyAdmin(addr string) {
	a.mcpWeb.SetDeny(append(adminAddrs(a.cfg.HTTPAddr), adminAddrs(addr)...))
}

// adminAddrs turns a listen address into the addresses the guard denies:
// the address itself, and for a host name or an empty host every local
// address on that port.
func adminAddrs(listen string) []netip.AddrPort {
	host, portText, err := net.SplitHostPort(listen)
	if err != nil {
		return nil
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.AddrPort{netip.AddrPortFrom(ip.Unmap(), uint16(port)),
			netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(port))}
	}
	return []netip.AddrPort{netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(port))}
}
