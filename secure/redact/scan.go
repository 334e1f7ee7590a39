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
	sc := scanner[T]{r: r, a: r.ac, t: t, final: final, first: first, ms: ms, pend: -1}
	if first || len(t) < interleaveMin || len(t)/4 <= r.maxPat {
		sc.scan(0, 0, len(t), 0)
	} else {
		sc.scan4()
	}
	return sc.ms, sc.pend, sc.pendID
}

// interleaveMin is the text length from which find runs four scans in
// lockstep.
const interleaveMin = 4 << 10

type scanner[T text] struct {
	r            *Redactor
	a            *automaton
	t            T
	final, first bool
	done         bool // first is set and a match was found
	ms           []match
	pend         int
	pendID       int32
}

// scan runs the automaton from state s over t[from:to], reporting the
// outputs of positions at or after report, and returns the last state.
func (sc *scanner[T]) scan(s int32, from, to, report int) int32 {
	a, t := sc.a, sc.t
	dense, stride, nd, cls := a.dense, a.stride, a.nDense, &a.class
	for i := from; i < to; i++ {
		var v uint32
		e := uint16(escape)
		if s < nd {
			e = dense[int(s)*stride+int(cls[t[i]])]
		}
		if e != escape {
			v = widen(e)
		} else {
			v = a.step(s, t[i])
		}
		s = int32(v & stateMask)
		if v&outFlag != 0 && i >= report {
			if sc.hit(s, i); sc.done {
				return s
			}
		}
	}
	return s
}

// scan4 cuts t in four and scans the parts in lockstep, so that the
// memory loads of one part overlap those of the others. Each part but the
// first starts a longest pattern early and reports only from its cut on,
// so every end position is reported once, as by a single scan.
func (sc *scanner[T]) scan4() {
	a, t := sc.a, sc.t
	dense, stride, nd, cls := a.dense, a.stride, a.nDense, &a.class
	q := len(t) / 4
	back := sc.r.maxPat - 1
	i0, i1, i2, i3 := 0, q-back, 2*q-back, 3*q-back
	var s0, s1, s2, s3 int32
	for k := 0; k < q; k++ {
		var v0, v1, v2, v3 uint32
		e0 := uint16(escape)
		if s0 < nd {
			e0 = dense[int(s0)*stride+int(cls[t[i0]])]
		}
		if e0 != escape {
			v0 = widen(e0)
		} else {
			v0 = a.step(s0, t[i0])
		}
		e1 := uint16(escape)
		if s1 < nd {
			e1 = dense[int(s1)*stride+int(cls[t[i1]])]
		}
		if e1 != escape {
			v1 = widen(e1)
		} else {
			v1 = a.step(s1, t[i1])
		}
		e2 := uint16(escape)
		if s2 < nd {
			e2 = dense[int(s2)*stride+int(cls[t[i2]])]
		}
		if e2 != escape {
			v2 = widen(e2)
		} else {
			v2 = a.step(s2, t[i2])
		}
		e3 := uint16(escape)
		if s3 < nd {
			e3 = dense[int(s3)*stride+int(cls[t[i3]])]
		}
		if e3 != escape {
			v3 = widen(e3)
		} else {
			v3 = a.step(s3, t[i3])
		}
		s0, s1, s2, s3 = int32(v0&stateMask), int32(v1&stateMask), int32(v2&stateMask), int32(v3&stateMask)
		if (v0|v1|v2|v3)&outFlag != 0 {
			sc.hit4(v0, v1, v2, v3, i0, i1, i2, i3, q)
		}
		i0, i1, i2, i3 = i0+1, i1+1, i2+1, i3+1
	}
	sc.scan(s1, i1, 2*q, q)
	sc.scan(s2, i2, 3*q, 2*q)
	sc.scan(s3, i3, len(t), 3*q)
}

// hit4 reports the outputs of a lockstep step, skipping those a previous
// part reports.
func (sc *scanner[T]) hit4(v0, v1, v2, v3 uint32, i0, i1, i2, i3, q int) {
	if v0&outFlag != 0 {
		sc.hit(int32(v0&stateMask), i0)
	}
	if v1&outFlag != 0 && i1 >= q {
		sc.hit(int32(v1&stateMask), i1)
	}
	if v2&outFlag != 0 && i2 >= 2*q {
		sc.hit(int32(v2&stateMask), i2)
	}
	if v3&outFlag != 0 && i3 >= 3*q {
		sc.hit(int32(v3&stateMask), i3)
	}
}

// hit records the outputs of state s, reached after reading t[i].
func (sc *scanner[T]) hit(s int32, i int) {
	o := &sc.a.outs[sc.a.nodes[s].out]
	n := len(sc.ms)
	if o.secret >= 0 {
		sc.ms = append(sc.ms, secretMatch(sc.t, i+1, o))
	}
	if o.anchor >= 0 {
		start, end, shape, st := detect(sc.t, i+1-len(anchors[o.anchor].lit), o.anchor, sc.final)
		id := int32(len(sc.r.names) + shape)
		switch {
		case st == matched:
			sc.ms = append(sc.ms, match{start, end, id})
		case st == needMore && (sc.pend < 0 || start < sc.pend):
			sc.pend, sc.pendID = start, id
		}
	}
	sc.done = sc.first && len(sc.ms) > n
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
// takes the marker of its first match (leftmost, then longest) among those
// of the best priority.
func (r *Redactor) merge(ms []match) []match {
	slices.SortFunc(ms, func(a, b match) int {
		if c := cmp.Compare(a.start, b.start); c != 0 {
			return c
		}
		if c := cmp.Compare(b.end, a.end); c != 0 {
			return c
		}
		return cmp.Compare(r.priority(a.id), r.priority(b.id))
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
