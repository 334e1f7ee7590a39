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
		p.first.add1(uint64(load4(s, 0)))
		if len(s) >= longGram {
			p.long.add2(load8(s, 0))
		} else {
			p.short.add2(uint64(load4(s, 0)))
		}
	}
	return p
}

// confirm is the second stage at position i.
func confirm[T text](p *prefilter, t T, i int) bool {
	if i+longGram <= len(t) && p.long.has2(load8(t, i)) {
		return true
	}
	return p.short.has2(uint64(load4(t, i)))
}

// bloomBits is log2 of the prefilter's size in 64-bit words (128 KiB).
const bloomBits = 14

// bloom is a Bloom filter of grams of up to eight bytes, 2^20 bits, hashed
// by one multiplication: the top bits pick the word, the next ones the
// bits. With 10,000 grams, a gram not in the set passes the one-bit test
// about one time in 100 and the two-bit test (two bits of one word, so
// still one read) about one time in 3,000.
type bloom [1 << bloomBits]uint64

const hashMul = 0x9E3779B97F4A7C15

// add1 and has1 use one bit per gram: the cheapest test, for the first
// stage, which runs at every position.
func (b *bloom) add1(x uint64) {
	h := x * hashMul
	b[h>>(64-bloomBits)] |= 1 << (h >> (58 - bloomBits) & 63)
}

func (b *bloom) has1(x uint64) bool {
	h := x * hashMul
	return b[h>>(64-bloomBits)]>>(h>>(58-bloomBits)&63)&1 != 0
}

// add2 and has2 use two bits of one word per gram: fewer false positives,
// for the second stage.
func (b *bloom) add2(x uint64) {
	h := x * hashMul
	b[h>>(64-bloomBits)] |= 1<<(h>>38&63) | 1<<(h>>44&63)
}

func (b *bloom) has2(x uint64) bool {
	h := x * hashMul
	m := uint64(1)<<(h>>38&63) | uint64(1)<<(h>>44&63)
	return b[h>>(64-bloomBits)]&m == m
}

// skip returns the first position at or after i where a gram of the set
// may start, or len(t) when there is none. It tests four positions per
// eight-byte load.
func skip[T text](b *bloom, t T, i int) int {
	for ; i+8 <= len(t); i += 4 {
		x := load8(t, i)
		switch {
		case b.has1(x & 0xFFFFFFFF):
			return i
		case b.has1(x >> 8 & 0xFFFFFFFF):
			return i + 1
		case b.has1(x >> 16 & 0xFFFFFFFF):
			return i + 2
		case b.has1(x >> 24 & 0xFFFFFFFF):
			return i + 3
		}
	}
	for ; i+gram <= len(t); i++ {
		if b.has1(uint64(load4(t, i))) {
			return i
		}
	}
	return len(t)
}

// load4 returns t[i:i+4] as a little-endian number.
func load4[T text](t T, i int) uint32 {
	w := t[i : i+4]
	return uint32(w[0]) | uint32(w[1])<<8 | uint32(w[2])<<16 | uint32(w[3])<<24
}

// load8 returns t[i:i+8] as a little-endian number.
func load8[T text](t T, i int) uint64 {
	w := t[i : i+8]
	return uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
}
