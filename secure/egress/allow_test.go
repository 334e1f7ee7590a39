package egress

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParseAllow(t *testing.T) {
	a, err := ParseAllow([]string{" Printer.LAN ", "", "10.0.0.0/8", "192.168.1.5", "fd00::/8", "::ffff:172.16.0.0/108"})
	if err != nil {
		t.Fatal(err)
	}
	hosts := []struct {
		host string
		want bool
	}{
		{"printer.lan", true}, {"PRINTER.lan.", true}, {"evil.printer.lan", false}, {"printer.lan.evil", false},
	}
	for _, h := range hosts {
		if got := a.AllowsHost(h.host); got != h.want {
			t.Errorf("AllowsHost(%q) = %v, want %v", h.host, got, h.want)
		}
	}
	addrs := []struct {
		ip   string
		want bool
	}{
		{"10.1.2.3", true}, {"::ffff:10.1.2.3", true}, {"192.168.1.5", true}, {"192.168.1.6", false},
		{"fd00::1", true}, {"fe80::1", false}, {"172.16.3.4", true}, {"172.32.0.1", false}, {"127.0.0.1", false},
	}
	for _, x := range addrs {
		if got := a.AllowsAddr(netip.MustParseAddr(x.ip)); got != x.want {
			t.Errorf("AllowsAddr(%s) = %v, want %v", x.ip, got, x.want)
		}
	}
}

func TestParseAllowInvalid(t *testing.T) {
	_, err := ParseAllow([]string{"ok.example", "*.example.com", "10.0.0.0/33", "bad host", "fe80::1%eth0", "-x.com"})
	if err == nil {
		t.Fatal("ParseAllow accepted invalid entries")
	}
	for _, want := range []string{`entry 1 "*.example.com"`, `entry 2 "10.0.0.0/33"`, `entry 3 "bad host"`,
		`entry 4 "fe80::1%eth0"`, `entry 5 "-x.com"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "ok.example") {
		t.Errorf("error %q blames a valid entry", err)
	}
	if _, err := NewClient(Policy{Allow: []string{"http://x"}}); err == nil {
		t.Error("NewClient accepted an invalid allowlist")
	}
}

func TestZeroAllowlist(t *testing.T) {
	var a Allowlist
	if a.AllowsHost("localhost") || a.AllowsAddr(netip.MustParseAddr("127.0.0.1")) {
		t.Error("zero Allowlist allows something")
	}
}
