package store

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"
)

// BenchmarkUsageReport builds the dashboard's cost section (today, month,
// 30 days, top conversations) over 100,000 recorded calls spread over the
// last 60 days in 2,000 conversations, and CostSince (every model call's
// money budget check) over the same rows.
func BenchmarkUsageReport(b *testing.B) {
	s := openAt(b, b.TempDir()+"/airlock.db")
	ctx := context.Background()
	now := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
	const n = 100_000
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		for i := range n {
			s.now = func() time.Time { return now.Add(-time.Duration(i) * (60 * 24 * time.Hour / n)) }
			c := LLMCall{ConversationID: fmt.Sprintf("c_%04d", i%2000), TaskID: "t", Provider: "anthropic", Model: "m",
				InputTokens: 3000, OutputTokens: 200, CacheReadTokens: 2500}
			if i%10 != 0 {
				c.CostNanos = cost(int64(1_000_000 + i))
			}
			if err := s.insertUsage(ctx, tx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.writer.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		b.Fatal(err)
	}
	today := time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)
	b.Run("report", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r, err := s.UsageReport(ctx, now)
			if err != nil || len(r.Days) != ReportDays || len(r.TopConversations) != ReportTop {
				b.Fatalf("%+v, %v", r.Today, err)
			}
		}
	})
	b.Run("usage-today", func(b *testing.B) { // the request and token budgets' check, for comparison
		for b.Loop() {
			if _, _, err := s.UsageSince(ctx, today); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cost-today", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.CostSince(ctx, today); err != nil {
				b.Fatal(err)
			}
		}
	})
}
