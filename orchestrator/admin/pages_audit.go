package admin

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/airlockhq/airlock/internal/utf8cut"
	"github.com/airlockhq/airlock/orchestrator/audit"
)

const (
	auditPageSize   = 100 // entries per page of /audit
	auditExportPage = 500 // entries per query of /audit/export
	auditDetailsCut = 120 // bytes of details shown before "more"
	dateLayout      = "2006-01-02"
)

// auditQuery is the filter of the audit page and export, as typed and as
// parsed.
type auditQuery struct {
	Action, Actor, Since, Until string
	Hide                        string // "failures": leave out unauthenticated failures
	filter                      audit.Filter
}

// parseAuditQuery reads the filters: action and actor exact, since and
// until dates (UTC days, both inclusive).
func parseAuditQuery(r *http.Request) (auditQuery, error) {
	q := r.URL.Query()
	aq := auditQuery{Action: strings.TrimSpace(q.Get("action")), Actor: strings.TrimSpace(q.Get("actor")),
		Since: strings.TrimSpace(q.Get("since")), Until: strings.TrimSpace(q.Get("until"))}
	aq.filter = audit.Filter{Action: aq.Action, Actor: aq.Actor}
	if q.Get("hide") == "failures" {
		aq.Hide, aq.filter = "failures", hideFailures(aq.filter)
	}
	if aq.Since != "" {
		t, err := time.Parse(dateLayout, aq.Since)
		if err != nil {
			return aq, errorf(http.StatusBadRequest, "“from” must be a date like 2025-01-31")
		}
		aq.filter.Since = t
	}
	if aq.Until != "" {
		t, err := time.Parse(dateLayout, aq.Until)
		if err != nil {
			return aq, errorf(http.StatusBadRequest, "“to” must be a date like 2025-01-31")
		}
		aq.filter.Until = t.AddDate(0, 0, 1) // the whole day
	}
	return aq, nil
}

// values are the filters as URL query parameters, for links.
func (aq auditQuery) values() url.Values {
	v := url.Values{}
	for k, x := range map[string]string{"action": aq.Action, "actor": aq.Actor, "since": aq.Since, "until": aq.Until,
		"hide": aq.Hide} {
		if x != "" {
			v.Set(k, x)
		}
	}
	return v
}

type auditData struct {
	Query   auditQuery
	Entries []auditRow
	Offset  int
	// Newer and Older are the links to the neighbouring pages; empty when
	// there is none.
	Newer, Older string
	Export       string
	// Verify is the chain check, when asked for (?verify=1).
	Verify *audit.Report
}

type auditRow struct {
	audit.Entry
	// Details is the details JSON, cut to Short when long.
	Details, Short string
}

func (s *Server) pageAudit(w http.ResponseWriter, r *http.Request) error {
	aq, qerr := parseAuditQuery(r)
	d := auditData{Query: aq, Export: "/audit/export"}
	if enc := aq.values().Encode(); enc != "" {
		d.Export += "?" + enc
	}
	if r.URL.Query().Get("verify") != "" {
		rep, err := s.Audit.Verify(r.Context())
		if err != nil {
			return err
		}
		d.Verify = &rep
	}
	if qerr != nil {
		he := qerr.(*httpError)
		s.render(w, r, he.Code, "audit", view{Title: "Audit log", Nav: "audit", Error: he.Msg, Data: d})
		return nil
	}
	if v := r.URL.Query().Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errorf(http.StatusBadRequest, "offset must be a number of 0 or more")
		}
		d.Offset = n
	}
	f := aq.filter
	f.Limit, f.Offset = auditPageSize+1, d.Offset
	entries, err := s.Audit.List(r.Context(), f)
	if err != nil {
		return err
	}
	if len(entries) > auditPageSize {
		entries = entries[:auditPageSize]
		d.Older = auditPageLink(aq, d.Offset+auditPageSize)
	}
	if d.Offset > 0 {
		d.Newer = auditPageLink(aq, max(0, d.Offset-auditPageSize))
	}
	d.Entries = make([]auditRow, len(entries))
	for i, e := range entries {
		d.Entries[i] = auditRow{Entry: e, Details: string(e.Details)}
		if len(e.Details) > auditDetailsCut {
			d.Entries[i].Short = utf8cut.Prefix(string(e.Details), auditDetailsCut) + "…"
		}
	}
	s.render(w, r, http.StatusOK, "audit", view{Title: "Audit log", Nav: "audit", Data: d})
	return nil
}

func auditPageLink(aq auditQuery, offset int) string {
	v := aq.values()
	if offset > 0 {
		v.Set("offset", strconv.Itoa(offset))
	}
	if enc := v.Encode(); enc != "" {
		return "/audit?" + enc
	}
	return "/audit"
}

// pageExportAudit streams the entries matching the filters as JSON lines, oldest
// first, each line passed through the redactor. Entries appended while it
// runs are left out (but the export itself is then audited).
func (s *Server) pageExportAudit(w http.ResponseWriter, r *http.Request) error {
	aq, err := parseAuditQuery(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	// The newest matching entry bounds the export, so it ends even while
	// entries keep coming.
	f := aq.filter
	f.Limit = 1
	top, err := s.Audit.List(ctx, f)
	if err != nil {
		return err
	}
	var last int64
	if len(top) > 0 {
		last = top[0].ID
	}
	f = aq.filter
	f.Limit, f.OldestFirst = auditExportPage, true
	page, err := s.Audit.List(ctx, f)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/x-ndjson")
	h.Set("Content-Disposition", `attachment; filename="airlock-audit-`+time.Now().UTC().Format(dateLayout)+`.jsonl"`)
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 64<<10)
	n := 0
	for len(page) > 0 {
		for _, e := range page {
			if e.ID > last {
				page = nil
				break
			}
			line, err := json.Marshal(e)
			if err != nil {
				s.abortExport(r, err)
			}
			line = append(s.redact(line), '\n')
			if _, err := bw.Write(line); err != nil {
				return nil // the client went away
			}
			n++
		}
		if len(page) < auditExportPage {
			break
		}
		if err := bw.Flush(); err != nil {
			return nil
		}
		f.AfterID = page[len(page)-1].ID
		if page, err = s.Audit.List(ctx, f); err != nil {
			s.abortExport(r, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return nil
	}
	details := map[string]any{"entries": n}
	for k, v := range aq.values() {
		details[k] = v[0]
	}
	s.auditEvent(r, audit.Event{Actor: who(r).actor(), Action: "audit.exported", Outcome: audit.OutcomeOK, Details: details})
	return nil
}

// abortExport ends an export that failed after its first byte: the
// connection is cut, so the download fails instead of looking complete.
func (s *Server) abortExport(r *http.Request, err error) {
	s.Logger.Error("audit export failed", "path", r.URL.Path, "err", err)
	panic(http.ErrAbortHandler)
}
