package approval

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/naming"
	"github.com/airlockhq/airlock/orchestrator/secrets"
)

// Header limits.
const (
	DefaultTimeout      = 10 * time.Second
	MaxTimeout          = 60 * time.Second
	MinTimeout          = 100 * time.Millisecond
	MaxDescriptionBytes = 300
	MaxGrants           = 32 // secrets, and hosts, per script
)

// HeaderKeys are the keys a script header may declare.
var HeaderKeys = []string{"description", "secrets", "hosts", "timeout"}

var (
	keyRE        = regexp.MustCompile(`^#\s*@([A-Za-z_][A-Za-z0-9_-]*)(.*)$`)
	secretNameRE = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)
	labelRE      = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$`)
)

// HeaderError is an invalid script header.
type HeaderError struct {
	Line int // 1-based
	Msg  string
}

func (e *HeaderError) Error() string {
	return fmt.Sprintf("approval: header line %d: %s", e.Line, e.Msg)
}

// ParseHeader reads a script's header: the comment lines at its top (blank
// lines allowed), where
//
//	# @description: Current weather for a city
//	# @secrets: WEATHER_API_KEY, OTHER_KEY
//	# @hosts: api.weatherapi.com, 192.0.2.10
//	# @timeout: 10s
//
// declare what approving the script grants. Every key is optional and may
// appear once; an unknown key, or a known key after the header, is an
// error. The description is shown to admins as the script's label: it may
// not hold an invisible or text-reordering character (see package
// naming). Secret names match [A-Z][A-Z0-9_]{0,63}. A host is a host name or
// an IP address, without scheme, port or path, and no wildcard: it grants
// that exact host on any port (the egress guard still applies). The
// timeout defaults to 10s and is between 100ms and 60s.
func ParseHeader(src string) (description string, g tools.Grants, err error) {
	g = tools.Grants{Secrets: []string{}, Hosts: []string{}, TimeoutMS: DefaultTimeout.Milliseconds()}
	seen := map[string]bool{}
	inHeader := true
	for i, raw := range strings.Split(src, "\n") {
		l := strings.TrimSpace(raw)
		if inHeader && l != "" && !strings.HasPrefix(l, "#") {
			inHeader = false
		}
		m := keyRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		key, rest := strings.ToLower(m[1]), strings.TrimSpace(m[2])
		known := slices.Contains(HeaderKeys, key)
		if !inHeader {
			if known {
				return "", tools.Grants{}, &HeaderError{i + 1, fmt.Sprintf(
					"@%s must be in the header, the comment lines at the top of the script", key)}
			}
			continue
		}
		if msg := checkKey(key, rest, known, seen); msg != "" {
			return "", tools.Grants{}, &HeaderError{i + 1, msg}
		}
		seen[key] = true
		if msg := setKey(key, strings.TrimSpace(rest[1:]), &description, &g); msg != "" {
			return "", tools.Grants{}, &HeaderError{i + 1, msg}
		}
	}
	return description, g, nil
}

// checkKey returns what is wrong with a header key line, or "".
func checkKey(key, rest string, known bool, seen map[string]bool) string {
	switch {
	case !known:
		return fmt.Sprintf("unknown header key @%s (known: @%s)", key, strings.Join(HeaderKeys, ", @"))
	case !strings.HasPrefix(rest, ":"):
		return fmt.Sprintf("write @%s: followed by its value", key)
	case seen[key]:
		return fmt.Sprintf("@%s is declared twice", key)
	}
	return ""
}

// setKey stores one header value, or returns what is wrong with it.
func setKey(key, value string, description *string, g *tools.Grants) string {
	switch key {
	case "description":
		if value == "" {
			return "@description is empty"
		}
		if len(value) > MaxDescriptionBytes {
			return fmt.Sprintf("@description is longer than %d bytes", MaxDescriptionBytes)
		}
		if msg := naming.Check(value); msg != "" {
			return "@description " + msg
		}
		*description = value
	case "secrets":
		return parseList(value, "secrets", checkSecretName, &g.Secrets)
	case "hosts":
		return parseList(value, "hosts", checkHost, &g.Hosts)
	case "timeout":
		d, err := time.ParseDuration(value)
		switch {
		case err != nil:
			return fmt.Sprintf("@timeout %q is not a duration such as 10s or 1m", value)
		case d < MinTimeout || d > MaxTimeout:
			return fmt.Sprintf("@timeout %s is out of range: between %s and %s", d, MinTimeout, MaxTimeout)
		}
		g.TimeoutMS = d.Milliseconds()
	}
	return ""
}

// parseList reads a comma-separated list, normalizing and checking each
// entry with check and dropping duplicates.
func parseList(value, key string, check func(string) (string, string), out *[]string) string {
	for _, item := range strings.Split(value, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		v, msg := check(item)
		if msg != "" {
			return msg
		}
		if !slices.Contains(*out, v) {
			*out = append(*out, v)
		}
	}
	if len(*out) > MaxGrants {
		return fmt.Sprintf("more than %d @%s", MaxGrants, key)
	}
	return ""
}

func checkSecretName(s string) (string, string) {
	if !secretNameRE.MatchString(s) {
		return "", fmt.Sprintf("secret name %q is invalid: use upper-case letters, digits and _, starting with a letter"+
			" (for example WEATHER_API_KEY), separated by commas", s)
	}
	if secrets.IsSystem(s) {
		return "", fmt.Sprintf("secret %s is kept by Airlock for an external MCP server's OAuth sign-in; no script may be granted a %s* secret", s, secrets.SystemPrefix)
	}
	return s, ""
}

// checkHost normalizes a host grant (lower case, canonical IP form) or
// says what is wrong with it.
func checkHost(h string) (string, string) {
	h = strings.ToLower(h)
	switch {
	case strings.Contains(h, "/"):
		return "", fmt.Sprintf("host %q: give the host name only, without scheme or path", h)
	case strings.Contains(h, "*"):
		return "", fmt.Sprintf("host %q: wildcards are not allowed; list each host", h)
	}
	if ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")); err == nil {
		if ip.Zone() != "" {
			return "", fmt.Sprintf("host %q: an IPv6 zone is not allowed", h)
		}
		return ip.String(), ""
	}
	if strings.Contains(h, ":") {
		return "", fmt.Sprintf("host %q: give the host without a port (a grant covers the host on any port)", h)
	}
	h = strings.TrimSuffix(h, ".")
	if len(h) > 253 {
		return "", fmt.Sprintf("host %q is too long", h)
	}
	for _, label := range strings.Split(h, ".") {
		if len(label) > 63 || !labelRE.MatchString(label) {
			return "", fmt.Sprintf("host %q is not a valid host name (letters, digits and -; non-ASCII names in their xn-- form)", h)
		}
	}
	return h, ""
}
