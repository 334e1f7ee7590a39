package admin

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/secure/redact"
)

var auditRowRE = regexp.MustCompile(`<tr id="entry-(\d+)">`)

func (e *env) appendAudit(action string, details map[string]any) audit.Entry {
	e.t.Helper()
	ent, err := e.audit.Append(context.Background(), audit.Event{Actor: "system", Action: action, Outcome: audit.OutcomeOK,
		Details: details})
	if err != nil {
		e.t.Fatal(err)
	}
	return ent
}

// rowIDs returns the entry ids of an audit page, in page order.
func rowIDs(body string) []string {
	var ids []string
	for _, m := range auditRowRE.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func TestAuditPageFiltersByAction(t *testing.T) {
	e := newEnv(t)
	e.setup()
	b := e.login()
	var want []string
	for i := 0; i < 6; i++ {
		action := "test.other"
		if i%2 == 0 {
			action = "test.picked"
		}
		ent := e.appendAudit(action, map[string]any{"n": i})
		if action == "test.picked" {
			want = append([]string{fmt.Sprint(ent.ID)}, want...) // newest first
		}
	}
	code, body := b.get("/audit?action=test.picked")
	if code != http.StatusOK {
		t.Fatalf("GET /audit?action=: %d", code)
	}
	if got := rowIDs(body); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("filtered rows %v, want %v", got, want)
	}
	if strings.Contains(body, "test.other") || strings.Contains(body, "auth.") {
		t.Errorf("the filtered page shows other actions")
	}
	// Unfiltered, every entry is there, login included.
	_, body = b.get("/audit")
	if !strings.Contains(body, "test.other") || len(rowIDs(body)) < 7 {
		t.Errorf("the unfiltered page lacks entries: %v", rowIDs(body))
	}
	// Actor and dates filter too.
	if _, body = b.get("/audit?actor=system&action=test.other"); len(rowIDs(body)) != 3 {
		t.Errorf("actor filter: %v", rowIDs(body))
	}
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format("2006-01-02")
	today := time.Now().UTC().Format("2006-01-02")
	if _, body = b.get("/audit?since=" + tomorrow); len(rowIDs(body)) != 0 {
		t.Errorf("since tomorrow: %v", rowIDs(body))
	}
	if _, body = b.get("/audit?action=test.picked&since=" + today + "&until=" + today); len(rowIDs(body)) != 3 {
		t.Errorf("since and until today: %v", rowIDs(body))
	}
	if code, body = b.get("/audit?since=yesterday"); code != http.StatusBadRequest || !strings.Contains(body, "must be a date") {
		t.Errorf("bad date: %d", code)
	}
}

func TestAuditPagePages(t *testing.T) {
	e := newEnv(t)
	e.setup()
	b := e.login()
	for i := 0; i < 130; i++ {
		e.appendAudit("test.page", nil)
	}
	_, body := b.get("/audit?action=test.page")
	first := rowIDs(body)
	if len(first) != 100 || strings.Contains(body, "Newer") {
		t.Fatalf("first page: %d rows", len(first))
	}
	m := regexp.MustCompile(`href="(/audit\?[^"]*offset=100[^"]*)">Older`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no older link on the first page")
	}
	_, body = b.get(strings.ReplaceAll(m[1], "&amp;", "&"))
	second := rowIDs(body)
	if len(second) != 30 || second[0] == first[0] || strings.Contains(body, "Older") || !strings.Contains(body, "Newer") {
		t.Errorf("second page: %d rows", len(second))
	}
}

func TestAuditPageVerify(t *testing.T) {
	e := newEnv(t)
	e.setup()
	b := e.login()
	e.appendAudit("test.one", nil)
	if _, body := b.get("/audit"); strings.Contains(body, "Chain verified") {
		t.Errorf("verified without being asked")
	}
	_, body := b.get("/audit?verify=1")
	if !strings.Contains(body, "Chain verified") {
		t.Errorf("verify: no OK report:\n%s", body)
	}
}

func TestAuditExportIsRedactedJSONLines(t *testing.T) {
	var holder redact.Holder
	e := newEnv(t, func(d *Deps) {
		d.Redactor = &holder
		d.Vault.OnChange(func() {
			vals, err := d.Vault.Values(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			list := make([]redact.Secret, len(vals))
			for i, nv := range vals {
				list[i] = redact.Secret{Name: nv.Name, Value: nv.Value}
			}
			r, err := redact.New(list)
			if err != nil {
				t.Error(err)
				return
			}
			holder.Store(r)
		})
	})
	e.setup()
	b := e.login()
	ctx := context.Background()
	if _, err := e.vault.Set(ctx, "EXPORT_KEY", secretCanary); err != nil {
		t.Fatal(err)
	}
	// The audit log itself has no redactor here: the export must redact.
	e.appendAudit("test.leak", map[string]any{"oops": "the key is " + secretCanary})
	for i := 0; i < 1100; i++ { // more than two export pages
		e.appendAudit("test.bulk", map[string]any{"i": i})
	}

	resp, err := b.c.Get(e.srv.URL + "/audit/export")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("export: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	wantCD := `attachment; filename="airlock-audit-` + time.Now().UTC().Format("2006-01-02") + `.jsonl"`
	if cd := resp.Header.Get("Content-Disposition"); cd != wantCD {
		t.Errorf("Content-Disposition %q, want %q", cd, wantCD)
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), secretCanary) {
		t.Fatalf("the export holds a secret value")
	}
	all, err := e.audit.List(ctx, audit.Filter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	leak := false
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ent audit.Entry
		if err := json.Unmarshal(sc.Bytes(), &ent); err != nil {
			t.Fatalf("line %d is not an audit entry: %v: %s", len(ids)+1, err, sc.Text())
		}
		ids = append(ids, ent.ID)
		if ent.Action == "test.leak" {
			leak = strings.Contains(string(ent.Details), "[REDACTED:EXPORT_KEY]")
		}
	}
	if int64(len(ids)) < all[0].ID-1 { // the export's own entry may come after
		t.Fatalf("export has %d entries, the log %d", len(ids), all[0].ID)
	}
	for i, id := range ids {
		if id != int64(i+1) {
			t.Fatalf("line %d has id %d: not every entry in id order", i+1, id)
		}
	}
	if !leak {
		t.Errorf("the secret in the details is not shown as [REDACTED:EXPORT_KEY]")
	}
	if ents := e.auditActions("audit.exported"); len(ents) != 1 || ents[0].Actor != "admin:alice" {
		t.Errorf("the export is not audited: %+v", ents)
	}

	// With a filter, only those, oldest first.
	_, body := b.get("/audit/export?action=test.leak")
	lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], `"action":"test.leak"`) || strings.Contains(body, secretCanary) {
		t.Errorf("filtered export: %q", body)
	}
	_, body = b.get("/audit/export?action=test.bulk")
	lines = strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	if len(lines) != 1100 || !strings.Contains(lines[0], `"details":{"i":0}`) || !strings.Contains(lines[1099], `"details":{"i":1099}`) {
		t.Errorf("filtered export: %d lines, first %q", len(lines), lines[0])
	}
	if _, body = b.get("/audit/export?action=nothing.like.this"); body != "" {
		t.Errorf("export of nothing: %q", body)
	}
}

// TestRealEventsVisibleDuringFailureFlood (issue 11, item 4): failed
// sign-ins from many clients stay out of the dashboard's recent activity
// and, on request, out of the audit page, so a real event stays visible.
func TestRealEventsVisibleDuringFailureFlood(t *testing.T) {
	e := newEnv(t)
	e.setup()
	b := e.login()
	real := e.appendAudit("test.real_event", nil)
	ctx := context.Background()
	for i := range 200 {
		e.auth.Login(ctx, fmt.Sprintf("user%d", i), "wrong password", fmt.Sprintf("198.51.100.%d", i), "bot", "session")
	}
	_, body := b.get("/")
	if !strings.Contains(body, "test.real_event") || strings.Contains(body, "auth.lockout") ||
		strings.Contains(body, `<td class="actor">anonymous</td>`) {
		t.Errorf("the dashboard's recent activity lost the real event or lists failures")
	}
	_, body = b.get("/audit?hide=failures")
	ids := rowIDs(body)
	if !strings.Contains(body, `name="hide" value="failures" checked`) || !strings.Contains(fmt.Sprint(ids), fmt.Sprint(real.ID)) ||
		strings.Contains(body, "198.51.100.") {
		t.Errorf("the audit page without failures: rows %v; want the real event %d and no failed sign-ins", ids, real.ID)
	}
	if _, body = b.get("/audit"); !strings.Contains(body, "198.51.100.") {
		t.Error("the full audit page hides the failures")
	}
}
