package redact

// gram is the length of the pattern prefixes the prefilter's first stage
// knows; longGram that of its second stage.
const (
	gram     = 4
	longGram = 8
)

// prefilter finds where a pattern may start. Its first stage tests the
// four bytes at each position against the first four of every pattern;
// where they pass, the second confirms with the first eight bytes for
// patterns of eight bytes or more (all secret patterns) and with the
// first four for shorter ones (shape anchors).
type prefilter struct {
	first, long, short bloom
}

func newPrefilter(patterns []string) *prefilter {
	p := new(prefilter)
	for _, s := range patterns {
		p.first.add(uint64(load4(s, 0)))
		if len(s) >= longGram {
			p.long.add(load8(s, 0))
		} else {
			p.short.add(uint64(load4(s, 0)))
		}
	}
	return p
}

// confirm is the second stage at position i.
func confirm[T text](p *prefilter, t T, i int) bool {
	if i+longGram <= len(t) && p.long.has(load8(t, i)) {
		return true
	}
	return p.short.has(uint64(load4(t, i)))
}

// bloomBits is log2 of the prefilter's size in 64-bit words (128 KiB).
const bloomBits = 14

// bloom is a blocked Bloom filter of grams of up to eight bytes: each
// gram sets two bits of one 64-bit word, so a lookup reads a single word.
// With 10,000 grams a gram not in the set passes about one time in 3,000.
type bloom [1 << bloomBits]uint64

const hashMul = 0x9E3779B97F4A7C15

// word returns the word index and the two-bit mask of gram x.
func (*bloom) word(x uint64) (uint64, uint64) {
	h := x * hashMul
	return h >> (64 - bloomBits), 1<<(h>>20&63) | 1<<(h>>26&63)
}

func (b *bloom) add(x uint64) {
	w, m := b.word(x)
	b[w] |= m
}

func (b *bloom) has(x uint64) bool {
	w, m := b.word(x)
	return b[w]&m == m
}

// skip returns the first position at or after i where a gram of the set
// may start, or len(t) when there is none. It tests four positions per
// eight-byte load.
func skip[T text](b *bloom, t T, i int) int {
	for ; i+8 <= len(t); i += 4 {
		x := load8(t, i)
		f0, f1, f2, f3 := b.has(x&0xFFFFFFFF), b.has(x>>8&0xFFFFFFFF), b.has(x>>16&0xFFFFFFFF), b.has(x>>24&0xFFFFFFFF)
		if f0 || f1 || f2 || f3 {
			switch {
			case f0:
				return i
			case f1:
				return i + 1
			case f2:
				return i + 2
			}
			return i + 3
		}
	}
	for ; i+gram <= len(t); i++ {
		if b.has(uint64(load4(t, i))) {
			return i
		}
	}
	return len(t)
}

// load4 returns t[i:i+4] as a little-endian number.
func load4[T text](t T, i int) uint32 {
	_ = t[i+3]
	return uint32(t[i]) | uint32(t[i+1])<<8 | uint32(t[i+2])<<16 | uint32(t[i+3])<<24
}

// load8 returns t[i:i+8] as a little-endian number.
func load8[T text](t T, i int) uint64 {
	_ = t[i+7]
	return uint64(t[i]) | uint64(t[i+1])<<8 | uint64(t[i+2])<<16 | uint64(t[i+3])<<24 |
		uint64(t[i+4])<<32 | uint64(t[i+5])<<40 | uint64(t[i+6])<<48 | uint64(t[i+7])<<56
}
