package doctor

import (
	"context"
	"testing"
)

// BenchmarkRun is one run of every check (not deep) on a small correct
// deployment: what a dashboard view costs when its cached report is older
// than a minute. Probes are excluded (they are network-bound).
func BenchmarkRun(b *testing.B) {
	f := newFixture(b)
	f.env.Deep = false
	b.ResetTimer()
	for b.Loop() {
		Run(context.Background(), f.env)
	}
}
