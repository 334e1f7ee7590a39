package scan

import (
	"net/netip"
	"regexp"
	"strings"
)

// exfilSuffixes are domains of request-capture, tunnel and paste services:
// a host equal to one of them or under it is reported.
var exfilSuffixes = []string{
	"webhook.site", "webhook.cool", "requestbin.com", "requestbin.net", "requestbin.io", "pipedream.net",
	"ngrok.io", "ngrok.app", "ngrok-free.app", "ngrok.dev", "ngrok-free.dev", "ngrok.com",
	"pastebin.com", "hastebin.com", "paste.ee", "transfer.sh", "interact.sh", "oastify.com",
	"burpcollaborator.net", "beeceptor.com", "hookbin.com", "requestcatcher.com", "postb.in", "ptsv2.com",
	"ptsv3.com", "mockbin.org", "loca.lt", "localtunnel.me", "serveo.net", "trycloudflare.com", "0x0.st",
	"termbin.com", "dpaste.com", "dpaste.org", "ghostbin.co", "file.io", "bashupload.com", "dnslog.cn",
	"ceye.io", "canarytokens.com", "pagekite.me",
}

// exfilLabels are names that mark such a service in any label of a host
// (oast.pro, oast.live, …; x.requestbin.example).
var exfilLabels = []string{"requestbin", "pipedream", "hastebin", "interactsh", "burpcollaborator", "oast",
	"oastify", "ngrok", "ngrok-free"}

var (
	urlRE      = regexp.MustCompile(`(?i)\bhttps?://[^\s"'<>\x60\\]*`)
	hostnameRE = regexp.MustCompile(`(?i)\b[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+\b`)
	discordRE  = regexp.MustCompile(`(?i)\b(?:canary\.|ptb\.)?discord(?:app)?\.com/api/(?:v\d+/)?webhooks\b`)
	// numericHostRE matches the decimal, octal and hex spellings of IPv4
	// addresses that URL parsers accept (2130706433, 0x7f.1, 0177.0.0.1).
	numericHostRE = regexp.MustCompile(`(?i)^(?:0x[0-9a-f]+|[0-9]+)(?:\.(?:0x[0-9a-f]+|[0-9]+)){0,3}$`)
)

// normalizeHost lower-cases a host, drops a trailing dot and IPv6
// brackets, and writes IP addresses in their canonical form.
func normalizeHost(h string) string {
	h = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if ip, err := netip.ParseAddr(h); err == nil {
		return ip.WithZone("").String()
	}
	return h
}

// urlHost returns the host of an absolute http(s) URL, or false when the
// URL holds no host that can be read statically (empty, or a placeholder
// such as %s or {} to be filled in at run time).
func urlHost(u string) (string, bool) {
	i := strings.Index(u, "://")
	if i < 0 {
		return "", false
	}
	rest := u[i+3:]
	if end := strings.IndexAny(rest, "/?#"); end >= 0 {
		rest = rest[:end]
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = rest[at+1:]
	}
	if strings.HasPrefix(rest, "[") {
		end := strings.Index(rest, "]")
		if end < 0 {
			return "", false
		}
		rest = rest[:end+1]
	} else if colon := strings.LastIndex(rest, ":"); colon >= 0 {
		rest = rest[:colon]
	}
	h := normalizeHost(rest)
	if h == "" || strings.ContainsAny(h, "%{}$<>()+ ") {
		return "", false
	}
	return h, true
}

// hostTerminated reports whether the host of a URL prefix is complete: a
// '/', '?' or '#' follows it, so that text appended later cannot change
// the host.
func hostTerminated(prefix string) bool {
	i := strings.Index(prefix, "://")
	return i >= 0 && strings.ContainsAny(prefix[i+3:], "/?#")
}

// rawIP reports whether host is an IP address, in any spelling.
func rawIP(host string) bool {
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	return numericHostRE.MatchString(host)
}

// exfilHost reports whether host belongs to a request-capture, tunnel or
// paste service.
func exfilHost(host string) bool {
	for _, d := range exfilSuffixes {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	for _, label := range strings.Split(host, ".") {
		for _, l := range exfilLabels {
			if label == l {
				return true
			}
		}
	}
	return false
}

// granted reports whether host is among the granted hosts.
func (sc *scanner) granted(host string) bool {
	for _, h := range sc.hosts {
		if h == host {
			return true
		}
	}
	return false
}

// checkHost reports a host a script's URL names.
func (sc *scanner) checkHost(line int, host string) {
	sc.usedHosts[host] = true
	if rawIP(host) {
		sc.add(line, SeverityHigh, RuleExfiltration,
			"URL with a raw IP address %s: scripts should name the service they call", host)
	}
	if exfilHost(host) {
		sc.exfil(line, host, "")
	}
	if !sc.granted(host) {
		sc.add(line, SeverityHigh, RuleUndeclaredHost,
			"host %s is not declared in # @hosts; requests to it will be refused", host)
	}
}

// exfil reports an exfiltration endpoint; inside, when not empty, says
// where it was hidden.
func (sc *scanner) exfil(line int, host, inside string) {
	msg := host + " is a request-capture, tunnel or paste service often used to exfiltrate data"
	if inside != "" {
		msg += " (found inside " + inside + ")"
	}
	sc.add(line, SeverityHigh, RuleExfiltration, "%s", msg)
}

// checkURLs reports the hosts of the URLs in one line of a string literal,
// and the exfiltration endpoints it names even without a scheme.
func (sc *scanner) checkURLs(line int, text string) {
	for _, u := range urlRE.FindAllString(text, -1) {
		if h, ok := urlHost(u); ok {
			sc.literalHosts[h] = true
			sc.checkHost(line, h)
		}
	}
	sc.checkExfilNames(line, text, "")
}

// checkExfilNames reports exfiltration endpoints named anywhere in text;
// inside, when not empty, says where text was hidden.
func (sc *scanner) checkExfilNames(line int, text, inside string) {
	for _, h := range hostnameRE.FindAllString(text, -1) {
		if h = strings.ToLower(h); exfilHost(h) {
			sc.exfil(line, h, inside)
		}
	}
	if m := discordRE.FindString(text); m != "" {
		sc.add(line, SeverityHigh, RuleExfiltration,
			"Discord webhook URL (%s): anything posted there leaves the allowed channels", strings.ToLower(m))
	}
}

// grantedHosts reports granted hosts that are exfiltration endpoints or
// raw IP addresses, at the line of the # @hosts header.
func (sc *scanner) grantedHosts() {
	line := 0
	for _, c := range lexComments(sc.src) {
		if strings.HasPrefix(strings.TrimSpace(c.text), "@hosts") {
			line = c.line
			break
		}
	}
	for _, h := range sc.hosts {
		if exfilHost(h) {
			sc.add(line, SeverityHigh, RuleExfiltration,
				"the granted host %s is a request-capture, tunnel or paste service often used to exfiltrate data", h)
		}
		if rawIP(h) {
			sc.add(line, SeverityWarning, RuleExfiltration,
				"the granted host %s is a raw IP address: make sure it is the service you expect", h)
		}
	}
}
