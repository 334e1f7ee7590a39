package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

func testVersion(name, src string) ScriptVersion {
	sum := sha256.Sum256([]byte(src))
	return ScriptVersion{Name: name, SHA256: hex.EncodeToString(sum[:]), Source: src, Description: "d " + src,
		Grants:   Grants{Secrets: []string{"API_KEY"}, Hosts: []string{"api.example.com"}, TimeoutMS: 10000},
		Findings: []Finding{{Severity: "high", Line: 2, Rule: "undeclared-host", Message: "m"}},
		Proposer: "assistant"}
}

func mustInsert(t *testing.T, s *Store, v ScriptVersion) ScriptVersion {
	t.Helper()
	got, created, err := s.InsertScriptVersion(context.Background(), v)
	if err != nil || !created {
		t.Fatalf("InsertScriptVersion(%s) = created %v, %v", v.SHA256[:8], created, err)
	}
	return got
}

func statusOf(t *testing.T, s *Store, name, sha string) string {
	t.Helper()
	v, err := s.GetScriptVersion(context.Background(), name, sha)
	if err != nil {
		t.Fatalf("GetScriptVersion: %v", err)
	}
	return v.Status
}

func TestInsertScriptVersionIsIdempotent(t *testing.T) {
	s, clk, _ := newTestStore(t)
	ctx := context.Background()
	v := testVersion("weather", "print(1)\n")
	first := mustInsert(t, s, v)
	want := v
	want.Status, want.CreatedAt = ScriptPending, fromDB(toDB(clk.Now()))
	if !reflect.DeepEqual(first, want) {
		t.Fatalf("stored\n%+v\nwant\n%+v", first, want)
	}
	if _, err := s.ApproveScript(ctx, ScriptDecision{Name: v.Name, SHA256: v.SHA256, By: "admin:a"}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	again := v
	again.Description, again.Proposer = "other", "someone else"
	got, created, err := s.InsertScriptVersion(ctx, again)
	if err != nil || created {
		t.Fatalf("second insert: created %v, %v", created, err)
	}
	if got.Status != ScriptApproved || got.Description != v.Description || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("second insert returned %+v, want the existing approved row", got)
	}
}

func TestScriptDecisions(t *testing.T) {
	s, clk, _ := newTestStore(t)
	ctx := context.Background()
	v1 := mustInsert(t, s, testVersion("weather", "v1"))
	v2 := mustInsert(t, s, testVersion("weather", "v2")) // same time as v1: rowid orders them
	if _, err := s.ApprovedVersion(ctx, "weather"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ApprovedVersion before approval: %v", err)
	}
	d := func(v ScriptVersion) ScriptDecision {
		return ScriptDecision{Name: v.Name, SHA256: v.SHA256, By: "admin:a", Reason: "why"}
	}
	if old, err := s.ApproveScript(ctx, d(v1)); err != nil || old != "" {
		t.Fatalf("approve v1 = %q, %v", old, err)
	}
	if _, err := s.ApproveScript(ctx, d(v1)); !errors.Is(err, ErrScriptStatus) {
		t.Errorf("approving the approved version: %v, want ErrScriptStatus", err)
	}
	if err := s.RejectScript(ctx, d(v1)); !errors.Is(err, ErrScriptStatus) {
		t.Errorf("rejecting an approved version: %v, want ErrScriptStatus", err)
	}
	clk.Advance(time.Second)
	if old, err := s.ApproveScript(ctx, d(v2)); err != nil || old != v1.SHA256 {
		t.Fatalf("approve v2 = %q, %v; want v1 superseded", old, err)
	}
	if got := statusOf(t, s, "weather", v1.SHA256); got != ScriptSuperseded {
		t.Errorf("v1 status = %s", got)
	}
	a, err := s.ApprovedVersion(ctx, "weather")
	if err != nil || a.SHA256 != v2.SHA256 || a.DecidedBy != "admin:a" || !a.DecidedAt.Equal(fromDB(toDB(clk.Now()))) {
		t.Fatalf("ApprovedVersion = %+v, %v", a, err)
	}
	if sha, err := s.RevokeScript(ctx, ScriptDecision{Name: "weather", By: "admin:b", Reason: "leak"}); err != nil || sha != v2.SHA256 {
		t.Fatalf("revoke = %q, %v", sha, err)
	}
	if _, err := s.ApprovedVersion(ctx, "weather"); !errors.Is(err, ErrNotFound) {
		t.Errorf("ApprovedVersion after revoke: %v", err)
	}
	if _, err := s.RevokeScript(ctx, ScriptDecision{Name: "weather", By: "admin:b"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("second revoke: %v, want ErrNotFound", err)
	}
	v3 := mustInsert(t, s, testVersion("weather", "v3"))
	if err := s.RejectScript(ctx, d(v3)); err != nil {
		t.Fatal(err)
	}
	if err := s.RejectScript(ctx, d(v3)); !errors.Is(err, ErrScriptStatus) {
		t.Errorf("rejecting twice: %v", err)
	}
	unknown := ScriptDecision{Name: "weather", SHA256: testVersion("x", "nope").SHA256, By: "admin:a"}
	if _, err := s.ApproveScript(ctx, unknown); !errors.Is(err, ErrNotFound) {
		t.Errorf("approve unknown: %v", err)
	}
	if err := s.RejectScript(ctx, unknown); !errors.Is(err, ErrNotFound) {
		t.Errorf("reject unknown: %v", err)
	}
	// A revoked version may be approved again (an explicit decision on the same bytes).
	if old, err := s.ApproveScript(ctx, d(v2)); err != nil || old != "" {
		t.Errorf("re-approve revoked v2 = %q, %v", old, err)
	}
	vs, err := s.ListScriptVersions(ctx, "weather")
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, v := range vs {
		order = append(order, v.Source+":"+v.Status)
	}
	if want := []string{"v3:rejected", "v2:approved", "v1:superseded"}; !reflect.DeepEqual(order, want) {
		t.Errorf("versions = %v, want %v", order, want)
	}
}

func TestOneApprovedVersionEnforcedBySchema(t *testing.T) {
	s, _, path := newTestStore(t)
	v1 := mustInsert(t, s, testVersion("a", "1"))
	mustInsert(t, s, testVersion("a", "2"))
	if _, err := s.ApproveScript(context.Background(), ScriptDecision{Name: "a", SHA256: v1.SHA256, By: "x"}); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	if _, err := db.Exec("UPDATE script_versions SET status = 'approved' WHERE name = 'a'"); err == nil {
		t.Fatal("the database accepted two approved versions of one script")
	}
	if _, err := db.Exec("UPDATE script_versions SET status = 'bogus' WHERE name = 'a'"); err == nil {
		t.Fatal("the database accepted an unknown status")
	}
}

func TestConcurrentApprovalsLeaveOneApproved(t *testing.T) {
	s, _, _ := newTestStore(t)
	ctx := context.Background()
	var vs []ScriptVersion
	for i := range 6 {
		vs = append(vs, mustInsert(t, s, testVersion("race", fmt.Sprint(i))))
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(vs))
	for _, v := range vs {
		wg.Go(func() {
			_, err := s.ApproveScript(ctx, ScriptDecision{Name: v.Name, SHA256: v.SHA256, By: "admin"})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("approve: %v", err)
		}
	}
	all, err := s.ListScriptVersions(ctx, "race")
	if err != nil {
		t.Fatal(err)
	}
	approved := 0
	for _, v := range all {
		switch v.Status {
		case ScriptApproved:
			approved++
		case ScriptSuperseded:
		default:
			t.Errorf("version %s is %s", v.Source, v.Status)
		}
	}
	if approved != 1 {
		t.Errorf("%d approved versions, want 1", approved)
	}
}

func TestListScripts(t *testing.T) {
	s, clk, _ := newTestStore(t)
	ctx := context.Background()
	b1 := mustInsert(t, s, testVersion("bravo", "b1"))
	if _, err := s.ApproveScript(ctx, ScriptDecision{Name: "bravo", SHA256: b1.SHA256, By: "x"}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	mustInsert(t, s, testVersion("bravo", "b2"))
	mustInsert(t, s, testVersion("alpha", "a1"))
	c1 := mustInsert(t, s, testVersion("charlie", "c1"))
	if _, err := s.ApproveScript(ctx, ScriptDecision{Name: "charlie", SHA256: c1.SHA256, By: "x"}); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListScripts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, sum := range list {
		approved := "-"
		if sum.Approved != nil {
			approved = sum.Approved.Source
		}
		got = append(got, sum.Name+":"+approved+":"+sum.Latest.Source)
	}
	if want := []string{"alpha:-:a1", "bravo:b1:b2", "charlie:c1:c1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ListScripts = %v, want %v", got, want)
	}
}

// A decision committed through one Store is seen at once by another Store
// on the same file (as by another process): no cache serves a stale row.
func TestApprovedVersionSeesRevokeAtOnce(t *testing.T) {
	s, _, path := newTestStore(t)
	other := openAt(t, path)
	ctx := context.Background()
	v := mustInsert(t, s, testVersion("w", "src"))
	for range 3 {
		if _, err := s.ApproveScript(ctx, ScriptDecision{Name: "w", SHA256: v.SHA256, By: "a"}); err != nil {
			t.Fatal(err)
		}
		for _, st := range []*Store{s, other} {
			if got, err := st.ApprovedVersion(ctx, "w"); err != nil || got.SHA256 != v.SHA256 {
				t.Fatalf("ApprovedVersion after approve = %v", err)
			}
		}
		if _, err := other.RevokeScript(ctx, ScriptDecision{Name: "w", By: "a"}); err != nil {
			t.Fatal(err)
		}
		for _, st := range []*Store{s, other} {
			if _, err := st.ApprovedVersion(ctx, "w"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("ApprovedVersion right after revoke: %v, want ErrNotFound", err)
			}
		}
	}
}

// TestPendingCaps (issue 11 item 12): a new version past a cap on pending
// versions, of one script or of all, is refused and stores nothing;
// proposing an existing version and deciding pending ones free the way;
// concurrent inserts cannot pass a cap together.
func TestPendingCaps(t *testing.T) {
	s, _, _ := newTestStore(t)
	ctx := context.Background()
	caps := PendingCaps{PerScript: 2, Total: 3}
	insert := func(name, src string) (bool, error) {
		_, created, err := s.InsertPendingVersion(ctx, testVersion(name, src), caps)
		return created, err
	}
	for _, src := range []string{"a1", "a2"} {
		if created, err := insert("alpha", src); err != nil || !created {
			t.Fatalf("alpha %s: %v, %v", src, created, err)
		}
	}
	_, err := insert("alpha", "a3")
	var pe *PendingCapError
	if !errors.As(err, &pe) || !errors.Is(err, ErrPendingCap) || pe.Name != "alpha" || pe.Pending != 2 || pe.Cap != 2 {
		t.Fatalf("third alpha: %v", err)
	}
	if created, err := insert("alpha", "a1"); err != nil || created {
		t.Fatalf("an existing version at the cap: created %v, %v", created, err)
	}
	if created, err := insert("beta", "b1"); err != nil || !created {
		t.Fatalf("beta: %v, %v", created, err)
	}
	_, err = insert("gamma", "g1")
	if !errors.As(err, &pe) || pe.Name != "" || pe.Pending != 3 || pe.Cap != 3 {
		t.Fatalf("fourth pending overall: %v", err)
	}
	if vs, _ := s.ListScriptVersions(ctx, "gamma"); len(vs) != 0 {
		t.Fatalf("a refused version was stored: %+v", vs)
	}
	// Rejecting one frees a place.
	if err := s.RejectScript(ctx, ScriptDecision{Name: "alpha", SHA256: testVersion("alpha", "a1").SHA256, By: "admin:a", Reason: "no"}); err != nil {
		t.Fatal(err)
	}
	if created, err := insert("gamma", "g1"); err != nil || !created {
		t.Fatalf("after a rejection: %v, %v", created, err)
	}

	// Concurrent inserts of distinct versions: exactly the cap's worth pass.
	caps = PendingCaps{PerScript: 4, Total: 100}
	var wg sync.WaitGroup
	var mu sync.Mutex
	stored := 0
	for i := range 12 {
		wg.Go(func() {
			if created, err := insert("delta", fmt.Sprint("d", i)); err == nil && created {
				mu.Lock()
				stored++
				mu.Unlock()
			} else if !errors.Is(err, ErrPendingCap) {
				t.Errorf("concurrent insert %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if stored != 4 {
		t.Errorf("%d concurrent versions stored, want the cap of 4", stored)
	}
}
