package admin

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/approval"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// The scripts pages: the list of scripts and the review page of one
// version. Everything a script's proposer wrote (source, description,
// findings' messages, reasons) is untrusted text: it only ever reaches the
// templates as strings, which html/template escapes.

// scriptRow is one line of the scripts list.
type scriptRow struct {
	Name        string
	Description string
	Status      string // "pending" when a version waits for review, else the approved or latest one's
	ApprovedSHA string // "" when none is approved
	Pending     int
	LastChange  time.Time
}

func (s *Server) pageScripts(w http.ResponseWriter, r *http.Request) error {
	sums, err := s.Store.ListScripts(r.Context())
	if err != nil {
		return err
	}
	rows := make([]scriptRow, 0, len(sums))
	for _, sum := range sums {
		vs, err := s.Store.ListScriptVersions(r.Context(), sum.Name)
		if err != nil {
			return err
		}
		rows = append(rows, summarizeScript(sum, vs))
	}
	slices.SortStableFunc(rows, func(a, b scriptRow) int {
		if (a.Pending > 0) != (b.Pending > 0) {
			if a.Pending > 0 {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Name, b.Name)
	})
	s.render(w, r, http.StatusOK, "scripts", view{Title: "Scripts", Nav: "scripts", Data: rows})
	return nil
}

func summarizeScript(sum store.ScriptSummary, vs []store.ScriptVersion) scriptRow {
	row := scriptRow{Name: sum.Name, Description: sum.Latest.Description, Status: sum.Latest.Status}
	if sum.Approved != nil {
		row.Description, row.Status, row.ApprovedSHA = sum.Approved.Description, tools.ScriptApproved, sum.Approved.SHA256
	}
	for _, v := range vs {
		if v.Status == tools.ScriptPending {
			row.Pending++
		}
		row.LastChange = newestTime(row.LastChange, v.CreatedAt, v.DecidedAt)
	}
	if row.Pending > 0 {
		row.Status = tools.ScriptPending
	}
	return row
}

func newestTime(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t
		}
	}
	return out
}

// reviewPage is what templates/review.html shows.
type reviewPage struct {
	Version   approval.Version
	Timeout   string
	Secrets   []grantedSecret
	Lines     []sourceLine
	Findings  []tools.Finding
	Diff      []diffLine
	DiffState string // "diff", "approved" (this is the approved version) or "none" (no approved version)
	Approved  *store.ScriptVersion
	History   []store.ScriptVersion
	Pending   bool
	Test      testRun
}

// grantedSecret is a secret the version asks for, and whether it is set.
type grantedSecret struct {
	Name    string
	Missing bool
}

// sourceLine is one numbered line of the source listing.
type sourceLine struct {
	N        int
	Text     string
	Severity string // the highest severity of the findings on this line; "" when none
	Notes    string // the findings on this line, for the tooltip
}

// diffLine is one line of the unified diff; Kind is its CSS class.
type diffLine struct {
	Kind string // "add", "del", "hunk" or ""
	Text string
}

// testRun is the test-run form and its outcome.
type testRun struct {
	Function, Args, Kwargs string
	Ran                    bool
	OK                     bool
	Output                 string
	Error                  string // why it did not run
}

func (s *Server) pageReview(w http.ResponseWriter, r *http.Request) error {
	p, err := s.review(r.Context(), r.PathValue("name"), r.URL.Query().Get("sha256"))
	if err != nil {
		return err
	}
	if fns := p.Version.Functions; len(fns) > 0 {
		p.Test.Function = fns[0].Name
	}
	s.renderReview(w, r, http.StatusOK, p, "")
	return nil
}

func (s *Server) renderReview(w http.ResponseWriter, r *http.Request, code int, p reviewPage, msg string) {
	s.render(w, r, code, "review", view{Title: "Review " + p.Version.Name, Nav: "scripts", Data: p,
		Error: msg, Script: "review.js"})
}

// review gathers the review page of name@sha; sha empty means the newest
// pending version, else the approved one, else the newest.
func (s *Server) review(ctx context.Context, name, sha string) (reviewPage, error) {
	if !approval.ValidName(name) {
		return reviewPage{}, scriptError(approval.ErrNotFound)
	}
	history, err := s.Store.ListScriptVersions(ctx, name)
	if err != nil {
		return reviewPage{}, err
	}
	if len(history) == 0 {
		return reviewPage{}, scriptError(approval.ErrNotFound)
	}
	p := reviewPage{History: history}
	for i, v := range history {
		if v.Status == tools.ScriptApproved {
			p.Approved = &history[i]
		}
	}
	if sha == "" {
		sha = history[0].SHA256
		if i := slices.IndexFunc(history, func(v store.ScriptVersion) bool { return v.Status == tools.ScriptPending }); i >= 0 {
			sha = history[i].SHA256
		} else if p.Approved != nil {
			sha = p.Approved.SHA256
		}
	}
	if p.Version, err = s.Approval.Version(ctx, name, sha); err != nil {
		return reviewPage{}, scriptError(err)
	}
	diff, err := s.Approval.Diff(ctx, name, p.Version.SHA256)
	if err != nil {
		return reviewPage{}, scriptError(err)
	}
	switch {
	case p.Approved == nil:
		p.DiffState = "none"
	case p.Approved.SHA256 == p.Version.SHA256:
		p.DiffState = "approved"
	default:
		p.DiffState, p.Diff = "diff", classifyDiff(diff)
	}
	p.Pending = p.Version.Status == tools.ScriptPending
	p.Timeout = (time.Duration(p.Version.Grants.TimeoutMS) * time.Millisecond).String()
	p.Findings = sortedFindings(p.Version.Findings)
	p.Lines = sourceLines(p.Version.Source, p.Findings)
	if p.Secrets, err = s.grantedSecrets(ctx, p.Version.Grants.Secrets); err != nil {
		return reviewPage{}, err
	}
	return p, nil
}

// grantedSecrets marks the granted secrets that have no value yet.
func (s *Server) grantedSecrets(ctx context.Context, names []string) ([]grantedSecret, error) {
	out := make([]grantedSecret, len(names))
	var known []string
	if s.Vault != nil && len(names) > 0 {
		infos, err := s.Vault.List(ctx)
		if err != nil {
			return nil, err
		}
		for _, in := range infos {
			known = append(known, in.Name)
		}
	}
	for i, n := range names {
		out[i] = grantedSecret{Name: n, Missing: s.Vault != nil && !slices.Contains(known, n)}
	}
	return out, nil
}

func severityRank(sev string) int {
	switch sev {
	case "high":
		return 0
	case "warning":
		return 1
	}
	return 2
}

// sortedFindings orders findings by severity, then line.
func sortedFindings(fs []tools.Finding) []tools.Finding {
	out := slices.Clone(fs)
	slices.SortStableFunc(out, func(a, b tools.Finding) int {
		return cmp.Or(cmp.Compare(severityRank(a.Severity), severityRank(b.Severity)), cmp.Compare(a.Line, b.Line))
	})
	return out
}

// sourceLines numbers the source's lines and flags those with findings.
func sourceLines(src string, findings []tools.Finding) []sourceLine {
	texts := strings.Split(src, "\n")
	if len(texts) > 1 && texts[len(texts)-1] == "" {
		texts = texts[:len(texts)-1]
	}
	lines := make([]sourceLine, len(texts))
	for i, t := range texts {
		lines[i] = sourceLine{N: i + 1, Text: strings.TrimSuffix(t, "\r")}
	}
	for _, f := range findings { // most severe first
		if f.Line < 1 || f.Line > len(lines) {
			continue
		}
		l := &lines[f.Line-1]
		if l.Severity == "" {
			l.Severity = f.Severity
		}
		note := f.Severity + " " + f.Rule + ": " + f.Message
		if l.Notes == "" {
			l.Notes = note
		} else {
			l.Notes += "\n" + note
		}
	}
	return lines
}

// classifyDiff splits a unified diff into lines classed for display.
func classifyDiff(diff string) []diffLine {
	var out []diffLine
	for _, l := range strings.Split(strings.TrimSuffix(diff, "\n"), "\n") {
		kind := ""
		switch {
		case strings.HasPrefix(l, "+++ "), strings.HasPrefix(l, "--- "), strings.HasPrefix(l, "@@"), strings.HasPrefix(l, `\`):
			kind = "hunk"
		case strings.HasPrefix(l, "+"):
			kind = "add"
		case strings.HasPrefix(l, "-"):
			kind = "del"
		}
		out = append(out, diffLine{Kind: kind, Text: l})
	}
	return out
}

// reviewURL is the review page of name@sha.
func reviewURL(name, sha string) string {
	u := "/scripts/" + url.PathEscape(name)
	if sha != "" {
		u += "?sha256=" + url.QueryEscape(strings.ToLower(sha))
	}
	return u
}

func shortSHA(sha string) string { return sha[:min(12, len(sha))] }

func (s *Server) pageApproveScript(w http.ResponseWriter, r *http.Request) error {
	name, sha := r.PathValue("name"), r.PathValue("sha256")
	if err := s.Approval.Approve(r.Context(), name, sha, who(r).actor()); err != nil {
		return scriptError(err)
	}
	s.redirect(w, r, reviewURL(name, sha), fmt.Sprintf("Approved %s@%s: from now on this exact version is the one that runs.",
		name, shortSHA(sha)))
	return nil
}

func (s *Server) pageRejectScript(w http.ResponseWriter, r *http.Request) error {
	name, sha := r.PathValue("name"), r.PathValue("sha256")
	if err := s.Approval.Reject(r.Context(), name, sha, who(r).actor(), r.PostFormValue("reason")); err != nil {
		if !errors.Is(err, approval.ErrReasonRequired) {
			return scriptError(err)
		}
		p, perr := s.review(r.Context(), name, sha)
		if perr != nil {
			return perr
		}
		s.renderReview(w, r, http.StatusBadRequest, p, scriptError(err).Error())
		return nil
	}
	s.redirect(w, r, reviewURL(name, sha), fmt.Sprintf("Rejected %s@%s.", name, shortSHA(sha)))
	return nil
}

func (s *Server) pageRevokeScript(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := s.Approval.Revoke(r.Context(), name, who(r).actor(), r.PostFormValue("reason")); err != nil {
		return scriptError(err)
	}
	back := r.PostFormValue("sha256")
	if len(back) != 64 {
		back = ""
	}
	s.redirect(w, r, reviewURL(name, back), fmt.Sprintf("Revoked %s: no version of it runs until one is approved again.", name))
	return nil
}

// pageTestScript runs a version with arguments through the worker's sandbox
// and shows the review page with the outcome.
func (s *Server) pageTestScript(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	v, err := s.Approval.Resolve(r.Context(), name, strings.TrimSpace(r.PostFormValue("sha256")))
	if err != nil {
		return scriptError(err)
	}
	p, err := s.review(r.Context(), name, v.SHA256)
	if err != nil {
		return err
	}
	p.Test = testRun{Function: strings.TrimSpace(r.PostFormValue("function")), Args: r.PostFormValue("args"),
		Kwargs: r.PostFormValue("kwargs")}
	t := tools.ScriptTest{Name: name, SHA256: p.Version.SHA256, Function: p.Test.Function}
	if err := decodeArg(p.Test.Args, &t.Args); err != nil {
		p.Test.Error = `Arguments must be a JSON array, for example ["Paris", 3]: ` + err.Error()
		s.renderReview(w, r, http.StatusBadRequest, p, "")
		return nil
	}
	if err := decodeArg(p.Test.Kwargs, &t.Kwargs); err != nil {
		p.Test.Error = `Keyword arguments must be a JSON object, for example {"units": "metric"}: ` + err.Error()
		s.renderReview(w, r, http.StatusBadRequest, p, "")
		return nil
	}
	res, err := s.Core.TestScript(r.Context(), who(r).actor(), t)
	if err != nil {
		var he *httpError
		if !errors.As(scriptError(err), &he) {
			return err
		}
		p.Test.Error = he.Msg
		s.renderReview(w, r, he.Code, p, "")
		return nil
	}
	p.Test.Ran, p.Test.OK, p.Test.Output = true, res.OK, res.Output
	s.renderReview(w, r, http.StatusOK, p, "")
	return nil
}

// decodeArg decodes one JSON form field; blank means none.
func decodeArg(text string, v any) error {
	if strings.TrimSpace(text) == "" {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(text))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("got a JSON %s", te.Value)
		}
		return err
	}
	if err := dec.Decode(&json.RawMessage{}); !errors.Is(err, io.EOF) {
		return errors.New("unexpected text after the JSON value")
	}
	return nil
}
