package redact

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// naiveLongest returns, for every end position of t, the longest pattern
// ending there, as find reports secret matches (no ext flags).
func naiveLongest(pats []string, t string) []match {
	var out []match
	for e := 1; e <= len(t); e++ {
		best := -1
		for i, p := range pats {
			if strings.HasSuffix(t[:e], p) && (best < 0 || len(p) > len(pats[best])) {
				best = i
			}
		}
		if best >= 0 {
			out = append(out, match{e - len(pats[best]), e, int32(best)})
		}
	}
	return out
}

// testRedactor compiles bare patterns (secret i is pattern i) without the
// checks and variants of New.
func testRedactor(pats []string, budget int) *Redactor {
	r := &Redactor{}
	var entries []entry
	for i, p := range pats {
		r.names = append(r.names, fmt.Sprintf("P%d", i))
		entries = append(entries, entry{text: p, secret: int32(i), anchor: -1})
	}
	r.ac = buildAutomaton(entries, budget)
	return r
}

func sortMatches(ms []match) []match {
	slices.SortFunc(ms, func(a, b match) int { return cmp.Compare(a.end, b.end) })
	return ms
}

// TestAutomatonMatchesNaive compares the automaton with a brute-force
// search on random patterns and texts over small alphabets (many
// overlaps, deep fail chains), with the dense table cut at several sizes
// and with and without the prefilter (patterns of 4 bytes or more).
func TestAutomatonMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for round := range 300 {
		alpha := "ab"[:1+round%2] + "cd"[:round%3%2]
		minLen := 1 + 3*(round%2) // odd rounds: every pattern >= 4 bytes, prefilter on
		seen := map[string]bool{}
		var pats []string
		for range 1 + rng.IntN(12) {
			b := make([]byte, minLen+rng.IntN(6))
			for i := range b {
				b[i] = alpha[rng.IntN(len(alpha))]
			}
			if !seen[string(b)] {
				seen[string(b)] = true
				pats = append(pats, string(b))
			}
		}
		tb := make([]byte, rng.IntN(200))
		for i := range tb {
			tb[i] = alpha[rng.IntN(len(alpha))]
		}
		text := string(tb)
		want := naiveLongest(pats, text)
		for _, budget := range []int{1, 16, 1 << 20} {
			r := testRedactor(slices.Clone(pats), budget)
			allLong := !slices.ContainsFunc(pats, func(p string) bool { return len(p) < gram })
			if (r.ac.pre != nil) != allLong {
				t.Fatalf("prefilter presence wrong for %q", pats)
			}
			got, _, _ := find(r, text, true, false, nil)
			if !slices.Equal(sortMatches(got), want) {
				t.Fatalf("patterns %q text %q budget %d:\n got %v\nwant %v", pats, text, budget, got, want)
			}
			gotB, _, _ := find(r, tb, true, false, nil)
			if !slices.Equal(sortMatches(gotB), want) {
				t.Fatalf("[]byte scan differs from string scan")
			}
		}
	}
}

// TestPrefilterExact checks that skipping with the prefilter finds the
// same matches as reading every byte, on a real secret set and log text.
func TestPrefilterExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	secrets := randomSecrets(rng, 200)
	r, err := New(secrets)
	if err != nil {
		t.Fatal(err)
	}
	text := logText(rng, 256<<10, secrets)
	plain := *r
	ac := *r.ac
	ac.pre = nil
	plain.ac = &ac
	want, _, _ := find(&plain, text, true, false, nil)
	got, _, _ := find(r, text, true, false, nil)
	if len(want) < 10 || !slices.Equal(got, want) {
		t.Fatalf("prefiltered scan found %d matches, full scan %d", len(got), len(want))
	}
}

func TestAnchorsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for i, a := range anchors {
		if len(a.lit) < gram {
			t.Errorf("anchor %q shorter than %d bytes", a.lit, gram)
		}
		if seen[a.lit] {
			t.Errorf("anchor %q listed twice", a.lit)
		}
		seen[a.lit] = true
		for j, b := range anchors {
			if i != j && strings.HasSuffix(a.lit, b.lit) {
				t.Errorf("anchor %q is a suffix of %q", b.lit, a.lit)
			}
		}
	}
}

// TestEveryByteValue: patterns using all 256 byte values (257 classes with
// the one for bytes in no pattern) still match exactly.
func TestEveryByteValue(t *testing.T) {
	var pats []string
	for b := 0; b < 256; b += 8 {
		p := make([]byte, 8)
		for i := range p {
			p[i] = byte(b + i)
		}
		pats = append(pats, string(p))
	}
	r := testRedactor(pats, 1<<20)
	text := "x" + pats[0] + pats[31] + "\x00\xff" + pats[16][:7] + pats[5]
	got, _, _ := find(r, text, true, false, nil)
	if want := naiveLongest(pats, text); !slices.Equal(sortMatches(got), want) || len(want) != 3 {
		t.Fatalf("got %v, want %v", got, want)
	}
}
