package redact

import (
	"fmt"
	"slices"
	"strings"
)

// minHold is the Writer's least hold-back: more than the longest anchor.
const minHold = 16

// Redactor is an immutable redaction engine; it is safe for concurrent
// use. A nil *Redactor behaves as New(nil): shape detectors only.
type Redactor struct {
	names    []string // by secret index
	markers  []string // by marker index: one per secret, then one per shape
	ac       *automaton
	patterns int // secret patterns, after de-duplication
	maxPat   int // longest pattern or anchor
	hold     int // Writer hold-back: longest pattern + 1, at least minHold
}

// shapesOnly is what a nil *Redactor uses. It is built once and never
// changed.
var shapesOnly = newShapesOnly()

func newShapesOnly() *Redactor {
	r, err := New(nil)
	if err != nil {
		panic(err) // a programmer error in the shape tables
	}
	return r
}

func (r *Redactor) orShapes() *Redactor {
	if r == nil {
		return shapesOnly
	}
	return r
}

// New compiles secrets into a Redactor. It refuses invalid names, values
// shorter than MinValueLen or longer than MaxValueLen, duplicate names,
// and values that overlap a marker the engine can write. Errors name the
// secret, never its value. When two secrets share a pattern, the one
// listed first names it.
func New(secrets []Secret) (*Redactor, error) {
	r := &Redactor{}
	seenName := make(map[string]bool, len(secrets))
	for i, s := range secrets {
		if err := s.check(i); err != nil {
			return nil, err
		}
		if seenName[s.Name] {
			return nil, fmt.Errorf("redact: secret %s: %w", s.Name, ErrDuplicateName)
		}
		seenName[s.Name] = true
		r.names = append(r.names, s.Name)
		r.markers = append(r.markers, marker(s.Name))
	}
	for _, n := range shapeNames {
		r.markers = append(r.markers, marker(n))
	}
	entries, err := r.entries(secrets)
	if err != nil {
		return nil, err
	}
	r.ac = buildAutomaton(entries, denseBudget)
	if err := r.checkMarkers(); err != nil {
		return nil, err
	}
	return r, nil
}

func marker(name string) string { return "[REDACTED:" + name + "]" }

// entries lists the automaton's patterns: every secret variant and its
// marker cores, then the shape anchors. A text listed twice keeps its
// first secret.
func (r *Redactor) entries(secrets []Secret) ([]entry, error) {
	index := make(map[string]int)
	var entries []entry
	maxLen := 0
	for i, s := range secrets {
		todo := variants(s.Value)
		for len(todo) > 0 {
			v := todo[0]
			todo = todo[1:]
			if _, dup := index[v.text]; dup {
				continue
			}
			index[v.text] = len(entries)
			entries = append(entries, entry{text: v.text, secret: int32(i), anchor: -1, extL: v.extL, extR: v.extR})
			maxLen = max(maxLen, len(v.text))
			cores, err := r.cores(v.text)
			if err != nil {
				return nil, fmt.Errorf("redact: secret %s: %w", s.Name, err)
			}
			todo = append(todo, cores...)
		}
	}
	r.patterns = len(entries)
	r.hold = max(maxLen+1, minHold)
	r.maxPat = maxLen
	for a, def := range anchors {
		r.maxPat = max(r.maxPat, len(def.lit))
		if k, ok := index[def.lit]; ok {
			entries[k].anchor = int16(a)
			continue
		}
		index[def.lit] = len(entries)
		entries = append(entries, entry{text: def.lit, secret: -1, anchor: int16(a)})
	}
	return entries, nil
}

// cores returns the parts of pattern p that a marker could complete into
// p: p without a leading tail of a marker (such as "]" or "KEY]"), without
// a trailing head of one (such as "[" or "[REDACTED:F"), or without both.
// Matching them too keeps the output free of p even where a marker lands
// next to the rest of it. A core shorter than MinValueLen is refused, as
// is a p that holds a whole marker.
func (r *Redactor) cores(p string) ([]variant, error) {
	head, tail := 0, len(p)
	if i := strings.IndexByte(p, ']'); i >= 0 && r.markerEndsWith(p[:i+1]) {
		head = i + 1
	}
	if j := strings.LastIndexByte(p, '['); j >= 0 && r.markerStartsWith(p[j:]) {
		tail = j
	}
	for j := strings.IndexByte(p, '['); j >= 0; j = nextByte(p, '[', j) {
		for _, m := range r.markers {
			if strings.HasPrefix(p[j:], m) {
				return nil, fmt.Errorf("value holds a whole redaction marker: %w", ErrMarkerOverlap)
			}
		}
	}
	var out []variant
	for _, c := range [...]string{p[head:], p[:tail], p[head:max(head, tail)]} {
		if c == p {
			continue
		}
		if len(c) < MinValueLen {
			return nil, fmt.Errorf("value is fewer than %d bytes without its leading \"…]\" or trailing \"[…\","+
				" which a redaction marker could supply: %w", MinValueLen, ErrMarkerOverlap)
		}
		out = append(out, variant{text: c})
	}
	return out, nil
}

func nextByte(s string, b byte, after int) int {
	if k := strings.IndexByte(s[after+1:], b); k >= 0 {
		return after + 1 + k
	}
	return -1
}

// markerEndsWith reports whether some marker ends with s.
func (r *Redactor) markerEndsWith(s string) bool {
	return slices.ContainsFunc(r.markers, func(m string) bool { return strings.HasSuffix(m, s) })
}

// markerStartsWith reports whether some marker starts with s.
func (r *Redactor) markerStartsWith(s string) bool {
	return slices.ContainsFunc(r.markers, func(m string) bool { return strings.HasPrefix(m, s) })
}

// checkMarkers refuses a secret with a pattern inside a marker (Redact
// would not be idempotent) and a name in which a shape detector finds a
// credential.
func (r *Redactor) checkMarkers() error {
	for _, m := range r.markers {
		ms, _, _ := find(r, m, true, true, nil)
		if len(ms) == 0 {
			continue
		}
		if id := ms[0].id; int(id) < len(r.names) {
			return fmt.Errorf("redact: secret %s: value is part of a redaction marker's text: %w", r.names[id], ErrMarkerOverlap)
		}
		return fmt.Errorf("redact: marker %s looks like a credential (%s); rename the secret: %w",
			m, shapeNames[int(ms[0].id)-len(r.names)], ErrInvalidName)
	}
	return nil
}

// Names returns the secrets' names, sorted.
func (r *Redactor) Names() []string {
	if r == nil {
		return nil
	}
	return slices.Sorted(slices.Values(r.names))
}

// String returns s with every secret (in any covered encoding) and every
// detected credential replaced by its marker "[REDACTED:NAME]". It
// returns s itself when nothing matched.
func (r *Redactor) String(s string) string {
	r = r.orShapes()
	var buf [8]match
	ms, _, _ := find(r, s, true, false, buf[:0])
	if len(ms) == 0 {
		return s
	}
	return string(render(r, make([]byte, 0, len(s)+32), s, r.merge(ms)))
}

// Bytes is String for a byte slice. It returns b itself (no copy, no
// allocation) when nothing matched, and a new slice otherwise; b is never
// modified.
func (r *Redactor) Bytes(b []byte) []byte {
	r = r.orShapes()
	var buf [8]match
	ms, _, _ := find(r, b, true, false, buf[:0])
	if len(ms) == 0 {
		return b
	}
	return render(r, make([]byte, 0, len(b)+32), b, r.merge(ms))
}

// Contains reports whether s holds anything String would redact.
func (r *Redactor) Contains(s string) bool {
	r = r.orShapes()
	var buf [1]match
	ms, _, _ := find(r, s, true, true, buf[:0])
	return len(ms) > 0
}

// MarkerNames returns the names in the redaction markers "[REDACTED:NAME]"
// that s holds, in order of appearance, each once. It tells a caller that
// text has been redacted (a URL that carried a secret, say) without any
// value: a marker holds a name only.
func MarkerNames(s string) []string {
	const open = "[REDACTED:"
	var names []string
	for {
		i := strings.Index(s, open)
		if i < 0 {
			return names
		}
		s = s[i+len(open):]
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return names
		}
		if name := s[:end]; validName(name) && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
}
