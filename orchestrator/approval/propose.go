package approval

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/naming"
	"github.com/airlockhq/airlock/orchestrator/scan"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/sandbox"
)

var (
	nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	shaRE  = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// ValidName reports whether name is a valid script name:
// [a-z][a-z0-9_]{0,63}.
func ValidName(name string) bool { return nameRE.MatchString(name) }

// Propose checks a script and stores it as a pending version with its
// grants and scan findings, then notifies the OnProposed hooks. Proposing
// a version that exists already (same name, same bytes) stores nothing and
// returns that version with its current status. A proposal that fails a
// check, or a new version past a cap on pending versions (SetPendingCaps),
// stores nothing and returns a *ProposalError saying what to fix.
func (s *Service) Propose(ctx context.Context, name, source, proposer string) (tools.ScriptProposeResult, error) {
	if proposer == "" {
		return tools.ScriptProposeResult{}, errors.New("approval: propose: proposer is required")
	}
	desc, g, err := check(name, source)
	if err != nil {
		return tools.ScriptProposeResult{}, err
	}
	sum := sha256.Sum256([]byte(source))
	v, created, err := s.st.InsertPendingVersion(ctx, store.ScriptVersion{
		Name: name, SHA256: hex.EncodeToString(sum[:]), Source: source, Description: desc, Grants: storeGrants(g),
		Findings: storeFindings(scan.Scan(source, g)), Proposer: proposer, CreatedAt: s.now(),
	}, s.pendingCaps())
	var pe *store.PendingCapError
	if errors.As(err, &pe) {
		return tools.ScriptProposeResult{}, capRefusal(pe)
	}
	if err != nil {
		return tools.ScriptProposeResult{}, fmt.Errorf("approval: propose %s: %w", name, err)
	}
	_, err = s.log.Append(ctx, audit.Event{Actor: proposer, Action: "script.proposed", Target: name,
		Outcome: audit.OutcomeOK, Details: map[string]any{"sha256": v.SHA256, "status": v.Status,
			"new": created, "bytes": len(source), "findings": countFindings(wireFindings(v.Findings))}})
	if err != nil {
		return tools.ScriptProposeResult{}, fmt.Errorf("approval: propose %s: stored, but not audited: %w", name, err)
	}
	if created {
		s.proposed(info(v))
	}
	return tools.ScriptProposeResult{Name: v.Name, SHA256: v.SHA256, Status: v.Status, Findings: wireFindings(v.Findings)}, nil
}

// capRefusal explains a proposal refused by a cap on pending versions.
func capRefusal(pe *store.PendingCapError) error {
	const wait = "an admin must approve or reject the pending versions before another one can be proposed. " +
		"Do not propose again now; tell the user the proposals await review in the admin UI"
	if pe.Name != "" {
		return refuse("%d versions of %q already await review, the limit per script is %d: %s", pe.Pending, pe.Name, pe.Cap, wait)
	}
	return refuse("%d script versions already await review, the limit for all scripts is %d: %s", pe.Pending, pe.Cap, wait)
}

// check runs every check a proposal must pass and returns its header.
func check(name, source string) (string, tools.Grants, error) {
	switch {
	case !ValidName(name):
		return "", tools.Grants{}, refuse("the name %q is invalid: use lower-case letters, digits and _, starting with a letter, at most 64 characters", name)
	case strings.TrimSpace(source) == "":
		return "", tools.Grants{}, refuse("the source is empty")
	case len(source) > sandbox.MaxSourceBytes:
		return "", tools.Grants{}, refuse("the source is %d bytes; the limit is %d", len(source), sandbox.MaxSourceBytes)
	case !utf8.ValidString(source):
		return "", tools.Grants{}, refuse("the source is not valid UTF-8")
	}
	desc, g, err := ParseHeader(source)
	var he *HeaderError
	if errors.As(err, &he) {
		return "", tools.Grants{}, refuse("invalid header, line %d: %s", he.Line, he.Msg)
	}
	if err != nil {
		return "", tools.Grants{}, err
	}
	ci, err := sandbox.Check(name+".star", source)
	if err != nil {
		return "", tools.Grants{}, refuse("the script does not compile; fix it and propose it again:\n%v", err)
	}
	// Function and parameter names are shown to the model and the
	// reviewer: Starlark takes any Unicode letter, invisible fillers too.
	for _, f := range ci.Functions {
		for _, n := range append([]string{f.Name}, f.Params...) {
			if msg := naming.Check(n); msg != "" {
				return "", tools.Grants{}, refuse("function %+q: the name %+q %s", f.Name, strings.Trim(n, "*="), msg)
			}
		}
	}
	return desc, g, nil
}

// countFindings counts findings by severity, for the audit log.
func countFindings(fs []tools.Finding) map[string]int {
	out := map[string]int{scan.SeverityHigh: 0, scan.SeverityWarning: 0, scan.SeverityInfo: 0}
	for _, f := range fs {
		out[f.Severity]++
	}
	return out
}

// info describes a stored version, with the functions the sandbox's Check
// finds in its source (none if it no longer compiles).
func info(v store.ScriptVersion) tools.ScriptInfo {
	si := tools.ScriptInfo{Name: v.Name, Description: v.Description, SHA256: v.SHA256, Status: v.Status, Grants: wireGrants(v.Grants)}
	if ci, err := sandbox.Check(v.Name+".star", v.Source); err == nil {
		for _, f := range ci.Functions {
			si.Functions = append(si.Functions, tools.FunctionInfo{Name: f.Name, Params: f.Params})
		}
	}
	return si
}
