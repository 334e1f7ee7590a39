package redact

import (
	"testing"
	"time"
)

func TestScratchStats(t *testing.T) {
	f := benchOnce()
	r, _ := New(f.secrets)
	a := r.ac
	t.Log("patterns", r.patterns, "nodes", len(a.nodes), "nDense", a.nDense, "stride", a.stride, "outs", len(a.outs), "hold", r.hold)
	visited := map[int32]int{}
	s := int32(0)
	for _, b := range f.text {
		v := a.step(s, b)
		s = int32(v & stateMask)
		visited[s]++
	}
	t.Log("distinct states visited", len(visited))
	for _, budget := range []int{1 << 14, 1 << 16, 1 << 18, 1 << 19, 1 << 20, 1 << 21, 1 << 22} {
		entries, _ := r.entries(f.secrets)
		r.ac = buildAutomaton(entries, budget)
		st := time.Now()
		for range 20 {
			find(r, f.text, true, false, nil)
		}
		t.Log(budget, r.ac.nDense, time.Since(st)/20)
	}
}
