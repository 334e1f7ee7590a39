package store

import (
	"context"
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
