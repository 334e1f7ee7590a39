package redact

import (
	"cmp"
	"slices"
)

// text is what the engine reads: a string or a byte slice.
type text interface{ ~string | ~[]byte }

// match is a span to redact; id is a marker index (secrets first, then
// shapes) or carryID. After merging, matches are disjoint spans.
type match struct {
	start, end int
	id         int32
}

// carryID marks the part of a Writer's buffer already covered by a marker
// it has written.
const carryID = -1

// find appends to ms, for every end position, the longest secret pattern
// ending there (widened by its ext flags), and every shape its detectors
// confirm. When final is false a shape that could still change with more
// text is not reported; pend is then the earliest start of such a
// candidate (or -1) and pendID its shape's marker. With first set, find
// returns after the first match.
func find[T text](r *Redactor, t T, final, first bool, ms []match) (_ []match, pend int, pendID int32) {
	pend = -1
	w := walker[T]{a: r.ac, t: t}
	for w.next() {
		o := &r.ac.outs[r.ac.nodes[w.s].out]
		if o.secret >= 0 {
			ms = append(ms, secretMatch(t, w.i, o))
		}
		if o.anchor >= 0 {
			start, end, shape, st := detect(t, w.i-len(anchors[o.anchor].lit), o.anchor, final)
			id := int32(len(r.names) + shape)
			switch {
			case st == matched:
				ms = append(ms, match{start, end, id})
			case st == needMore && (pend < 0 || start < pend):
				pend, pendID = start, id
			}
		}
		if first && len(ms) > 0 {
			break
		}
	}
	return ms, pend, pendID
}

// walker runs the automaton over t, stopping at each state with an
// output.
//
// With a prefilter, it runs the automaton only where a pattern may start.
// The prefilter finds the next position whose first bytes begin some
// pattern; the automaton runs from the root there until, at least four
// bytes on, it falls back to a state less than four bytes deep. No
// pattern is then in progress but from that state's depth back, and every
// pattern starts where the prefilter stops, so the prefilter takes over
// again from there. The outputs are exactly those of a run over every
// byte: no pattern is shorter than four bytes, so no output is reported
// twice.
type walker[T text] struct {
	a       *automaton
	t       T
	i       int   // next byte to read
	s       int32 // current state
	from    int   // where the current run started
	running bool  // the automaton runs (always, without a prefilter)
}

// next advances to the next byte that leaves the automaton in a state
// with an output, and reports whether there was one. w.i is then the end
// of the output's patterns and w.s the state.
func (w *walker[T]) next() bool {
	a, t, pre := w.a, w.t, w.a.pre
	dense, stride, nd, cls, shallow := a.dense, a.stride, a.nDense, &a.class, a.nShallow
	i, s := w.i, w.s
	for {
		if pre != nil && !w.running {
			if i = skip(&pre.first, t, i); i >= len(t) {
				w.i = i
				return false
			}
			if !confirm(pre, t, i) {
				i++
				continue
			}
			w.from, s, w.running = i, 0, true
		}
		for w.running || pre == nil {
			if i >= len(t) {
				w.i, w.s = i, s
				return false
			}
			e := uint16(escape)
			if s < nd {
				e = dense[int(s)*stride+int(cls[t[i]])]
			}
			var v uint32
			if e != escape {
				v = widen(e)
			} else {
				v = a.step(s, t[i])
			}
			s = int32(v & stateMask)
			i++
			if v&outFlag != 0 {
				w.i, w.s = i, s
				return true
			}
			if pre != nil && s < shallow && i-w.from >= gram {
				i -= int(a.depth[s])
				w.running = false
			}
		}
	}
}

// secretMatch is the span of the longest secret pattern ending at end.
func secretMatch[T text](t T, end int, o *output) match {
	start := end - int(o.secLen)
	if o.extL && start > 0 && clsB64Any[t[start-1]] {
		start--
	}
	if o.extR && end < len(t) && clsB64Any[t[end]] {
		end++
	}
	return match{start, end, o.secret}
}

// priority orders marker kinds when spans merge: the Writer's carry, then
// secrets, then shapes.
func (r *Redactor) priority(id int32) int {
	switch {
	case id == carryID:
		return 0
	case int(id) < len(r.names):
		return 1
	}
	return 2
}

// merge sorts ms and unites overlapping matches in place. A united span
// takes the marker of its first match (leftmost, then longest, then
// first listed) among those of the best priority.
func (r *Redactor) merge(ms []match) []match {
	slices.SortFunc(ms, func(a, b match) int {
		if c := cmp.Compare(a.start, b.start); c != 0 {
			return c
		}
		if c := cmp.Compare(b.end, a.end); c != 0 {
			return c
		}
		if c := cmp.Compare(r.priority(a.id), r.priority(b.id)); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	out := ms[:0]
	for _, m := range ms {
		if n := len(out); n > 0 && m.start < out[n-1].end {
			last := &out[n-1]
			last.end = max(last.end, m.end)
			if r.priority(m.id) < r.priority(last.id) {
				last.id = m.id
			}
			continue
		}
		out = append(out, m)
	}
	return out
}

// render appends t to dst with the merged spans replaced by their markers
// (the carry span by nothing).
func render[T text](r *Redactor, dst []byte, t T, spans []match) []byte {
	at := 0
	for _, sp := range spans {
		dst = append(dst, t[at:sp.start]...)
		if sp.id != carryID {
			dst = append(dst, r.markers[sp.id]...)
		}
		at = sp.end
	}
	return append(dst, t[at:]...)
}
