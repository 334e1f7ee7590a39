package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Allowlist is a parsed admin allowlist: exact hostnames and IP networks the
// guard lets through even when they are private, loopback or otherwise
// refused. The zero value allows nothing.
type Allowlist struct {
	hosts    map[string]bool
	prefixes []netip.Prefix
}

// ParseAllow parses allowlist entries: a hostname (exact, case-insensitive,
// letters, digits, hyphens and dots, no wildcard), an IP address (IPv4 or
// IPv6, no zone) or a CIDR. Surrounding spaces are trimmed and empty entries
// skipped. Every invalid entry is reported in one error.
func ParseAllow(list []string) (Allowlist, error) {
	a := Allowlist{hosts: make(map[string]bool)}
	var bad []string
	for i, raw := range list {
		e := strings.TrimSpace(raw)
		if e == "" {
			continue
		}
		if err := a.add(e); err != nil {
			bad = append(bad, fmt.Sprintf("entry %d %q: %v", i, raw, err))
		}
	}
	if len(bad) > 0 {
		return Allowlist{}, fmt.Errorf("egress: allowlist: %s", strings.Join(bad, "; "))
	}
	return a, nil
}

func (a *Allowlist) add(e string) error {
	if strings.Contains(e, "/") {
		p, err := netip.ParsePrefix(e)
		if err != nil {
			return errors.New("not a valid CIDR")
		}
		a.prefixes = append(a.prefixes, normPrefix(p))
		return nil
	}
	if ip, err := netip.ParseAddr(e); err == nil {
		if ip.Zone() != "" {
			return errors.New("an IP address with a zone is not allowed")
		}
		ip = ip.Unmap()
		a.prefixes = append(a.prefixes, netip.PrefixFrom(ip, ip.BitLen()))
		return nil
	}
	if !ValidHostname(e) {
		return errors.New("not a hostname, IP address or CIDR")
	}
	a.hosts[normHost(e)] = true
	return nil
}

// normPrefix masks p and turns an IPv4-mapped IPv6 prefix of length ≥ 96
// into the IPv4 prefix it denotes, since dialed addresses are unmapped.
func normPrefix(p netip.Prefix) netip.Prefix {
	p = p.Masked()
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p
}

// AllowsHost reports whether host (a URL's hostname) is allowlisted by name.
func (a Allowlist) AllowsHost(host string) bool {
	return a.hosts[normHost(host)]
}

// AllowsAddr reports whether ip lies in an allowlisted address or network.
func (a Allowlist) AllowsAddr(ip netip.Addr) bool {
	ip = ip.WithZone("").Unmap()
	for _, p := range a.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// normHost lowercases host and drops one trailing dot.
func normHost(host string) string {
	return strings.ToLower(strings.TrimSuffix(host, "."))
}

// ValidHostname reports whether s is a DNS name of letters, digits and
// hyphens, with an optional trailing dot.
func ValidHostname(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}
