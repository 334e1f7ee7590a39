package store

import (
	"context"
	"testing"
	"time"
)

func TestUsageSums(t *testing.T) {
	s, clk, _ := newTestStore(t)
	ctx := context.Background()
	c1, c2 := mustConversation(t, s), mustConversation(t, s)
	start := clk.Now()
	calls := []struct {
		conv    string
		in, out int
	}{
		{c1.ID, 100, 10}, {c1.ID, 200, 20}, {c2.ID, 1000, 1}, {"", 5, 5},
	}
	for _, call := range calls {
		if err := s.RecordUsage(ctx, call.conv, "t_x", "anthropic", "m", call.in, call.out); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Hour)
	}
	tests := []struct {
		since            time.Time
		requests, tokens int
	}{
		{start.Add(-time.Hour), 4, 1341},
		{start, 4, 1341},
		{start.Add(time.Nanosecond), 3, 1231},
		{start.Add(2 * time.Hour), 2, 1011},
		{start.Add(10 * time.Hour), 0, 0},
	}
	for _, tt := range tests {
		req, tok, err := s.UsageSince(ctx, tt.since)
		if err != nil || req != tt.requests || tok != tt.tokens {
			t.Errorf("UsageSince(%v) = %d, %d, %v; want %d, %d", tt.since, req, tok, err, tt.requests, tt.tokens)
		}
	}
	u, err := s.ConversationUsage(ctx, c1.ID)
	if err != nil || u != (Usage{Requests: 2, InputTokens: 300, OutputTokens: 30}) {
		t.Errorf("ConversationUsage = %+v, %v", u, err)
	}
	if u, _ := s.ConversationUsage(ctx, "c_none"); u != (Usage{}) {
		t.Errorf("ConversationUsage(unknown) = %+v, want zero", u)
	}
	if err := s.RecordUsage(ctx, "", "", "p", "m", -1, 0); err == nil {
		t.Error("negative tokens accepted")
	}
}
