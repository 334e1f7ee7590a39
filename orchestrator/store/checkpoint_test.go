package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestCheckpointsInBackground: the WAL is copied back into the database by
// the store's own checkpoints, woken by commits; Close stops them, twice
// safely.
func TestCheckpointsInBackground(t *testing.T) {
	path := filepath.Join(t.TempDir(), "airlock.db")
	s := openAt(t, path)
	ctx := context.Background()
	const commits = 40 * checkpointEvery
	for range commits {
		if _, err := s.CreateConversation(ctx, SourceAPI, "a conversation"); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.ckpt.runs.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no background checkpoint after %d commits", commits)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
}
