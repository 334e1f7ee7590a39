package audit

import (
	"context"
	"errors"
	"fmt"

	"github.com/airlockhq/airlock/orchestrator/store"
)

// Report is the result of Verify.
type Report struct {
	OK bool
	// Checked is the number of entries verified good, in id order, before
	// the first problem (all of them when OK).
	Checked int
	// FirstBadID is the first entry found bad: an edited entry, the first
	// entry after deleted ones, or, when entries were deleted at the end, the
	// first missing id. 0 when OK, or when no entry is to blame (the head
	// itself is missing, or forged on an empty log).
	FirstBadID int64
	// Reason explains the first problem in words; empty when OK.
	Reason string
}

// errStop ends the scan at the first problem.
var errStop = errors.New("stop")

// chain walks entries in id order.
type chain struct {
	prevID   int64
	prevHash string
	rep      Report
}

func (c *chain) fail(id int64, format string, args ...any) error {
	c.rep.FirstBadID = id
	c.rep.Reason = fmt.Sprintf(format, args...)
	return errStop
}

// next checks one entry against its own hash and its predecessor.
func (c *chain) next(r store.AuditRow) error {
	switch {
	case hashRow(r) != r.Hash:
		return c.fail(r.ID, "entry %d: hash mismatch (row edited)", r.ID)
	case r.ID != c.prevID+1:
		return c.fail(r.ID, "entry %d: previous-hash link broken (%s before it deleted)",
			r.ID, idRange(c.prevID+1, r.ID-1))
	case r.PrevHash != c.prevHash:
		return c.fail(r.ID, "entry %d: previous-hash link broken (an entry before it was deleted or altered)", r.ID)
	}
	c.prevID, c.prevHash = r.ID, r.Hash
	c.rep.Checked++
	return nil
}

func idRange(from, to int64) string {
	if from == to {
		return fmt.Sprintf("entry %d", from)
	}
	return fmt.Sprintf("entries %d to %d", from, to)
}

// end checks the last entry against the head.
func (c *chain) end(h store.AuditHead) {
	switch {
	case h.Missing:
		c.fail(0, "the audit head is missing (log tampered with)")
	case c.prevID < h.LastID:
		c.fail(c.prevID+1, "log ends at entry %d but the head records entry %d (entries deleted at the end)",
			c.prevID, h.LastID)
	case c.prevID > h.LastID:
		c.fail(h.LastID+1, "log continues to entry %d past the head at entry %d (head rolled back or forged)",
			c.prevID, h.LastID)
	case c.prevHash != h.LastHash:
		c.fail(h.LastID, "the head's hash does not match entry %d (head forged)", h.LastID)
	default:
		c.rep.OK = true
	}
}

// Verify recomputes the chain over every entry, in id order and streaming,
// and checks it against the head, all in one read snapshot. It stops at the
// first problem. The error is for failures to read; tampering is reported in
// the Report.
func (l *Log) Verify(ctx context.Context) (Report, error) {
	c := &chain{prevHash: GenesisHash}
	head, err := l.st.ScanAudit(ctx, c.next)
	switch {
	case errors.Is(err, errStop):
		return c.rep, nil
	case err != nil:
		return Report{}, fmt.Errorf("audit: verify: %w", err)
	}
	c.end(head)
	return c.rep, nil
}
