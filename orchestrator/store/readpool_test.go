package store

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestReadPoolColdBurstDoesNotHang: more read transactions than the pool
// has connections, all at once on a cold statement cache (a burst of first
// turns after a start). A transaction must not wait for a second
// connection to prepare a statement while it holds one: with every
// connection held so, nothing moved and the turns hung for ever.
func TestReadPoolColdBurstDoesNotHang(t *testing.T) {
	for round := range 5 {
		s, _, _ := newTestStore(t)
		ctx := context.Background()
		c := mustConversation(t, s)
		if _, _, err := s.StartTask(ctx, c.ID, AudienceAdmin, "hello"); err != nil {
			t.Fatal(err)
		}
		const n = 4 * readPoolSize
		var wg sync.WaitGroup
		errs := make(chan error, 2*n)
		start := make(chan struct{})
		for range n {
			wg.Add(2)
			go func() {
				defer wg.Done()
				<-start
				_, err := s.History(ctx, c.ID, 10_000, 40)
				errs <- err
			}()
			go func() {
				defer wg.Done()
				<-start
				_, err := s.MemoryNotes(ctx, AudienceAdmin)
				errs <- err
			}()
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		close(start)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("round %d: %d concurrent reads on a cold cache did not finish in 20 s (pool of %d)", round, 2*n, readPoolSize)
		}
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if got, _ := s.History(ctx, c.ID, 10_000, 40); len(got) != 1 {
			t.Fatalf("history after the burst: %d messages, want 1", len(got))
		}
	}
}
