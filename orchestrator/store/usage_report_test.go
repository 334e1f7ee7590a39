package store

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"
)

func cost(n int64) *int64 { return &n }

func TestUsageReport(t *testing.T) {
	s, clk, _ := newTestStore(t) // 2026-03-01 12:00 UTC
	ctx := context.Background()
	c1, c2 := mustConversation(t, s), mustConversation(t, s)
	record := func(c LLMCall) {
		t.Helper()
		c.Provider, c.Model, c.TaskID = "anthropic", "m", "t_x"
		if err := s.RecordLLMCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	// 40 days ago: outside the 30 days, outside the month.
	clk.Advance(-40 * 24 * time.Hour)
	record(LLMCall{ConversationID: c2.ID, InputTokens: 1e6, OutputTokens: 1, CostNanos: cost(9e9)})
	// Yesterday (February 28): in the 30 days, not in March.
	clk.Advance(39 * 24 * time.Hour)
	record(LLMCall{ConversationID: c1.ID, InputTokens: 100, OutputTokens: 10, CostNanos: cost(1000)})
	// Today.
	clk.Advance(24 * time.Hour)
	record(LLMCall{ConversationID: c1.ID, InputTokens: 1000, OutputTokens: 50, CacheReadTokens: 800,
		CacheWriteTokens: 100, CostNanos: cost(2500)})
	record(LLMCall{ConversationID: c2.ID, InputTokens: 10, OutputTokens: 5})  // unknown cost
	record(LLMCall{InputTokens: 7, OutputTokens: 3, CostNanos: cost(99_999)}) // no conversation

	r, err := s.UsageReport(ctx, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	wantToday := UsageTotals{Requests: 3, InputTokens: 1017, OutputTokens: 58, CacheReadTokens: 800,
		CacheWriteTokens: 100, CostNanos: 102_499, UnknownCostCalls: 1}
	if r.Today != wantToday {
		t.Errorf("Today = %+v\nwant %+v", r.Today, wantToday)
	}
	if r.Month != wantToday {
		t.Errorf("Month = %+v, want today's (yesterday was February)", r.Month)
	}
	if len(r.Days) != ReportDays || r.Days[ReportDays-1].Day != "2026-03-01" || r.Days[0].Day != "2026-01-31" {
		t.Fatalf("days: %d, from %s to %s", len(r.Days), r.Days[0].Day, r.Days[len(r.Days)-1].Day)
	}
	if r.Days[ReportDays-1].UsageTotals != wantToday {
		t.Errorf("last day = %+v", r.Days[ReportDays-1])
	}
	if y := r.Days[ReportDays-2]; y.Day != "2026-02-28" || y.CostNanos != 1000 || y.Requests != 1 {
		t.Errorf("yesterday = %+v", y)
	}
	if r.Days[0].Requests != 0 {
		t.Errorf("first day = %+v, want empty (the 40-day-old call is outside)", r.Days[0])
	}
	// c1: 3,500 known; c2: only its unknown-cost call today (the 40-day-old
	// one is outside the window). The call outside any conversation is
	// not listed.
	if len(r.TopConversations) != 2 {
		t.Fatalf("top = %+v", r.TopConversations)
	}
	top := r.TopConversations[0]
	if top.ConversationID != c1.ID || top.Title != c1.Title || top.CostNanos != 3500 || top.Requests != 2 ||
		top.CacheReadTokens != 800 {
		t.Errorf("top[0] = %+v", top)
	}
	if second := r.TopConversations[1]; second.ConversationID != c2.ID || second.UnknownCostCalls != 1 || second.CostNanos != 0 {
		t.Errorf("top[1] = %+v", second)
	}
	n, err := s.CostSince(ctx, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || n != 102_499 {
		t.Errorf("CostSince(today) = %d, %v", n, err)
	}
	if err := s.RecordLLMCall(ctx, LLMCall{CostNanos: cost(-1)}); err == nil {
		t.Error("negative cost accepted")
	}
	if err := s.RecordLLMCall(ctx, LLMCall{InputTokens: 1, CacheReadTokens: -1}); err == nil {
		t.Error("negative cache tokens accepted")
	}
}

func TestUsageReportTopIsCapped(t *testing.T) {
	s, clk, _ := newTestStore(t)
	ctx := context.Background()
	var ids []string
	for i := range ReportTop + 3 {
		c := mustConversation(t, s)
		ids = append(ids, c.ID)
		if err := s.RecordLLMCall(ctx, LLMCall{ConversationID: c.ID, InputTokens: 1, CostNanos: cost(int64(i))}); err != nil {
			t.Fatal(err)
		}
	}
	r, err := s.UsageReport(ctx, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.TopConversations) != ReportTop || r.TopConversations[0].ConversationID != ids[len(ids)-1] {
		t.Errorf("top: %d entries, first %+v", len(r.TopConversations), r.TopConversations[0])
	}
}

// TestUsageReportTopJobs: once a jobs table exists (scheduled jobs,
// issue 14), a job's cost is its conversation's. Without the table the
// list is empty; the test makes a minimal one, or fills the real one's
// required columns with zero values if a migration already made it.
func TestUsageReportTopJobs(t *testing.T) {
	s, clk, path := newTestStore(t)
	ctx := context.Background()
	r, err := s.UsageReport(ctx, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	jobsTable := false
	if err := s.reader.QueryRowContext(ctx, "SELECT COUNT(*) > 0 FROM sqlite_master WHERE name = 'jobs'").Scan(&jobsTable); err != nil {
		t.Fatal(err)
	}
	if !jobsTable && (r.TopJobs == nil || len(r.TopJobs) != 0) {
		t.Fatalf("without a jobs table: %+v", r.TopJobs)
	}
	jobConv, chat := mustConversation(t, s), mustConversation(t, s)
	db := rawDB(t, path)
	if !jobsTable {
		if _, err := db.Exec("CREATE TABLE jobs (id TEXT PRIMARY KEY, name TEXT NOT NULL, conversation_id TEXT NOT NULL)"); err != nil {
			t.Fatal(err)
		}
	}
	insertJob(t, db, "j_1", "morning digest", jobConv.ID)
	insertJob(t, db, "j_2", "idle job", mustConversation(t, s).ID)
	for _, c := range []LLMCall{
		{ConversationID: jobConv.ID, InputTokens: 100, OutputTokens: 10, CostNanos: cost(500)},
		{ConversationID: jobConv.ID, InputTokens: 100, OutputTokens: 10},
		{ConversationID: chat.ID, InputTokens: 100, OutputTokens: 10, CostNanos: cost(9000)},
	} {
		if err := s.RecordLLMCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if r, err = s.UsageReport(ctx, clk.Now()); err != nil {
		t.Fatal(err)
	}
	if len(r.TopJobs) != 1 {
		t.Fatalf("top jobs %+v", r.TopJobs)
	}
	j := r.TopJobs[0]
	if j.JobID != "j_1" || j.Name != "morning digest" || j.ConversationID != jobConv.ID || j.Requests != 2 ||
		j.CostNanos != 500 || j.UnknownCostCalls != 1 {
		t.Errorf("top job %+v", j)
	}
}

// insertJob adds a job row, giving every other required column of the
// table a zero value of its declared type.
func insertJob(t *testing.T, db *sql.DB, id, name, conv string) {
	t.Helper()
	rows, err := db.Query("SELECT name, type, \"notnull\", dflt_value IS NOT NULL FROM pragma_table_info('jobs')")
	if err != nil {
		t.Fatal(err)
	}
	cols, args := []string{}, []any{}
	for rows.Next() {
		var col, typ string
		var notNull, hasDefault bool
		if err := rows.Scan(&col, &typ, &notNull, &hasDefault); err != nil {
			t.Fatal(err)
		}
		var v any
		switch {
		case col == "id":
			v = id
		case col == "name":
			v = name
		case col == "conversation_id":
			v = conv
		case !notNull || hasDefault:
			continue
		case strings.Contains(strings.ToUpper(typ), "INT"):
			v = 0
		default:
			v = ""
		}
		cols, args = append(cols, col), append(args, v)
	}
	rows.Close()
	q := "INSERT INTO jobs (" + strings.Join(cols, ", ") + ") VALUES (?" + strings.Repeat(", ?", len(cols)-1) + ")"
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
