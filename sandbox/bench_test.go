package sandbox

import (
	"context"
	"slices"
	"testing"
	"time"
)

func BenchmarkRunTrivialWarm(b *testing.B) { benchmarkTrivial(b, 2) }

func BenchmarkRunTrivialCold(b *testing.B) { benchmarkTrivial(b, NoWarm) }

// benchmarkTrivial runs `def main(): return 1` and reports the p50 and
// p90 latency of Run. With warm children it waits, off the clock, for the
// pool to refill between runs, so every run takes a warm child.
func benchmarkTrivial(b *testing.B, warm int) {
	r := newTestRunner(b, warm)
	req := Request{Name: "bench", Source: "def main():\n    return 1\n", Function: "main"}
	var lat []time.Duration
	for b.Loop() {
		if r.pool != nil {
			b.StopTimer()
			for !r.pool.full() {
				time.Sleep(100 * time.Microsecond)
			}
			b.StartTimer()
		}
		start := time.Now()
		res, err := r.Run(context.Background(), req, nil)
		lat = append(lat, time.Since(start))
		if err != nil || string(res.Value) != "1" {
			b.Fatalf("run: %s, %v", res.Value, err)
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*9/10].Microseconds()), "p90-µs")
}
