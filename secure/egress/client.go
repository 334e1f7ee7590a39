package egress

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Policy defaults.
const (
	DefaultMaxBodyBytes = 2 << 20
	DefaultTimeout      = 20 * time.Second
	DefaultMaxRedirects = 5
	DefaultUserAgent    = "Airlock (+https://github.com/airlockhq/airlock)"
)

// Policy configures a Client. Zero fields take the defaults above.
type Policy struct {
	// Allow lists the hostnames (exact, case-insensitive), IP addresses and
	// CIDRs the admin allowlisted; see ParseAllow.
	Allow []string
	// MaxBodyBytes caps the response body (after decompression).
	MaxBodyBytes int64
	// Truncate makes an over-cap body come back cut to MaxBodyBytes with
	// Response.Truncated set, instead of failing with ErrTooLarge.
	Truncate bool
	// Timeout bounds the whole request: dial, TLS, headers, redirects, body.
	Timeout time.Duration
	// MaxRedirects caps redirect hops; a negative value allows none.
	MaxRedirects int
	// Ports are the ports a destination that is not allowlisted may be
	// reached on; nil means 80 and 443. Allowlisted ones may use any port.
	Ports []int
	// UserAgent is sent when the request sets none.
	UserAgent string
	// Deny are addresses never dialed, allowlisted or not: the orchestrator's
	// own admin server, say. An unspecified address (0.0.0.0, ::) stands for
	// every loopback address and every address of this machine's interfaces.
	Deny []netip.AddrPort
}

func (p Policy) withDefaults() Policy {
	if p.MaxBodyBytes <= 0 {
		p.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if p.Timeout <= 0 {
		p.Timeout = DefaultTimeout
	}
	if p.MaxRedirects == 0 {
		p.MaxRedirects = DefaultMaxRedirects
	} else if p.MaxRedirects < 0 {
		p.MaxRedirects = 0
	}
	if p.Ports == nil {
		p.Ports = []int{80, 443}
	}
	if p.UserAgent == "" {
		p.UserAgent = DefaultUserAgent
	}
	return p
}

// Client performs HTTP requests under a Policy. It is safe for concurrent use.
type Client struct {
	policy Policy
	// allow is shared by the copies Truncating makes, so SetAllow changes
	// them all.
	allow *atomic.Pointer[Allowlist]
	// deny is Policy.Deny, replaced by SetDeny; shared like allow.
	deny *atomic.Pointer[[]netip.AddrPort]
	hc   *http.Client
	// resolver, when set by tests, replaces the system resolver.
	resolver *net.Resolver
}

// NewClient builds a Client; it fails when an allowlist entry is invalid.
func NewClient(p Policy) (*Client, error) {
	return newClient(p, nil)
}

func newClient(p Policy, resolver *net.Resolver) (*Client, error) {
	allow, err := ParseAllow(p.Allow)
	if err != nil {
		return nil, err
	}
	c := &Client{policy: p.withDefaults(), allow: new(atomic.Pointer[Allowlist]), resolver: resolver,
		deny: new(atomic.Pointer[[]netip.AddrPort])}
	c.allow.Store(&allow)
	deny := slices.Clone(p.Deny)
	c.deny.Store(&deny)
	c.hc = &http.Client{
		Transport:     c.transport(),
		CheckRedirect: c.checkRedirect,
		Jar:           nil,
	}
	return c, nil
}

// Truncating returns a copy of c that truncates over-cap bodies instead of
// failing with ErrTooLarge. The copy shares c's connection pool.
func (c *Client) Truncating() *Client {
	d := *c
	d.policy.Truncate = true
	return &d
}

// SetAllow replaces the allowlist (see Policy.Allow); it takes effect for
// the next connection. On error the previous list stays. Kept-alive
// connections to hosts no longer allowed are closed.
func (c *Client) SetAllow(list []string) error {
	allow, err := ParseAllow(list)
	if err != nil {
		return err
	}
	c.allow.Store(&allow)
	c.hc.CloseIdleConnections()
	return nil
}

// CloseIdleConnections closes the idle keep-alive connections of c.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

func (c *Client) transport() *http.Transport {
	return &http.Transport{
		// Proxy must stay nil: a proxy resolves and connects by itself,
		// out of reach of the dial-time check.
		Proxy:                  nil,
		DialContext:            c.dial,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           16,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
}

type dialKey struct{}

// dialTarget carries the URL host being dialed to the Control hook.
type dialTarget struct {
	host      string
	allowHost bool
}

// dial notes the host about to be dialed (before any resolution) in the
// context, then lets a net.Dialer resolve and connect; control checks each
// address it actually connects to.
func (c *Client) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, refusef("bad address %q", addr)
	}
	ctx = context.WithValue(ctx, dialKey{}, dialTarget{host: host, allowHost: c.allow.Load().AllowsHost(host)})
	d := net.Dialer{Resolver: c.resolver, ControlContext: c.control, KeepAlive: 30 * time.Second}
	return d.DialContext(ctx, network, addr)
}

// control runs right before connect(2) with the resolved address.
func (c *Client) control(ctx context.Context, network, address string, _ syscall.RawConn) error {
	t, _ := ctx.Value(dialKey{}).(dialTarget) // missing: not allowlisted
	return c.checkDial(t, network, address)
}

// checkDial decides whether the address about to be connected to may be.
func (c *Client) checkDial(t dialTarget, network, address string) error {
	if network != "tcp4" && network != "tcp6" && network != "tcp" {
		return refusef("network %q is not allowed", network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return refusef("cannot check address %q", address)
	}
	ip := ap.Addr().WithZone("").Unmap()
	if denied(*c.deny.Load(), ip, ap.Port()) {
		return refusef("%s port %d is the orchestrator's own service", t.host, ap.Port())
	}
	if t.allowHost || c.allow.Load().AllowsAddr(ip) {
		return nil
	}
	if reason, blocked := classify(ip); blocked {
		return addrRefusal(t.host, ip, reason)
	}
	if !slices.Contains(c.policy.Ports, int(ap.Port())) {
		return refusef("port %d of %s is not allowed (only %s); an admin can allowlist the host in settings",
			ap.Port(), t.host, portList(c.policy.Ports))
	}
	return nil
}

func addrRefusal(host string, ip netip.Addr, reason string) error {
	shown := ip.String()
	if v4, ok := embedded4(ip); ok {
		shown += " (carrying " + v4.String() + ")"
	}
	hint := "; an admin can allowlist the host in settings"
	if reason == reasonMetadata {
		hint = "" // never suggest opening the metadata endpoint
	}
	if h, err := netip.ParseAddr(host); err == nil && h.WithZone("").Unmap() == ip || host == "" {
		return refusef("%s is %s%s", shown, reason, strings.Replace(hint, "host", "address", 1))
	}
	return refusef("%s resolves to %s, %s%s", host, shown, reason, hint)
}

func portList(ports []int) string {
	s := ""
	for i, p := range ports {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprint(p)
	}
	return s
}
