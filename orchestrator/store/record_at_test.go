package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRecordUsageAt: the doctor's usage row lands in a database another
// Store has open (and counts in UsageSince and CostSince); a missing file
// is not created; a database of another schema is refused, untouched.
func TestRecordUsageAt(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "airlock.db")
	s := openAt(t, path)
	day := time.Now().UTC().Truncate(24 * time.Hour)
	cost := int64(4200)
	if err := RecordUsageAt(ctx, path, LLMCall{TaskID: "doctor", Provider: "p", Model: "m", InputTokens: 7, OutputTokens: 3,
		CostNanos: &cost}, discardLogger()); err != nil {
		t.Fatal(err)
	}
	reqs, toks, err := s.UsageSince(ctx, day)
	if err != nil || reqs != 1 || toks != 10 {
		t.Fatalf("usage after the doctor's call: %d requests, %d tokens, %v", reqs, toks, err)
	}
	if spent, err := s.CostSince(ctx, day); err != nil || spent != 4200 {
		t.Fatalf("cost after the doctor's call: %d %v", spent, err)
	}

	missing := filepath.Join(dir, "none.db")
	if err := RecordUsageAt(ctx, missing, LLMCall{}, discardLogger()); err == nil {
		t.Error("recorded into a missing database")
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing database was created: %v", err)
	}
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := RecordUsageAt(ctx, empty, LLMCall{}, discardLogger()); !errors.Is(err, ErrSchemaDiffers) {
		t.Errorf("another schema: %v", err)
	}
	if fi, err := os.Stat(empty); err != nil || fi.Size() != 0 {
		t.Errorf("a database of another schema was written: %v %v", fi, err)
	}
	if err := RecordUsageAt(ctx, path, LLMCall{InputTokens: -1}, discardLogger()); err == nil {
		t.Error("a negative count was recorded")
	}
}
