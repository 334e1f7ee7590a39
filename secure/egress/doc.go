// Package egress is the guard every outbound HTTP request made on the AI's
// behalf passes through (web_fetch, script HTTP). It wraps an *http.Client
// whose every connection is checked at the moment it is dialed.
//
// Invariants:
//
//   - Only http and https URLs are fetched; any other scheme (file, ftp,
//     gopher, data…) and any URL carrying credentials (user:pass@) is refused
//     before anything is resolved or dialed, on the first request and on every
//     redirect hop.
//   - The destination IP is checked in the net.Dialer's Control hook, i.e. on
//     the exact address the socket is about to connect to, after DNS
//     resolution and before a single packet is sent. No separate earlier
//     lookup is trusted, so DNS rebinding (a public answer to a first lookup,
//     a private one to the next) cannot slip past: whatever address is
//     finally dialed is the one checked. Each redirect hop dials anew and is
//     checked anew.
//   - Refused unless allowlisted: loopback, private (RFC 1918), link-local
//     (including the 169.254.169.254 cloud metadata endpoint), CGNAT, IPv6
//     ULA and site-local, unspecified, multicast, broadcast, and reserved
//     ranges (IETF protocol assignments, documentation, benchmarking,
//     240.0.0.0/4, 6to4 relay anycast, IPv6 discard, Teredo, 6to4, anything
//     outside IPv6 global unicast 2000::/3). IPv4-mapped (::ffff:a.b.c.d) and
//     IPv4-compatible (::a.b.c.d) IPv6 addresses are judged by the IPv4
//     address they carry; IPv4-compatible ones are refused in any case, being
//     deprecated and never routed. NAT64 (64:ff9b::/96) addresses are judged
//     by their embedded IPv4 address, so an IPv6-only host behind DNS64 can
//     still reach public IPv4 sites but not 64:ff9b::10.0.0.1; the local-use
//     NAT64 prefix 64:ff9b:1::/48 is refused.
//   - Ports: a destination that is not allowlisted may be reached only on the
//     ports in Policy.Ports (by default 80 and 443), which keeps the guard from
//     being used to speak HTTP to SMTP, Redis and the like on public hosts. An
//     allowlisted host or network may be reached on any port.
//   - An admin allowlist entry is a hostname (exact, case-insensitive, no
//     wildcard), an IP address or a CIDR. A hostname entry is matched against
//     the host of the URL being dialed (carried to the Control hook through
//     the dial context, never re-derived from DNS), and lets that host reach
//     whatever address it resolves to. An IP or CIDR entry is matched against
//     the dialed address.
//   - Proxy is nil: HTTP_PROXY, HTTPS_PROXY and friends are ignored, because
//     a proxy would do the resolving and connecting itself and so bypass the
//     dial-time check.
//   - No cookie jar. Redirects are capped (Policy.MaxRedirects) and carry no
//     Referer, so a URL holding a key is not leaked to the next host; Go
//     already drops Authorization and Cookie on cross-domain redirects, but
//     copies every other header (an X-Api-Key, say) and, on 307 and 308, the
//     body. A caller whose requests carry credentials for one destination
//     (script HTTP) uses DoFollowing, whose FollowFunc vets every hop before
//     it is sent; a hop it refuses is never sent, and the 3xx is returned.
//   - The response body is read with a cap (Policy.MaxBodyBytes, counted after
//     transparent decompression), and the whole exchange, body included, is
//     bounded by Policy.Timeout, so a slow-drip body is cut.
//   - Error messages are safe to show to the model: they name the host and
//     the refused address, never the full URL (whose query may hold a key).
package egress
