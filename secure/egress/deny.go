package egress

import (
	"net"
	"net/http"
	"net/netip"
	"slices"
)

// SetDeny replaces Policy.Deny: for an address known only once a listener
// is open (the admin server's port).
func (c *Client) SetDeny(list []netip.AddrPort) {
	deny := slices.Clone(list)
	c.deny.Store(&deny)
	c.hc.CloseIdleConnections()
}

// denied reports whether ip:port is one of deny (see Policy.Deny).
func denied(deny []netip.AddrPort, ip netip.Addr, port uint16) bool {
	for _, d := range deny {
		if d.Port() != port {
			continue
		}
		a := d.Addr().WithZone("").Unmap()
		if a == ip {
			return true
		}
		if a.IsUnspecified() && (ip.IsLoopback() || ip.IsUnspecified() || isLocal(ip)) {
			return true
		}
	}
	return false
}

// isLocal reports whether ip is an address of one of this machine's
// interfaces.
func isLocal(ip netip.Addr) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return true // cannot tell: refuse
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if x, ok := netip.AddrFromSlice(n.IP); ok && x.Unmap() == ip {
				return true
			}
		}
	}
	return false
}

// Streaming returns an *http.Client for a caller that reads response bodies
// itself, as they stream (an MCP client's event streams). It shares the
// guard's transport, so every connection is checked when it is dialed;
// redirects are re-checked by the guard and followed only when follow (if
// not nil) returns true. It has no overall timeout and no body cap: the
// caller bounds both (request contexts, a capped body reader).
func (c *Client) Streaming(follow FollowFunc) *http.Client {
	hc := *c.hc
	hc.CheckRedirect = func(next *http.Request, via []*http.Request) error {
		if err := c.checkRedirect(next, via); err != nil {
			return err
		}
		if follow != nil && !follow(next, via) {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return &hc
}
