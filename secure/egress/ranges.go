package egress

import "net/netip"

// Reasons an address is refused, phrased to follow "is" in an error message.
const (
	reasonLoopback    = "a loopback address"
	reasonPrivate     = "a private address"
	reasonLinkLocal   = "a link-local address"
	reasonMetadata    = "a link-local address (the cloud metadata endpoint)"
	reasonCGNAT       = "a carrier-grade NAT (shared) address"
	reasonUnspecified = "an unspecified address"
	reasonMulticast   = "a multicast address"
	reasonBroadcast   = "the broadcast address"
	reasonReserved    = "a reserved address"
	reasonTunnel      = "a reserved address (IPv4 tunnelled in IPv6)"
	reasonCompat      = "a reserved address (deprecated IPv4-compatible IPv6)"
)

type blockedRange struct {
	prefix netip.Prefix
	reason string
}

// blocked4 lists the IPv4 ranges refused unless allowlisted, most specific
// first where they overlap.
var blocked4 = []blockedRange{
	{mustPrefix("169.254.169.254/32"), reasonMetadata},
	{mustPrefix("255.255.255.255/32"), reasonBroadcast},
	{mustPrefix("0.0.0.0/8"), reasonUnspecified},
	{mustPrefix("10.0.0.0/8"), reasonPrivate},
	{mustPrefix("100.64.0.0/10"), reasonCGNAT},
	{mustPrefix("127.0.0.0/8"), reasonLoopback},
	{mustPrefix("169.254.0.0/16"), reasonLinkLocal},
	{mustPrefix("172.16.0.0/12"), reasonPrivate},
	{mustPrefix("192.0.0.0/24"), reasonReserved},   // IETF protocol assignments
	{mustPrefix("192.0.2.0/24"), reasonReserved},   // TEST-NET-1
	{mustPrefix("192.88.99.0/24"), reasonReserved}, // 6to4 relay anycast
	{mustPrefix("192.168.0.0/16"), reasonPrivate},
	{mustPrefix("198.18.0.0/15"), reasonReserved},   // benchmarking
	{mustPrefix("198.51.100.0/24"), reasonReserved}, // TEST-NET-2
	{mustPrefix("203.0.113.0/24"), reasonReserved},  // TEST-NET-3
	{mustPrefix("224.0.0.0/4"), reasonMulticast},
	{mustPrefix("240.0.0.0/4"), reasonReserved},
}

// blocked6 lists the IPv6 ranges refused unless allowlisted. Ranges that
// carry an IPv4 address (mapped, compatible, NAT64) are handled in
// classify before this table.
var blocked6 = []blockedRange{
	{mustPrefix("::/128"), reasonUnspecified},
	{mustPrefix("::1/128"), reasonLoopback},
	{mustPrefix("64:ff9b:1::/48"), reasonPrivate}, // local-use NAT64
	{mustPrefix("100::/64"), reasonReserved},      // discard-only
	{mustPrefix("2001::/32"), reasonTunnel},       // Teredo
	{mustPrefix("2001:2::/48"), reasonReserved},   // benchmarking
	{mustPrefix("2001:db8::/32"), reasonReserved}, // documentation
	{mustPrefix("2002::/16"), reasonTunnel},       // 6to4
	{mustPrefix("3fff::/20"), reasonReserved},     // documentation
	{mustPrefix("fc00::/7"), reasonPrivate},       // unique local
	{mustPrefix("fec0::/10"), reasonPrivate},      // deprecated site-local
	{mustPrefix("fe80::/10"), reasonLinkLocal},
	{mustPrefix("ff00::/8"), reasonMulticast},
}

var (
	compat4   = mustPrefix("::/96")
	nat64     = mustPrefix("64:ff9b::/96")
	global6   = mustPrefix("2000::/3")
	zeroAddr6 = netip.IPv6Unspecified()
)

func mustPrefix(s string) netip.Prefix {
	return netip.MustParsePrefix(s)
}

// classify reports why ip may not be dialed, or ok when it is a public
// unicast address. The zone of a scoped address is ignored.
func classify(ip netip.Addr) (reason string, blocked bool) {
	ip = ip.WithZone("").Unmap()
	if !ip.IsValid() {
		return reasonReserved, true
	}
	if ip.Is4() {
		return lookup(blocked4, ip)
	}
	if v4, ok := embedded4(ip); ok {
		if reason, blocked := lookup(blocked4, v4); blocked {
			return reason, true
		}
		if compat4.Contains(ip) {
			return reasonCompat, true
		}
		return "", false // NAT64 of a public IPv4 address
	}
	if reason, blocked := lookup(blocked6, ip); blocked {
		return reason, true
	}
	if !global6.Contains(ip) {
		return reasonReserved, true
	}
	return "", false
}

// embedded4 returns the IPv4 address carried by an IPv4-compatible
// (::a.b.c.d, other than :: and ::1) or NAT64 (64:ff9b::a.b.c.d) address.
func embedded4(ip netip.Addr) (netip.Addr, bool) {
	if ip == zeroAddr6 || ip == netip.IPv6Loopback() {
		return netip.Addr{}, false
	}
	if !compat4.Contains(ip) && !nat64.Contains(ip) {
		return netip.Addr{}, false
	}
	b := ip.As16()
	return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
}

func lookup(table []blockedRange, ip netip.Addr) (string, bool) {
	for _, r := range table {
		if r.prefix.Contains(ip) {
			return r.reason, true
		}
	}
	return "", false
}
