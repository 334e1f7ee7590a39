package egress

import (
	"net/netip"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		ip     string
		reason string // "" means allowed
	}{
		{"127.0.0.1", reasonLoopback},
		{"127.255.255.254", reasonLoopback},
		{"::1", reasonLoopback},
		{"::ffff:127.0.0.1", reasonLoopback},
		{"::127.0.0.1", reasonLoopback},
		{"10.0.0.5", reasonPrivate},
		{"172.16.0.1", reasonPrivate},
		{"172.31.255.255", reasonPrivate},
		{"192.168.1.1", reasonPrivate},
		{"::ffff:10.1.2.3", reasonPrivate},
		{"::ffff:192.168.0.1", reasonPrivate},
		{"fc00::1", reasonPrivate},
		{"fd12:3456::1", reasonPrivate},
		{"fec0::1", reasonPrivate},
		{"169.254.169.254", reasonMetadata},
		{"::ffff:169.254.169.254", reasonMetadata},
		{"169.254.1.1", reasonLinkLocal},
		{"fe80::1", reasonLinkLocal},
		{"fe80::1%eth0", reasonLinkLocal},
		{"100.64.0.1", reasonCGNAT},
		{"100.127.255.255", reasonCGNAT},
		{"::ffff:100.64.0.1", reasonCGNAT},
		{"0.0.0.0", reasonUnspecified},
		{"0.1.2.3", reasonUnspecified},
		{"::", reasonUnspecified},
		{"::ffff:0.0.0.0", reasonUnspecified},
		{"224.0.0.1", reasonMulticast},
		{"239.255.255.250", reasonMulticast},
		{"ff02::1", reasonMulticast},
		{"::ffff:224.0.0.1", reasonMulticast},
		{"255.255.255.255", reasonBroadcast},
		{"::ffff:255.255.255.255", reasonBroadcast},
		{"192.0.0.8", reasonReserved},
		{"192.0.2.1", reasonReserved},
		{"198.18.0.1", reasonReserved},
		{"198.51.100.1", reasonReserved},
		{"203.0.113.1", reasonReserved},
		{"240.0.0.1", reasonReserved},
		{"100::1", reasonReserved},
		{"2001:db8::1", reasonReserved},
		{"2001::1", reasonTunnel},
		{"2002:7f00:1::", reasonTunnel},
		{"::8.8.8.8", reasonCompat},
		{"64:ff9b::10.0.0.1", reasonPrivate},
		{"64:ff9b::127.0.0.1", reasonLoopback},
		{"64:ff9b::169.254.169.254", reasonMetadata},
		{"64:ff9b:1::1", reasonPrivate},
		{"4000::1", reasonReserved},
		// Public unicast is allowed.
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"100.63.255.255", ""},
		{"172.32.0.1", ""},
		{"::ffff:8.8.8.8", ""},
		{"2606:4700:4700::1111", ""},
		{"64:ff9b::808:808", ""},
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			reason, blocked := classify(netip.MustParseAddr(tt.ip))
			if blocked != (tt.reason != "") || reason != tt.reason {
				t.Errorf("classify(%s) = %q, %v; want %q", tt.ip, reason, blocked, tt.reason)
			}
		})
	}
}

func TestCheckDial(t *testing.T) {
	c, err := NewClient(Policy{Allow: []string{"printer.lan", "10.9.0.0/16", "::ffff:192.168.7.0/120"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, host, network, addr string
		allowHost                 bool
		want                      string // "" means allowed
	}{
		{"public 443", "example.com", "tcp4", "93.184.215.14:443", false, ""},
		{"public 80 v6", "example.com", "tcp6", "[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:80", false, ""},
		{"public port 25", "mail.example.com", "tcp4", "93.184.215.14:25",
			false, "egress: refused: port 25 of mail.example.com is not allowed (only 80, 443); an admin can allowlist the host in settings"},
		{"private by name", "api.example.com", "tcp4", "10.0.0.5:443",
			false, "egress: refused: api.example.com resolves to 10.0.0.5, a private address; an admin can allowlist the host in settings"},
		{"mapped loopback literal", "::ffff:127.0.0.1", "tcp6", "[::ffff:127.0.0.1]:80",
			false, "egress: refused: 127.0.0.1 is a loopback address; an admin can allowlist the address in settings"},
		{"metadata literal", "169.254.169.254", "tcp4", "169.254.169.254:80",
			false, "egress: refused: 169.254.169.254 is a link-local address (the cloud metadata endpoint)"},
		{"allowlisted host any addr any port", "printer.lan", "tcp4", "192.168.1.9:631", true, ""},
		{"allowlisted cidr", "nas.lan", "tcp4", "10.9.3.4:8080", false, ""},
		{"outside allowlisted cidr", "nas.lan", "tcp4", "10.8.3.4:80",
			false, "egress: refused: nas.lan resolves to 10.8.3.4, a private address; an admin can allowlist the host in settings"},
		{"allowlisted mapped cidr", "x.lan", "tcp6", "[::ffff:192.168.7.9]:80", false, ""},
		{"missing context refuses", "", "tcp4", "127.0.0.1:80",
			false, "egress: refused: 127.0.0.1 is a loopback address; an admin can allowlist the address in settings"},
		{"udp refused", "example.com", "udp4", "93.184.215.14:443", false, `egress: refused: network "udp4" is not allowed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.checkDial(dialTarget{host: tt.host, allowHost: tt.allowHost}, tt.network, tt.addr)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("checkDial(%s) = %q\nwant %q", tt.addr, got, tt.want)
			}
		})
	}
}
