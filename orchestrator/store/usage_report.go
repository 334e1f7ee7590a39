package store

import (
	"context"
	"fmt"
	"time"
)

// UsageTotals sums LLM calls. CostNanos sums the calls whose cost is
// known; UnknownCostCalls counts the others (no price for their model).
type UsageTotals struct {
	Requests         int64 `json:"requests"`
	InputTokens      int64 `json:"input_tokens"` // cached tokens included
	OutputTokens     int64 `json:"output_tokens"`
	CacheReadTokens  int64 `json:"cache_read_tokens"`
	CacheWriteTokens int64 `json:"cache_write_tokens"`
	CostNanos        int64 `json:"cost_nanos"`
	UnknownCostCalls int64 `json:"unknown_cost_calls"`
}

// Tokens is input plus output tokens, what the token budget counts.
func (t UsageTotals) Tokens() int64 { return t.InputTokens + t.OutputTokens }

// UsageDay is the usage of one UTC day.
type UsageDay struct {
	Day string `json:"day"` // YYYY-MM-DD, UTC
	UsageTotals
}

// ConversationCost is the usage of one conversation.
type ConversationCost struct {
	ConversationID string `json:"conversation_id"`
	Title          string `json:"title"`  // "" when the conversation is gone or was none
	Source         string `json:"source"` // as Conversation.Source; "" likewise
	UsageTotals
}

// UsageReport is what the dashboard and GET /api/v1/usage show.
type UsageReport struct {
	Today UsageTotals `json:"today"` // since 00:00 UTC
	Month UsageTotals `json:"month"` // since the 1st, 00:00 UTC
	// Days are the last ReportDays UTC days, oldest first, today last,
	// days without calls included.
	Days []UsageDay `json:"days"`
	// TopConversations are the conversations with the highest cost in
	// the last ReportDays days (then the most tokens), at most
	// ReportTop. A scheduled job's runs are attributed through their
	// conversation.
	TopConversations []ConversationCost `json:"top_conversations"`
	// TopJobs are the scheduled jobs with the highest cost in the same
	// window, at most ReportTop: a job's runs are tasks in the job's own
	// conversation, so its usage is that conversation's. Empty while the
	// database has no jobs table.
	TopJobs []JobCost `json:"top_jobs"`
}

// JobCost is the usage of one scheduled job's conversation.
type JobCost struct {
	JobID          string `json:"job_id"`
	Name           string `json:"name"`
	ConversationID string `json:"conversation_id"`
	UsageTotals
}

// Bounds of a UsageReport.
const (
	ReportDays = 30
	ReportTop  = 10
)

const dayNanos = int64(24 * time.Hour)

// usageSums is the SELECT list of UsageTotals, in its field order.
const usageSums = "COUNT(*), COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0)," +
	" COALESCE(SUM(cache_read_tokens), 0), COALESCE(SUM(cache_write_tokens), 0)," +
	" COALESCE(SUM(cost_nanos), 0), COUNT(*) - COUNT(cost_nanos)"

func (t *UsageTotals) dest() []any {
	return []any{&t.Requests, &t.InputTokens, &t.OutputTokens, &t.CacheReadTokens, &t.CacheWriteTokens,
		&t.CostNanos, &t.UnknownCostCalls}
}

// CostSince returns the summed cost, in nano-units, of the LLM calls
// recorded at or after since; calls of unknown cost count as nothing.
func (s *Store) CostSince(ctx context.Context, since time.Time) (int64, error) {
	var n int64
	err := s.reader.QueryRowContext(ctx, "SELECT COALESCE(SUM(cost_nanos), 0) FROM usage WHERE created_at >= ?",
		toDB(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: cost since %s: %w", since.UTC().Format(time.RFC3339), err)
	}
	return n, nil
}

// UsageReport sums the recorded LLM usage as of now (see UsageReport).
func (s *Store) UsageReport(ctx context.Context, now time.Time) (UsageReport, error) {
	now = now.UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	first := today.AddDate(0, 0, -(ReportDays - 1))
	var r UsageReport
	for _, q := range []struct {
		since time.Time
		dst   *UsageTotals
	}{{today, &r.Today}, {month, &r.Month}} {
		err := s.reader.QueryRowContext(ctx, "SELECT "+usageSums+" FROM usage WHERE created_at >= ?",
			toDB(q.since)).Scan(q.dst.dest()...)
		if err != nil {
			return UsageReport{}, fmt.Errorf("store: usage report: %w", err)
		}
	}
	days, err := s.usageDays(ctx, first)
	if err != nil {
		return UsageReport{}, err
	}
	for d := range ReportDays {
		day := first.AddDate(0, 0, d)
		r.Days = append(r.Days, UsageDay{Day: day.Format(time.DateOnly), UsageTotals: days[toDB(day)/dayNanos]})
	}
	if r.TopConversations, err = s.topConversations(ctx, first); err != nil {
		return UsageReport{}, err
	}
	if r.TopJobs, err = s.topJobs(ctx, first); err != nil {
		return UsageReport{}, err
	}
	return r, nil
}

// conversationSums sums usage per conversation since ?, highest cost
// first, then the most tokens; calls outside any conversation are left
// out.
const conversationSums = "SELECT conversation_id, COUNT(*) AS requests, SUM(input_tokens) AS input_tokens," +
	" SUM(output_tokens) AS output_tokens, SUM(cache_read_tokens) AS cache_read_tokens," +
	" SUM(cache_write_tokens) AS cache_write_tokens, COALESCE(SUM(cost_nanos), 0) AS cost_nanos," +
	" COUNT(*) - COUNT(cost_nanos) AS unknown" +
	" FROM usage WHERE created_at >= ? AND conversation_id != '' GROUP BY conversation_id"

// topJobs returns the ReportTop jobs whose conversations cost the most
// since first. The jobs table (scheduled jobs, issue 14) is looked up at
// run time, so this works with or without it; its rows are read through
// their conversation_id only.
func (s *Store) topJobs(ctx context.Context, first time.Time) ([]JobCost, error) {
	out := []JobCost{}
	var n int
	if err := s.reader.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'jobs'").
		Scan(&n); err != nil {
		return nil, fmt.Errorf("store: top jobs by cost: %w", err)
	}
	if n == 0 {
		return out, nil
	}
	rows, err := s.reader.QueryContext(ctx,
		"SELECT j.id, j.name, u.conversation_id, u.requests, u.input_tokens, u.output_tokens, u.cache_read_tokens,"+
			" u.cache_write_tokens, u.cost_nanos, u.unknown FROM ("+conversationSums+") AS u"+
			" JOIN jobs j ON j.conversation_id = u.conversation_id"+
			" ORDER BY u.cost_nanos DESC, u.input_tokens + u.output_tokens DESC, j.id LIMIT ?", toDB(first), ReportTop)
	if err != nil {
		return nil, fmt.Errorf("store: top jobs by cost: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var j JobCost
		if err := rows.Scan(append([]any{&j.JobID, &j.Name, &j.ConversationID}, j.dest()...)...); err != nil {
			return nil, fmt.Errorf("store: top jobs by cost: %w", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: top jobs by cost: %w", err)
	}
	return out, nil
}

// usageDays sums usage per UTC day since first, keyed by days since the
// epoch.
func (s *Store) usageDays(ctx context.Context, first time.Time) (map[int64]UsageTotals, error) {
	rows, err := s.reader.QueryContext(ctx, "SELECT created_at / ?, "+usageSums+
		" FROM usage WHERE created_at >= ? GROUP BY created_at / ?", dayNanos, toDB(first), dayNanos)
	if err != nil {
		return nil, fmt.Errorf("store: usage per day: %w", err)
	}
	defer rows.Close()
	out := map[int64]UsageTotals{}
	for rows.Next() {
		var day int64
		var t UsageTotals
		if err := rows.Scan(append([]any{&day}, t.dest()...)...); err != nil {
			return nil, fmt.Errorf("store: usage per day: %w", err)
		}
		out[day] = t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: usage per day: %w", err)
	}
	return out, nil
}

// topConversations returns the ReportTop conversations with the highest
// cost since first (then the most tokens). Calls outside any conversation
// are left out.
func (s *Store) topConversations(ctx context.Context, first time.Time) ([]ConversationCost, error) {
	rows, err := s.reader.QueryContext(ctx,
		"SELECT u.conversation_id, COALESCE(c.title, ''), COALESCE(c.source, ''), u.requests, u.input_tokens,"+
			" u.output_tokens, u.cache_read_tokens, u.cache_write_tokens, u.cost_nanos, u.unknown"+
			" FROM ("+conversationSums+
			"  ORDER BY cost_nanos DESC, input_tokens + output_tokens DESC, conversation_id LIMIT ?) AS u"+
			" LEFT JOIN conversations c ON c.id = u.conversation_id"+
			" ORDER BY u.cost_nanos DESC, u.input_tokens + u.output_tokens DESC, u.conversation_id",
		toDB(first), ReportTop)
	if err != nil {
		return nil, fmt.Errorf("store: top conversations by cost: %w", err)
	}
	defer rows.Close()
	out := []ConversationCost{}
	for rows.Next() {
		var c ConversationCost
		if err := rows.Scan(append([]any{&c.ConversationID, &c.Title, &c.Source}, c.dest()...)...); err != nil {
			return nil, fmt.Errorf("store: top conversations by cost: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: top conversations by cost: %w", err)
	}
	return out, nil
}
