package store

import (
	"context"
	"sync"
	"testing"
)

func TestExternalConversationGetOrCreate(t *testing.T) {
	s, _, path := newTestStore(t)
	ctx := context.Background()
	first, err := s.ExternalConversation(ctx, SourceDiscord, "111", "Discord #general")
	if err != nil {
		t.Fatal(err)
	}
	if first.Source != SourceDiscord || first.Title != "Discord #general" {
		t.Errorf("created %+v", first)
	}
	again, err := s.ExternalConversation(ctx, SourceDiscord, "111", "other title")
	if err != nil {
		t.Fatal(err)
	}
	if again != first {
		t.Errorf("second lookup = %+v, want %+v", again, first)
	}
	other, err := s.ExternalConversation(ctx, SourceDiscord, "222", "x")
	if err != nil {
		t.Fatal(err)
	}
	if other.ID == first.ID {
		t.Error("two channels share a conversation")
	}
	if n := countRows(t, rawDB(t, path), "conversations"); n != 2 {
		t.Errorf("conversations = %d, want 2", n)
	}
}

func TestNewExternalConversationRebinds(t *testing.T) {
	s, _, _ := newTestStore(t)
	ctx := context.Background()
	old, err := s.ExternalConversation(ctx, SourceDiscord, "111", "t")
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := s.NewExternalConversation(ctx, SourceDiscord, "111", "t")
	if err != nil {
		t.Fatal(err)
	}
	if fresh.ID == old.ID {
		t.Fatal("NewExternalConversation kept the old conversation")
	}
	got, err := s.ExternalConversation(ctx, SourceDiscord, "111", "t")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != fresh.ID {
		t.Errorf("lookup after /new = %s, want %s", got.ID, fresh.ID)
	}
	if _, err := s.GetConversation(ctx, old.ID); err != nil {
		t.Errorf("old conversation gone: %v", err)
	}
	// A fresh binding for a thread never seen before works too.
	if _, err := s.NewExternalConversation(ctx, SourceDiscord, "333", "t"); err != nil {
		t.Error(err)
	}
}

func TestExternalConversationConcurrentFirstMessages(t *testing.T) {
	s, _, path := newTestStore(t)
	ctx := context.Background()
	const n = 8
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c, err := s.ExternalConversation(ctx, SourceDiscord, "chan", "t")
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = c.ID
		})
	}
	wg.Wait()
	for _, id := range ids[1:] {
		if id != ids[0] {
			t.Fatalf("racing lookups created different conversations: %v", ids)
		}
	}
	if got := countRows(t, rawDB(t, path), "conversations"); got != 1 {
		t.Errorf("conversations = %d, want 1", got)
	}
}

func TestExternalConversationRejectsBadInput(t *testing.T) {
	s, _, _ := newTestStore(t)
	ctx := context.Background()
	tests := []struct{ name, source, key string }{
		{"unknown source", "telegram", "1"},
		{"empty key", SourceDiscord, ""},
		{"long key", SourceDiscord, string(make([]byte, 257))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.ExternalConversation(ctx, tt.source, tt.key, "t"); err == nil {
				t.Error("ExternalConversation accepted it")
			}
			if _, err := s.NewExternalConversation(ctx, tt.source, tt.key, "t"); err == nil {
				t.Error("NewExternalConversation accepted it")
			}
		})
	}
}
