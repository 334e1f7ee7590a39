package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestCeilingDoublesUpToMax(t *testing.T) {
	const lo, hi = 100 * time.Millisecond, 5 * time.Second
	want := []time.Duration{lo, 2 * lo, 4 * lo, 8 * lo, 16 * lo, 32 * lo, hi, hi}
	for attempt, w := range want {
		if got := Ceiling(attempt, lo, hi); got != w {
			t.Errorf("Ceiling(%d) = %v, want %v", attempt, got, w)
		}
	}
	if got := Ceiling(1000, lo, hi); got != hi {
		t.Errorf("Ceiling(1000) = %v, want %v", got, hi)
	}
}

func TestJitterBounds(t *testing.T) {
	const lo, hi = 100 * time.Millisecond, 5 * time.Second
	for attempt := range 12 {
		d := Ceiling(attempt, lo, hi)
		for range 50 {
			if got := EqualJitter(d); got < d/2 || got > d {
				t.Fatalf("EqualJitter(%v) = %v, want within [%v, %v]", d, got, d/2, d)
			}
			if got := FullJitter(d); got < 0 || got > d {
				t.Fatalf("FullJitter(%v) = %v, want within [0, %v]", d, got, d)
			}
		}
	}
	if got := FullJitter(0); got != 0 {
		t.Errorf("FullJitter(0) = %v", got)
	}
}

func TestDoublingResets(t *testing.T) {
	b := Doubling{Min: time.Second, Max: 5 * time.Second}
	var got []time.Duration
	for range 5 {
		got = append(got, b.Next())
	}
	b.Reset()
	got = append(got, b.Next())
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second, time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("waits = %v, want %v", got, want)
		}
	}
}

func TestSleepEndsWithContext(t *testing.T) {
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("Sleep = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep(cancelled, 1h) = %v", err)
	}
	if err := Sleep(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep(cancelled, 0) = %v", err)
	}
}
