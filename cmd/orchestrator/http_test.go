package main

import (
	"slices"
	"testing"

	"github.com/airlockhq/airlock/orchestrator/config"
)

// TestAllowedHosts: the HTTP server answers the configured host names and
// the address it listens on when that is a specific one, which is what
// the setup announcement prints; loopback is the admin package's own.
func TestAllowedHosts(t *testing.T) {
	for addr, want := range map[string][]string{
		"0.0.0.0:8080":      {"airlock.example.org"},
		"[::]:8080":         {"airlock.example.org"},
		":8080":             {"airlock.example.org"},
		"192.168.1.20:8080": {"airlock.example.org", "192.168.1.20"},
		"nas.lan:8080":      {"airlock.example.org", "nas.lan"},
	} {
		cfg := config.Defaults(false)
		cfg.HTTPAddr, cfg.HTTP.AllowedHosts = addr, []string{"airlock.example.org"}
		if got := allowedHosts(cfg); !slices.Equal(got, want) {
			t.Errorf("allowedHosts with http_addr %s = %q; want %q", addr, got, want)
		}
		if len(cfg.HTTP.AllowedHosts) != 1 {
			t.Errorf("allowedHosts changed the configuration: %q", cfg.HTTP.AllowedHosts)
		}
	}
}
