package approval

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// Approved returns the currently approved version of name — its source,
// sha256 and grants — read from the database on every call, or
// ErrNotApproved. Its Functions are left empty: this is the path right
// before a run, and the sandbox compiles the source anyway.
func (s *Service) Approved(ctx context.Context, name string) (Version, error) {
	if !ValidName(name) {
		return Version{}, fmt.Errorf("approval: approved version of %q: %w", name, ErrNotApproved)
	}
	v, err := s.st.ApprovedVersion(ctx, name)
	if err != nil {
		return Version{}, fmt.Errorf("approval: approved version of %s: %w", name, mapStore(err, ErrNotApproved))
	}
	return version(v, tools.ScriptInfo{Name: v.Name, Description: v.Description, SHA256: v.SHA256,
		Status: v.Status, Grants: wireGrants(v.Grants)}), nil
}

// IsApproved reports whether name@sha256 is the approved version right
// now, read from the database.
func (s *Service) IsApproved(ctx context.Context, name, sha256 string) (bool, error) {
	v, err := s.Approved(ctx, name)
	if errors.Is(err, ErrNotApproved) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return v.SHA256 == strings.ToLower(sha256), nil
}

// Version returns one version with everything known about it, or
// ErrNotFound.
func (s *Service) Version(ctx context.Context, name, sha256 string) (Version, error) {
	sha256 = strings.ToLower(sha256)
	if !ValidName(name) || !shaRE.MatchString(sha256) {
		return Version{}, fmt.Errorf("approval: version %q: %w", name, ErrNotFound)
	}
	v, err := s.st.GetScriptVersion(ctx, name, sha256)
	if err != nil {
		return Version{}, fmt.Errorf("approval: version %s: %w", name, mapStore(err, ErrNotFound))
	}
	return version(v, info(v)), nil
}

// Resolve returns the version name@sha256, or, when sha256 is empty, the
// approved version of name (ErrNotApproved when none is): the version an
// admin's test run means.
func (s *Service) Resolve(ctx context.Context, name, sha256 string) (Version, error) {
	if sha256 == "" {
		v, err := s.Approved(ctx, name)
		if err != nil {
			return Version{}, err
		}
		sha256 = v.SHA256
	}
	return s.Version(ctx, name, sha256)
}

func version(v store.ScriptVersion, si tools.ScriptInfo) Version {
	findings := wireFindings(v.Findings)
	if findings == nil {
		findings = []tools.Finding{}
	}
	return Version{ScriptInfo: si, Source: v.Source, Findings: findings, Proposer: v.Proposer,
		CreatedAt: v.CreatedAt, DecidedAt: v.DecidedAt, DecidedBy: v.DecidedBy, Reason: v.Reason}
}

// List returns scripts by name. approvedOnly (script_list, for the model):
// the approved version of every script that has one. Otherwise (admins):
// for every script its approved version, if any, followed by its latest
// version when that is another one (a pending update, a rejection).
func (s *Service) List(ctx context.Context, approvedOnly bool) ([]tools.ScriptInfo, error) {
	sums, err := s.st.ListScripts(ctx)
	if err != nil {
		return nil, fmt.Errorf("approval: list: %w", err)
	}
	out := []tools.ScriptInfo{}
	for _, sum := range sums {
		if sum.Approved != nil {
			out = append(out, info(*sum.Approved))
		}
		if !approvedOnly && (sum.Approved == nil || sum.Approved.SHA256 != sum.Latest.SHA256) {
			out = append(out, info(sum.Latest))
		}
	}
	return out, nil
}

// Status returns a script's approved and latest versions and its history,
// newest first, or ErrNotFound when no version of it exists.
func (s *Service) Status(ctx context.Context, name string) (StatusReport, error) {
	if !ValidName(name) {
		return StatusReport{}, fmt.Errorf("approval: status of %q: %w", name, ErrNotFound)
	}
	vs, err := s.st.ListScriptVersions(ctx, name)
	if err != nil {
		return StatusReport{}, fmt.Errorf("approval: status of %s: %w", name, err)
	}
	if len(vs) == 0 {
		return StatusReport{}, fmt.Errorf("approval: status of %s: %w", name, ErrNotFound)
	}
	r := StatusReport{Name: name, Versions: make([]tools.ScriptInfo, len(vs))}
	for i, v := range vs {
		r.Versions[i] = info(v)
		if v.Status == tools.ScriptApproved {
			a := r.Versions[i]
			r.Approved = &a
		}
	}
	r.Latest = r.Versions[0]
	return r, nil
}
