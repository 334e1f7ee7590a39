// Package scan is the static review aid for proposed scripts: it reads a
// script's source, never executes any of it, and reports findings an admin
// should look at before approving it — undeclared secrets and hosts,
// exfiltration endpoints, text addressed to a reviewer or a model, hidden
// Unicode and long encoded blobs.
//
// Findings advise; they decide nothing. The orchestrator enforces the
// grants at run time whatever the scan found, so a script that hides a
// host from the scan still cannot reach it.
package scan

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/airlockhq/airlock/mcp/tools"
)

// Severities.
const (
	SeverityInfo    = "info"
	SeverityWarning = "warning"
	SeverityHigh    = "high"
)

// Rule ids.
const (
	RuleUndeclaredSecret     = "undeclared-secret"
	RuleUndeclaredHost       = "undeclared-host"
	RuleSecretInHost         = "secret-in-url-host"
	RuleExfiltration         = "exfiltration-endpoint"
	RulePromptInjection      = "prompt-injection"
	RuleHiddenCharacters     = "hidden-characters"
	RuleConfusableIdentifier = "confusable-identifier"
	RuleEncodedBlob          = "encoded-blob"
	RuleUnusedGrant          = "unused-grant"
	RuleUnparsed             = "unparsed"
	RuleTooManyFindings      = "too-many-findings"
)

// MaxFindings caps the findings of one script; the last one then says how
// many more there were.
const MaxFindings = 100

// Scan returns the findings for src under the grants g, sorted by line.
// A source that does not parse gets only the checks that need no syntax
// tree (hidden characters, comments) and an info finding saying so.
func Scan(src string, g tools.Grants) []tools.Finding {
	sc := newScanner(src, g)
	sc.hiddenCharacters()
	sc.comments()
	if f := parse(src); f != nil {
		sc.tree(f)
		sc.unusedGrants()
	} else {
		sc.add(0, SeverityInfo, RuleUnparsed, "the script does not parse; only comments and characters were scanned")
	}
	sc.grantedHosts()
	return sc.result()
}

// scanner accumulates the findings of one Scan.
type scanner struct {
	src     string
	secrets map[string]bool // granted
	hosts   []string        // granted, lower case

	usedSecrets, usedHosts     map[string]bool
	dynamicSecret, dynamicHost bool
	literalHosts               map[string]bool // hosts seen in string literals

	findings []tools.Finding
	seen     map[tools.Finding]bool
}

func newScanner(src string, g tools.Grants) *scanner {
	sc := &scanner{src: src, secrets: map[string]bool{}, usedSecrets: map[string]bool{},
		usedHosts: map[string]bool{}, literalHosts: map[string]bool{}, seen: map[tools.Finding]bool{}}
	for _, s := range g.Secrets {
		sc.secrets[s] = true
	}
	for _, h := range g.Hosts {
		sc.hosts = append(sc.hosts, normalizeHost(h))
	}
	return sc
}

// add records a finding once.
func (sc *scanner) add(line int, severity, rule, format string, args ...any) {
	f := tools.Finding{Severity: severity, Line: line, Rule: rule, Message: fmt.Sprintf(format, args...)}
	if sc.seen[f] {
		return
	}
	sc.seen[f] = true
	sc.findings = append(sc.findings, f)
}

var severityRank = map[string]int{SeverityHigh: 0, SeverityWarning: 1, SeverityInfo: 2}

// result sorts the findings by line, then severity, rule and message, and
// caps them at MaxFindings, most severe kept first.
func (sc *scanner) result() []tools.Finding {
	out := slices.Clone(sc.findings)
	if len(out) > MaxFindings {
		slices.SortStableFunc(out, func(a, b tools.Finding) int {
			return cmp.Compare(severityRank[a.Severity], severityRank[b.Severity])
		})
		more := len(out) - (MaxFindings - 1)
		out = append(out[:MaxFindings-1], tools.Finding{Severity: SeverityInfo, Rule: RuleTooManyFindings,
			Message: fmt.Sprintf("%d more findings not shown", more)})
	}
	slices.SortStableFunc(out, func(a, b tools.Finding) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(severityRank[a.Severity], severityRank[b.Severity]),
			strings.Compare(a.Rule, b.Rule), strings.Compare(a.Message, b.Message))
	})
	if out == nil {
		out = []tools.Finding{}
	}
	return out
}

// quote shows a snippet of scanned text in a message: quoted, cut short.
func quote(s string) string {
	const limit = 60
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return fmt.Sprintf("%q", s)
}
