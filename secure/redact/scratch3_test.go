package redact

import (
	"testing"
	"time"
)

const kmul = hashMul

type bloomF[W any] struct{ words *W }

func grams(b *testing.B) []uint32 {
	f := benchOnce()
	r, _ := New(f.secrets)
	entries, _ := r.entries(f.secrets)
	var g []uint32
	for _, e := range entries {
		g = append(g, load4(e.text, 0))
	}
	return g
}

func TestABSkip(t *testing.T) {
	f := benchOnce()
	r, _ := New(f.secrets)
	fns := map[string]func(){
		"skip": func() {
			for i := 0; i < len(f.text); {
				i = skip(&r.ac.pre.first, f.text, i) + 1
			}
		},
		"find":  func() { find(r, f.text, true, false, nil) },
		"bytes": func() { r.Bytes(f.text) },
	}
	best := map[string]time.Duration{}
	for range 40 {
		for name, fn := range fns {
			st := time.Now()
			fn()
			d := time.Since(st)
			if b, ok := best[name]; !ok || d < b {
				best[name] = d
			}
		}
	}
	for name, d := range best {
		t.Logf("%-8s %v  %.0f MB/s", name, d, float64(len(f.text))/d.Seconds()/1e6)
	}
}
