// Package audit is the orchestrator's tamper-evident, append-only log of
// security-relevant events: who did what to which target, and the outcome.
//
// Every entry is chained to the one before it:
//
//	hash = hex(sha256(prev_hash || canonical(id, time, actor, action, target, outcome, details)))
//
// where prev_hash is the previous entry's hash (64 zeros for the first entry)
// and canonical is a length-prefixed encoding of the fields (see
// canonical.go). A one-row head, updated in the same transaction as each
// insert, records the last id and hash.
//
// Invariants:
//   - Entries are only ever appended, one write transaction each, so ids are
//     1, 2, 3... without gaps and concurrent appends keep one valid chain.
//   - Verify detects an edited entry (its hash no longer matches), a removed
//     entry (an id gap or a broken previous-hash link), entries removed at
//     the end (the head records a later entry) and a forged head.
//   - The chain has no secret key: someone who can write the database file
//     can rebuild a consistent chain. It makes tampering evident to whoever
//     kept an earlier head hash or export, not impossible.
//   - The target and the details pass the redactor New was given before
//     they are hashed and stored; without one, the shape detectors still
//     run (a nil *redact.Holder redacts shapes). Details are stored as
//     canonical JSON and capped at MaxDetailsBytes.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/airlockhq/airlock/internal/utf8cut"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/redact"
)

// Outcomes.
const (
	OutcomeOK     = "ok"
	OutcomeDenied = "denied"
	OutcomeError  = "error"
)

// GenesisHash is the previous hash of the first entry.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Length caps, in bytes, for the short fields of an entry.
const (
	maxNameBytes   = 256  // Actor, Action
	maxTargetBytes = 1024 // Target
)

// Event is something to record.
type Event struct {
	Actor   string // "admin:alice", "worker", "system", "peer:uid=65534"
	Action  string // "mcp.peer_refused", "task.completed", ...
	Target  string // what the action was applied to; may be empty
	Outcome string // OutcomeOK, OutcomeDenied or OutcomeError
	Details map[string]any
}

// Entry is a recorded event.
type Entry struct {
	ID       int64           `json:"id"`
	Time     time.Time       `json:"time"` // UTC
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	Target   string          `json:"target"`
	Outcome  string          `json:"outcome"`
	Details  json.RawMessage `json:"details"` // a JSON object
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// Log appends to and reads the audit log in a store.
type Log struct {
	st       *store.Store
	now      func() time.Time
	redactor *redact.Holder // applied to the target and details; nil: shapes only
}

// New returns a Log on st. now is the clock (nil means time.Now). The
// current redactor of r is applied to the target and to the details JSON
// of every event before it is hashed and stored; a nil r applies the
// shape detectors.
func New(st *store.Store, now func() time.Time, r *redact.Holder) *Log {
	if now == nil {
		now = time.Now
	}
	return &Log{st: st, now: now, redactor: r}
}

// Append records ev as the next entry and returns it.
func (l *Log) Append(ctx context.Context, ev Event) (Entry, error) {
	build, err := l.Entry(ev)
	if err != nil {
		return Entry{}, err
	}
	r, err := l.st.AppendAudit(ctx, build)
	if err != nil {
		return Entry{}, fmt.Errorf("audit: append %s: %w", ev.Action, err)
	}
	return entryOf(r), nil
}

// Entry checks ev and returns the builder of its row, for a store write
// that appends it in its own commit (store.FinishTask): the event's time is
// taken now, its chain link from the head the write reads.
func (l *Log) Entry(ev Event) (store.AuditBuild, error) {
	if ev.Actor == "" || ev.Action == "" {
		return nil, fmt.Errorf("audit: append: actor and action are required")
	}
	switch ev.Outcome {
	case OutcomeOK, OutcomeDenied, OutcomeError:
	default:
		return nil, fmt.Errorf("audit: append %s: unknown outcome %q", ev.Action, ev.Outcome)
	}
	row := store.AuditRow{
		Time:    l.now().UTC(),
		Actor:   clean(ev.Actor, maxNameBytes),
		Action:  clean(ev.Action, maxNameBytes),
		Target:  clean(l.redact(ev.Target), maxTargetBytes),
		Outcome: ev.Outcome,
		Details: encodeDetails(ev.Details, l.redact),
	}
	return func(h store.AuditHead) (store.AuditRow, error) {
		r := row
		r.ID, r.PrevHash = h.LastID+1, h.LastHash
		r.Hash = hashRow(r)
		return r, nil
	}, nil
}

// Filter selects entries for List. Empty fields match all; Since is
// inclusive and Until exclusive. A Limit of 0 or less means 50; it is capped
// at 500.
type Filter struct {
	Action, Actor string
	Since, Until  time.Time
	Limit, Offset int
	// AfterID, when above 0, selects only entries with a larger id; with
	// OldestFirst it pages through the log (an export) without appends
	// running meanwhile shifting the pages.
	AfterID int64
	// OldestFirst lists in id order instead of newest first.
	OldestFirst bool
	// ExceptActors and ExceptActions leave out entries of these actors and
	// actions (e.g. the unauthenticated failures, to see the rest).
	ExceptActors, ExceptActions []string
}

// List returns the entries matching f, newest first unless f.OldestFirst.
func (l *Log) List(ctx context.Context, f Filter) ([]Entry, error) {
	rows, err := l.st.ListAudit(ctx, store.AuditQuery{
		Action: f.Action, Actor: f.Actor, Since: f.Since, Until: f.Until, Limit: f.Limit, Offset: f.Offset,
		AfterID: f.AfterID, OldestFirst: f.OldestFirst, ExceptActors: f.ExceptActors, ExceptActions: f.ExceptActions,
	})
	if err != nil {
		return nil, fmt.Errorf("audit: list: %w", err)
	}
	out := make([]Entry, len(rows))
	for i, r := range rows {
		out[i] = entryOf(r)
	}
	return out, nil
}

func (l *Log) redact(s string) string { return l.redactor.Load().String(s) }

// URLHost returns the host of a URL, for an event's target: never the
// query, which may carry a key.
func URLHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(invalid URL)"
	}
	return u.Hostname()
}

func entryOf(r store.AuditRow) Entry {
	return Entry{ID: r.ID, Time: r.Time, Actor: r.Actor, Action: r.Action, Target: r.Target,
		Outcome: r.Outcome, Details: json.RawMessage(r.Details), PrevHash: r.PrevHash, Hash: r.Hash}
}

// clean makes s valid UTF-8 and cuts it to at most limit bytes on a
// character boundary, marking the cut.
func clean(s string, limit int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= limit {
		return s
	}
	const mark = "…[truncated]"
	return utf8cut.Prefix(s, limit-len(mark)) + mark
}
