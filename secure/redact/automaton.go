package redact

import (
	"cmp"
	"slices"
)

// The automaton is an Aho-Corasick matcher over bytes. Its trie is built
// breadth-first from the sorted patterns, so the children of a node are
// consecutive ids with ascending labels and every node's fail target has a
// smaller id. The first nDense states (the shallowest ones, where a scan of
// ordinary text spends nearly all its time) also get a dense transition
// row with the fail links already folded in, 16 bits per entry to keep the
// rows in cache; deeper states step through their sparse children and
// fail links.

// entry is one pattern fed to the automaton: a secret's variant or a
// shape detector's anchor.
type entry struct {
	text       string
	secret     int32 // secret index, or -1
	anchor     int16 // index into anchors, or -1
	extL, extR bool
}

// output is what a state reports when it is reached.
type output struct {
	secLen     int32 // length of the longest secret pattern ending here; 0 if none
	secret     int32
	extL, extR bool  // extL of that pattern; extR of any pattern ending here
	anchor     int16 // anchor ending here, or -1
}

type node struct {
	first int32 // id of the first child
	fail  int32
	out   int32 // index into automaton.outs, or -1
	n     uint16
	label byte
}

// A step yields a tagged state: the state id, with outFlag set when the
// state has an output.
const (
	outFlag   = 1 << 31
	stateMask = outFlag - 1
)

// A dense entry is a dense state id (below escape) with denseOut set when
// that state has an output, or escape when the target is a deeper state:
// the scan then takes the sparse path.
const (
	denseOut    = 1 << 15
	denseID     = denseOut - 1
	escape      = denseID
	maxDense    = escape - 1
	denseBudget = 1 << 19 // entries of 2 bytes
)

type automaton struct {
	class  [256]uint16 // byte -> column of the dense table; 0: in no pattern
	stride int
	dense  []uint16 // dense[s*stride+class]: see denseOut
	nDense int32
	nodes  []node
	outs   []output
	// nShallow is the number of states less than gram bytes deep (the
	// first ids, in breadth-first order); depth holds their depths.
	nShallow int32
	depth    []uint8
	// pre, when set, knows the first bytes of every pattern.
	pre *prefilter
	// levels[k] is the id of the first state k bytes deep: ids grow with
	// depth (breadth-first), so a state's depth is a binary search away.
	levels []int32
}

// buildAutomaton compiles entries (whose texts must be distinct and
// non-empty) into an automaton whose dense table has at most budget
// entries (and at least the root's row).
func buildAutomaton(entries []entry, budget int) *automaton {
	slices.SortFunc(entries, func(a, b entry) int { return cmp.Compare(a.text, b.text) })
	a := &automaton{}
	term := a.buildTrie(entries)
	a.buildFail()
	a.buildOutputs(entries, term)
	a.buildDense(budget)
	a.buildShallow(entries)
	return a
}

// buildTrie creates the nodes breadth-first and returns, per node, the
// index of the entry that ends there (or -1). A node's entries are a
// contiguous range of the sorted entries, all sharing its prefix; the one
// equal to the prefix, if any, sorts first.
func (a *automaton) buildTrie(entries []entry) []int32 {
	type info struct{ lo, hi, depth int32 }
	size := 1
	for _, e := range entries {
		size += len(e.text)
	}
	a.nodes = append(make([]node, 0, size), node{})
	infos := append(make([]info, 0, size), info{0, int32(len(entries)), 0})
	term := append(make([]int32, 0, size), -1)
	for id := 0; id < len(a.nodes); id++ {
		lo, hi, depth := infos[id].lo, infos[id].hi, infos[id].depth
		if int(depth) == len(a.levels) {
			a.levels = append(a.levels, int32(id))
		}
		if lo < hi && len(entries[lo].text) == int(depth) {
			term[id] = lo
			lo++
		}
		a.nodes[id].first = int32(len(a.nodes))
		for lo < hi {
			c := entries[lo].text[depth]
			j := lo + 1
			for j < hi && entries[j].text[depth] == c {
				j++
			}
			a.nodes = append(a.nodes, node{label: c})
			infos = append(infos, info{lo, j, depth + 1})
			term = append(term, -1)
			lo = j
		}
		a.nodes[id].n = uint16(int32(len(a.nodes)) - a.nodes[id].first)
	}
	return term
}

// child returns the child of s labelled c, or -1.
func (a *automaton) child(s int32, c byte) int32 {
	n := &a.nodes[s]
	lo, hi := n.first, n.first+int32(n.n)
	for lo < hi {
		m := int32(uint32(lo+hi) >> 1)
		switch l := a.nodes[m].label; {
		case l == c:
			return m
		case l < c:
			lo = m + 1
		default:
			hi = m
		}
	}
	return -1
}

// buildFail sets the fail links in breadth-first (id) order.
func (a *automaton) buildFail() {
	for id := range a.nodes {
		n := a.nodes[id]
		for ch := n.first; ch < n.first+int32(n.n); ch++ {
			a.nodes[ch].fail = 0
			if id == 0 {
				continue
			}
			for f := a.nodes[id].fail; ; f = a.nodes[f].fail {
				if g := a.child(f, a.nodes[ch].label); g >= 0 {
					a.nodes[ch].fail = g
					break
				}
				if f == 0 {
					break
				}
			}
		}
	}
}

// buildOutputs gives every node that ends a pattern, or whose fail chain
// does, an output: the longest secret pattern and the anchor ending there.
func (a *automaton) buildOutputs(entries []entry, term []int32) {
	a.outs = nil
	for id := range a.nodes {
		o := output{secret: -1, anchor: -1}
		if id > 0 {
			if f := a.nodes[id].fail; a.nodes[f].out >= 0 {
				o = a.outs[a.nodes[f].out]
			}
		}
		if t := term[id]; t >= 0 {
			e := &entries[t]
			if e.secret >= 0 {
				o.secLen, o.secret, o.extL = int32(len(e.text)), e.secret, e.extL
				o.extR = o.extR || e.extR
			}
			if e.anchor >= 0 {
				o.anchor = e.anchor
			}
		}
		a.nodes[id].out = -1
		if o.secret >= 0 || o.anchor >= 0 {
			a.nodes[id].out = int32(len(a.outs))
			a.outs = append(a.outs, o)
		}
	}
}

// buildDense assigns byte classes and fills the dense rows of the first
// nDense states.
func (a *automaton) buildDense(budget int) {
	var repr []byte
	repr = append(repr, 0) // class 0: bytes in no pattern; never leaves the root
	for id := 1; id < len(a.nodes); id++ {
		if c := a.nodes[id].label; a.class[c] == 0 {
			a.class[c] = uint16(len(repr))
			repr = append(repr, c)
		}
	}
	a.stride = len(repr)
	a.nDense = int32(max(1, min(len(a.nodes), budget/a.stride, maxDense)))
	a.dense = make([]uint16, int(a.nDense)*a.stride)
	for s := int32(0); s < a.nDense; s++ {
		row := a.dense[int(s)*a.stride : int(s+1)*a.stride]
		for c := 1; c < a.stride; c++ {
			switch g := a.child(s, repr[c]); {
			case g >= a.nDense:
				row[c] = escape
			case g >= 0:
				row[c] = uint16(g)
				if a.nodes[g].out >= 0 {
					row[c] |= denseOut
				}
			case s > 0:
				row[c] = a.dense[int(a.nodes[s].fail)*a.stride+c]
			}
		}
	}
}

// depthOf returns the depth of state s: the length of the text it stands
// for, the longest suffix of what was read that begins some pattern.
func (a *automaton) depthOf(s int32) int {
	d, _ := slices.BinarySearch(a.levels, s+1)
	return d - 1
}

// widen turns a dense entry (not escape) into a tagged state.
func widen(e uint16) uint32 { return uint32(e&denseID) | uint32(e&denseOut)<<16 }

// tag returns state s with outFlag set when s has an output.
func (a *automaton) tag(s int32) uint32 {
	if a.nodes[s].out >= 0 {
		return uint32(s) | outFlag
	}
	return uint32(s)
}

// step returns the tagged state after reading b in state s: the sparse
// path, for deep states and escaped dense entries.
func (a *automaton) step(s int32, b byte) uint32 {
	for {
		if s < a.nDense {
			if e := a.dense[int(s)*a.stride+int(a.class[b])]; e != escape {
				return widen(e)
			}
		}
		n := &a.nodes[s]
		for ch := n.first; ch < n.first+int32(n.n); ch++ {
			if l := a.nodes[ch].label; l == b {
				return a.tag(ch)
			} else if l > b {
				break
			}
		}
		if s == 0 {
			return 0
		}
		s = n.fail
	}
}

// buildShallow records the depths of the shallow states and, when every
// pattern is at least gram bytes long, the prefilter.
func (a *automaton) buildShallow(entries []entry) {
	a.depth = []uint8{0}
	for id := int32(0); id < int32(len(a.depth)); id++ {
		n := a.nodes[id]
		if a.depth[id]+1 < gram {
			for range n.n {
				a.depth = append(a.depth, a.depth[id]+1)
			}
		}
	}
	a.nShallow = int32(len(a.depth))
	texts := make([]string, len(entries))
	for i, e := range entries {
		if len(e.text) < gram {
			return
		}
		texts[i] = e.text
	}
	a.pre = newPrefilter(texts)
}
