package approval

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/airlockhq/airlock/mcp/tools"
)

func TestLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	svc := e.svc
	v1 := e.mustPropose(t, "weather", weather("v1"))
	if v1.Status != tools.ScriptPending || len(v1.SHA256) != 64 {
		t.Fatalf("propose v1 = %+v", v1)
	}
	if _, err := svc.Approved(ctx, "weather"); !errors.Is(err, ErrNotApproved) {
		t.Fatalf("Approved before approval: %v", err)
	}
	if err := svc.Approve(ctx, "weather", v1.SHA256, "admin:alice"); err != nil {
		t.Fatal(err)
	}
	a, err := svc.Approved(ctx, "weather")
	if err != nil || a.SHA256 != v1.SHA256 || a.Source != weather("v1") || a.Status != tools.ScriptApproved ||
		!reflect.DeepEqual(a.Grants, tools.Grants{Secrets: []string{"API_KEY"}, Hosts: []string{"api.example.com"}, TimeoutMS: 10000}) {
		t.Fatalf("Approved = %+v, %v", a, err)
	}
	v2 := e.mustPropose(t, "weather", weather("v2"))
	if v2.Status != tools.ScriptPending || v2.SHA256 == v1.SHA256 {
		t.Fatalf("propose v2 = %+v", v2)
	}
	if a, _ := svc.Approved(ctx, "weather"); a.SHA256 != v1.SHA256 {
		t.Fatalf("after proposing v2, approved = %s, want v1 still", a.SHA256)
	}
	if err := svc.Approve(ctx, "weather", strings.ToUpper(v2.SHA256), "admin:bob"); err != nil {
		t.Fatal(err)
	}
	assertStatuses(t, svc, "weather", map[string]string{v1.SHA256: tools.ScriptSuperseded, v2.SHA256: tools.ScriptApproved})
	if ok, err := svc.IsApproved(ctx, "weather", v2.SHA256); !ok || err != nil {
		t.Errorf("IsApproved(v2) = %v, %v", ok, err)
	}
	if ok, err := svc.IsApproved(ctx, "weather", v1.SHA256); ok || err != nil {
		t.Errorf("IsApproved(v1) = %v, %v", ok, err)
	}
	if err := svc.Revoke(ctx, "weather", "admin:alice", "leaks"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Approved(ctx, "weather"); !errors.Is(err, ErrNotApproved) {
		t.Errorf("Approved right after revoke: %v, want ErrNotApproved", err)
	}
	if ok, err := svc.IsApproved(ctx, "weather", v2.SHA256); ok || err != nil {
		t.Errorf("IsApproved after revoke = %v, %v", ok, err)
	}
	v3 := e.mustPropose(t, "weather", weather("v3"))
	if err := svc.Reject(ctx, "weather", v3.SHA256, "admin:carol", "uses the wrong endpoint"); err != nil {
		t.Fatal(err)
	}
	got, err := svc.Version(ctx, "weather", v3.SHA256)
	if err != nil || got.Status != tools.ScriptRejected || got.Reason != "uses the wrong endpoint" ||
		got.DecidedBy != "admin:carol" || got.DecidedAt.IsZero() || got.Proposer != "assistant" {
		t.Errorf("rejected version = %+v, %v", got, err)
	}
	assertStatuses(t, svc, "weather", map[string]string{v1.SHA256: tools.ScriptSuperseded,
		v2.SHA256: tools.ScriptRevoked, v3.SHA256: tools.ScriptRejected})
	assertAudit(t, e, v1.SHA256, v2.SHA256, v3.SHA256)
}

func assertStatuses(t *testing.T, svc *Service, name string, want map[string]string) {
	t.Helper()
	st, err := svc.Status(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, v := range st.Versions {
		got[v.SHA256] = v.Status
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
}

func assertAudit(t *testing.T, e *env, v1, v2, v3 string) {
	t.Helper()
	type row struct{ actor, sha, extra string }
	pick := func(action, extraKey string) []row {
		var out []row
		for _, d := range e.auditDetails(t, action) {
			if d["target"] != "weather" {
				t.Errorf("%s target = %v", action, d["target"])
			}
			extra, _ := d[extraKey].(string)
			out = append(out, row{d["actor"].(string), d["sha256"].(string), extra})
		}
		return out
	}
	checks := []struct {
		action, extraKey string
		want             []row
	}{
		{"script.proposed", "status", []row{{"assistant", v1, "pending"}, {"assistant", v2, "pending"}, {"assistant", v3, "pending"}}},
		{"script.approved", "superseded", []row{{"admin:alice", v1, ""}, {"admin:bob", v2, v1}}},
		{"script.revoked", "reason", []row{{"admin:alice", v2, "leaks"}}},
		{"script.rejected", "reason", []row{{"admin:carol", v3, "uses the wrong endpoint"}}},
	}
	for _, c := range checks {
		if got := pick(c.action, c.extraKey); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s audit = %v, want %v", c.action, got, c.want)
		}
	}
	for _, d := range e.auditDetails(t, "script.proposed") {
		if fmt.Sprint(d["findings"]) == "" || d["bytes"] == nil {
			t.Errorf("proposal audit without counts: %v", d)
		}
		for _, v := range d {
			if s, ok := v.(string); ok && strings.Contains(s, "http.get") {
				t.Errorf("the audit log holds source text: %v", d)
			}
		}
	}
}

func TestDecisionErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	svc := e.svc
	v := e.mustPropose(t, "weather", weather("x"))
	p := e.mustPropose(t, "weather", weather("y")) // stays pending
	unknown := strings.Repeat("ab", 32)
	tests := []struct {
		name string
		do   func() error
		want error
	}{
		{"approve unknown sha", func() error { return svc.Approve(ctx, "weather", unknown, "admin") }, ErrNotFound},
		{"approve malformed sha", func() error { return svc.Approve(ctx, "weather", "abc", "admin") }, ErrNotFound},
		{"approve unknown name", func() error { return svc.Approve(ctx, "other", v.SHA256, "admin") }, ErrNotFound},
		{"reject unknown", func() error { return svc.Reject(ctx, "weather", unknown, "admin", "r") }, ErrNotFound},
		{"reject without a reason", func() error { return svc.Reject(ctx, "weather", p.SHA256, "admin", " \n ") }, ErrReasonRequired},
		{"revoke with none approved", func() error { return svc.Revoke(ctx, "weather", "admin", "") }, ErrNotApproved},
		{"approve", func() error { return svc.Approve(ctx, "weather", v.SHA256, "admin") }, nil},
		{"approve the approved", func() error { return svc.Approve(ctx, "weather", v.SHA256, "admin") }, ErrNotPending},
		{"reject the approved", func() error { return svc.Reject(ctx, "weather", v.SHA256, "admin", "r") }, ErrNotPending},
		{"revoke", func() error { return svc.Revoke(ctx, "weather", "admin", "") }, nil},
		{"reject the revoked", func() error { return svc.Reject(ctx, "weather", v.SHA256, "admin", "r") }, ErrNotPending},
		{"re-approve the revoked", func() error { return svc.Approve(ctx, "weather", v.SHA256, "admin") }, nil},
		{"status of unknown", func() error { _, err := svc.Status(ctx, "nope"); return err }, ErrNotFound},
		{"version of unknown", func() error { _, err := svc.Version(ctx, "weather", unknown); return err }, ErrNotFound},
		{"diff of unknown", func() error { _, err := svc.Diff(ctx, "weather", unknown); return err }, ErrNotFound},
	}
	for _, tc := range tests {
		if err := tc.do(); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if err := svc.Approve(ctx, "weather", v.SHA256, ""); err == nil {
		t.Error("a decision without an admin was accepted")
	}
	if got, err := svc.Version(ctx, "weather", p.SHA256); err != nil || got.Status != tools.ScriptPending {
		t.Errorf("after a rejection without a reason: %+v, %v; want it still pending", got.Status, err)
	}
	if n := len(e.auditDetails(t, "script.rejected")); n != 0 {
		t.Errorf("%d rejections audited; want none", n)
	}
}

func TestProposeIsIdempotent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first := e.mustPropose(t, "weather", weather("same"))
	if err := e.svc.Approve(ctx, "weather", first.SHA256, "admin"); err != nil {
		t.Fatal(err)
	}
	again := e.mustPropose(t, "weather", weather("same"))
	if again.SHA256 != first.SHA256 || again.Status != tools.ScriptApproved ||
		!reflect.DeepEqual(again.Findings, first.Findings) {
		t.Errorf("second proposal = %+v, want the existing approved version", again)
	}
	st, err := e.svc.Status(ctx, "weather")
	if err != nil || len(st.Versions) != 1 {
		t.Fatalf("Status = %+v, %v; want one version", st, err)
	}
	if calls := e.hookCalls(); len(calls) != 1 || calls[0].SHA256 != first.SHA256 ||
		calls[0].Status != tools.ScriptPending || len(calls[0].Functions) != 1 {
		t.Errorf("hook calls = %+v, want one, for the new version", calls)
	}
	var news []any
	for _, d := range e.auditDetails(t, "script.proposed") {
		news = append(news, d["new"])
	}
	if !reflect.DeepEqual(news, []any{true, false}) {
		t.Errorf("proposal audit new = %v", news)
	}
}

// Racing approvals of different versions leave exactly one approved.
func TestConcurrentApprovals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var shas []string
	for i := range 4 {
		shas = append(shas, e.mustPropose(t, "race", weather(fmt.Sprint(i))).SHA256)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(shas))
	for i, sha := range shas {
		wg.Go(func() { errs[i] = e.svc.Approve(ctx, "race", sha, fmt.Sprintf("admin:%d", i)) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("approve %d: %v", i, err)
		}
	}
	st, err := e.svc.Status(ctx, "race")
	if err != nil {
		t.Fatal(err)
	}
	approved := 0
	for _, v := range st.Versions {
		if v.Status == tools.ScriptApproved {
			approved++
		} else if v.Status != tools.ScriptSuperseded {
			t.Errorf("version %s is %s", v.SHA256[:8], v.Status)
		}
	}
	if approved != 1 || st.Approved == nil {
		t.Fatalf("%d approved versions, want 1", approved)
	}
	if a, err := e.svc.Approved(ctx, "race"); err != nil || a.SHA256 != st.Approved.SHA256 {
		t.Errorf("Approved = %v, %v", a.SHA256, err)
	}
	if n := len(e.auditDetails(t, "script.approved")); n != len(shas) {
		t.Errorf("%d approval audit entries, want %d", n, len(shas))
	}
}

func TestListAndStatus(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b1 := e.mustPropose(t, "bravo", weather("b1"))
	if err := e.svc.Approve(ctx, "bravo", b1.SHA256, "admin"); err != nil {
		t.Fatal(err)
	}
	b2 := e.mustPropose(t, "bravo", weather("b2"))
	a1 := e.mustPropose(t, "alpha", weather("a1"))
	names := func(list []tools.ScriptInfo) []string {
		var out []string
		for _, si := range list {
			out = append(out, si.Name+"@"+si.SHA256[:6]+":"+si.Status)
			if len(si.Functions) != 1 || !reflect.DeepEqual(si.Functions[0].Params, []string{"city", "units="}) {
				t.Errorf("functions of %s = %+v", si.Name, si.Functions)
			}
		}
		return out
	}
	all, err := e.svc.List(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"alpha@" + a1.SHA256[:6] + ":pending", "bravo@" + b1.SHA256[:6] + ":approved", "bravo@" + b2.SHA256[:6] + ":pending"}
	if got := names(all); !reflect.DeepEqual(got, want) {
		t.Errorf("List(all) = %v, want %v", got, want)
	}
	approved, err := e.svc.List(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(approved); !reflect.DeepEqual(got, want[1:2]) {
		t.Errorf("List(approved) = %v, want %v", got, want[1:2])
	}
	st, err := e.svc.Status(ctx, "bravo")
	if err != nil || st.Approved == nil || st.Approved.SHA256 != b1.SHA256 || st.Latest.SHA256 != b2.SHA256 ||
		len(st.Versions) != 2 || st.Versions[0].SHA256 != b2.SHA256 || st.Latest.Description != "Current weather" {
		t.Errorf("Status(bravo) = %+v, %v", st, err)
	}
}

// TestResolve: no sha256 means the approved version (ErrNotApproved when
// none is); a sha256 means that version, approved or not.
func TestResolve(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v1 := e.mustPropose(t, "weather", weather("1"))
	if _, err := e.svc.Resolve(ctx, "weather", ""); !errors.Is(err, ErrNotApproved) {
		t.Errorf("none approved: %v; want ErrNotApproved", err)
	}
	if err := e.svc.Approve(ctx, "weather", v1.SHA256, "admin"); err != nil {
		t.Fatal(err)
	}
	v2 := e.mustPropose(t, "weather", weather("2"))
	for sha, want := range map[string]string{"": v1.SHA256, strings.ToUpper(v2.SHA256): v2.SHA256} {
		if got, err := e.svc.Resolve(ctx, "weather", sha); err != nil || got.SHA256 != want || got.Source == "" {
			t.Errorf("Resolve(%q) = %s, %v; want %s with its source", sha, got.SHA256, err, want)
		}
	}
	if _, err := e.svc.Resolve(ctx, "weather", strings.Repeat("ab", 32)); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown sha: %v; want ErrNotFound", err)
	}
}
