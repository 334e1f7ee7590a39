package redact

import (
	"errors"
	"io"
)

// MaxShapeHold bounds how far back the Writer holds an open shape
// candidate (a PEM block waiting for its END line, a token whose run of
// characters reaches the end of the buffer). Past it the candidate is
// redacted as far as it has been seen, and what follows is not.
const MaxShapeHold = 64 << 10

// ErrClosed is returned by a Writer used after Close.
var ErrClosed = errors.New("redact: write to closed Writer")

// Writer redacts a stream. Each Write emits what can no longer change:
// it holds back the tail of the stream that may begin a pattern (the
// longest such suffix, plus the base64 neighbour character before it, so
// a secret split across Writes, even into single bytes, is caught; never
// more than Hold() bytes) and, while a shape candidate is open,
// everything from its start, up to MaxShapeHold bytes. Its output equals
// String of the whole stream, however it is cut into Writes, except that
// a Flush in the middle of a secret lets its halves through, and a shape
// candidate longer than MaxShapeHold is only partly redacted. A Writer is
// not safe for concurrent use.
type Writer struct {
	r     *Redactor
	w     io.Writer
	buf   []byte // input not yet written
	carry int    // leading bytes of buf covered by a marker already written
	state int32  // the automaton's state after every byte written so far
	wait  int    // while a shape candidate is held: buffer length to wait for
	ms    []match
	out   []byte
	err   error
}

// NewWriter returns a Writer that redacts what it writes to w with r.
func (r *Redactor) NewWriter(w io.Writer) *Writer {
	return &Writer{r: r.orShapes(), w: w}
}

// Hold returns the most bytes the Writer holds back when no shape
// candidate is open: the longest pattern plus one, at least 16. It holds
// back that much only while the whole tail may still begin a pattern.
func (w *Writer) Hold() int { return w.r.hold }

// tail returns how many bytes at the end of the stream must be held back:
// the longest suffix that begins some pattern, plus the character before
// it (a base64 neighbour may join the match), at most Hold().
func (w *Writer) tail() int {
	return min(w.r.ac.depthOf(w.state)+1, w.r.hold)
}

// Write redacts p, writes what is final to the underlying writer and keeps
// the rest. It returns len(p) unless that writer fails; errors are sticky.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	w.buf = append(w.buf, p...)
	for _, b := range p {
		w.state = int32(w.r.ac.step(w.state, b) & stateMask)
	}
	if err := w.process(false); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush redacts and writes everything held back.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	return w.process(true)
}

// Close flushes the Writer; later writes fail with ErrClosed. It does not
// close the underlying writer.
func (w *Writer) Close() error {
	err := w.Flush()
	if w.err == nil {
		w.err = ErrClosed
	}
	return err
}

// process writes the final part of buf: all of it when final.
func (w *Writer) process(final bool) error {
	hold := w.tail()
	if !final && (len(w.buf) <= hold || len(w.buf) < w.wait) {
		return nil
	}
	ms, pend, pendID := find(w.r, w.buf, final, false, w.ms[:0])
	limit := len(w.buf)
	if !final {
		limit -= hold
		if pend >= 0 && pend < limit {
			if len(w.buf)-pend <= MaxShapeHold {
				limit = pend
			} else {
				ms = append(ms, match{pend, len(w.buf), pendID})
			}
		}
	}
	if w.carry > 0 {
		ms = append(ms, match{0, w.carry, carryID})
	}
	w.ms = ms
	limit, spans, carry := w.cut(w.r.merge(ms), limit)
	w.wait = 0
	if held := len(w.buf) - max(limit, 0); held > hold {
		// A shape candidate is held: rescan once the buffer has grown by
		// half, or when the candidate reaches MaxShapeHold, so that a
		// stream of small writes costs linear time.
		w.wait = min(len(w.buf)+max(len(w.buf)/2, hold), len(w.buf)-held+MaxShapeHold+1)
	}
	if limit <= 0 {
		return nil
	}
	w.out = render(w.r, w.out[:0], w.buf[:limit], spans)
	if _, err := w.w.Write(w.out); err != nil {
		w.err = err
		return err
	}
	w.buf = w.buf[:copy(w.buf, w.buf[limit:])]
	w.carry = carry
	return nil
}

// cut settles where this round stops. A span across the limit named by a
// shape is held back whole (a secret could still join it and take it
// over); one named by a secret (or the carry) is written now, its marker
// included, and the part of it past the limit becomes the new carry. It
// returns the limit, the spans to render in buf[:limit], and the carry.
func (w *Writer) cut(spans []match, limit int) (int, []match, int) {
	for i, sp := range spans {
		if sp.end <= limit {
			continue
		}
		if sp.start >= limit {
			return limit, spans[:i], 0
		}
		if w.r.priority(sp.id) == 2 && len(w.buf)-sp.start <= MaxShapeHold {
			return sp.start, spans[:i], 0
		}
		carry := sp.end - limit
		spans[i].end = limit
		return limit, spans[:i+1], carry
	}
	return limit, spans, 0
}
