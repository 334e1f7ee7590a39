package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// appendRow appends a row that continues the chain, with a fake hash.
func appendRow(t *testing.T, s *Store, at time.Time, actor, action string) AuditRow {
	t.Helper()
	r, err := s.AppendAudit(context.Background(), func(h AuditHead) (AuditRow, error) {
		return AuditRow{ID: h.LastID + 1, Time: at, Actor: actor, Action: action, Outcome: "ok",
			Details: "{}", PrevHash: h.LastHash, Hash: fmt.Sprintf("%064d", h.LastID+1)}, nil
	})
	if err != nil {
		t.Fatalf("AppendAudit: %v", err)
	}
	return r
}

func TestAppendAuditEnforcesChain(t *testing.T) {
	s, clk, path := newTestStore(t)
	ctx := context.Background()
	first := appendRow(t, s, clk.Now(), "system", "a")
	if first.ID != 1 || first.PrevHash != genesis {
		t.Errorf("first row = %+v, want id 1 after genesis", first)
	}
	bad := []func(AuditHead) AuditRow{
		func(h AuditHead) AuditRow { return AuditRow{ID: h.LastID + 2, PrevHash: h.LastHash} },
		func(h AuditHead) AuditRow { return AuditRow{ID: h.LastID, PrevHash: h.LastHash} },
		func(h AuditHead) AuditRow { return AuditRow{ID: h.LastID + 1, PrevHash: genesis} },
	}
	for i, build := range bad {
		_, err := s.AppendAudit(ctx, func(h AuditHead) (AuditRow, error) { return build(h), nil })
		if !errors.Is(err, ErrAuditChain) {
			t.Errorf("bad row %d: err = %v, want ErrAuditChain", i, err)
		}
	}
	var lastID int64
	var lastHash string
	db := rawDB(t, path)
	if err := db.QueryRow("SELECT last_id, last_hash FROM audit_head").Scan(&lastID, &lastHash); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, db, "audit"); n != 1 || lastID != 1 || lastHash != first.Hash {
		t.Errorf("after refused appends: %d rows, head %d %s", n, lastID, lastHash)
	}
}

func TestAuditTriggersRejectUpdateAndDelete(t *testing.T) {
	s, clk, path := newTestStore(t)
	appendRow(t, s, clk.Now(), "system", "a")
	db := rawDB(t, path)
	for _, q := range []string{"UPDATE audit SET actor = 'x'", "DELETE FROM audit"} {
		if _, err := db.Exec(q); err == nil {
			t.Errorf("%s succeeded", q)
		}
	}
}

func TestListAuditFilters(t *testing.T) {
	s, clk, _ := newTestStore(t)
	ctx := context.Background()
	t0 := clk.Now()
	for i, a := range []struct{ actor, action string }{
		{"admin:alice", "login"}, {"worker", "task.completed"}, {"admin:alice", "script.approved"},
		{"admin:bob", "login"},
	} {
		appendRow(t, s, t0.Add(time.Duration(i)*time.Minute), a.actor, a.action)
	}
	tests := []struct {
		q    AuditQuery
		want []int64
	}{
		{AuditQuery{}, []int64{4, 3, 2, 1}},
		{AuditQuery{Action: "login"}, []int64{4, 1}},
		{AuditQuery{Actor: "admin:alice"}, []int64{3, 1}},
		{AuditQuery{Since: t0.Add(time.Minute), Until: t0.Add(3 * time.Minute)}, []int64{3, 2}},
		{AuditQuery{Limit: 2, Offset: 1}, []int64{3, 2}},
		{AuditQuery{OldestFirst: true}, []int64{1, 2, 3, 4}},
		{AuditQuery{OldestFirst: true, AfterID: 1, Limit: 2}, []int64{2, 3}},
		{AuditQuery{OldestFirst: true, AfterID: 1, Action: "login"}, []int64{4}},
		{AuditQuery{AfterID: 2}, []int64{4, 3}},
	}
	for _, tt := range tests {
		rows, err := s.ListAudit(ctx, tt.q)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, r := range rows {
			got = append(got, r.ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("ListAudit(%+v) = %v, want %v", tt.q, got, tt.want)
		}
	}
}

func TestScanAuditReportsMissingHead(t *testing.T) {
	s, clk, path := newTestStore(t)
	ctx := context.Background()
	appendRow(t, s, clk.Now(), "system", "a")
	var n int
	head, err := s.ScanAudit(ctx, func(AuditRow) error { n++; return nil })
	if err != nil || n != 1 || head.LastID != 1 || head.Missing {
		t.Fatalf("ScanAudit = %+v, %d rows, %v", head, n, err)
	}
	if _, err := rawDB(t, path).Exec("DELETE FROM audit_head"); err != nil {
		t.Fatal(err)
	}
	head, err = s.ScanAudit(ctx, func(AuditRow) error { return nil })
	if err != nil || !head.Missing {
		t.Errorf("ScanAudit without head = %+v, %v; want Missing", head, err)
	}
	if _, err := s.AppendAudit(ctx, func(h AuditHead) (AuditRow, error) {
		return AuditRow{ID: h.LastID + 1, PrevHash: h.LastHash}, nil
	}); err == nil {
		t.Error("AppendAudit onto a log without head succeeded")
	}
}
