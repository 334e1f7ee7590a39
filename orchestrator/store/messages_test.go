package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"
)

func TestMessageRoundTripAndOrder(t *testing.T) {
	s, _, _ := newTestStore(t) // the clock stands still: order must come from seq
	ctx := context.Background()
	c := mustConversation(t, s)
	in := []Message{
		{Role: RoleUser, Content: "weather?"},
		{Role: RoleAssistant, TaskID: "t_1", ToolCalls: []ToolCall{
			{ID: "call_1", Name: "script_run", Arguments: json.RawMessage(`{"name":"weather"}`)},
		}},
		{Role: RoleTool, TaskID: "t_1", ToolCallID: "call_1", ToolName: "script_run", Content: "oops", IsError: true},
		{Role: RoleAssistant, TaskID: "t_1", Content: "sunny"},
	}
	var want []Message
	for _, m := range in {
		m.ConversationID = c.ID
		got, err := s.AddMessage(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID[:2] != "m_" || got.CreatedAt.IsZero() {
			t.Errorf("AddMessage did not assign id/time: %+v", got)
		}
		want = append(want, got)
	}
	got, err := s.Messages(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Messages =\n%+v\nwant\n%+v", got, want)
	}
}

func TestAddMessageUnknownConversationStoresNothing(t *testing.T) {
	s, clk, path := newTestStore(t)
	ctx := context.Background()
	c := mustConversation(t, s)
	clk.Advance(time.Minute)
	_, err := s.AddMessage(ctx, Message{ConversationID: "c_unknown", Role: RoleUser, Content: "x"})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("AddMessage(unknown conversation) = %v, want ErrNotFound", err)
	}
	if n := countRows(t, rawDB(t, path), "messages"); n != 0 {
		t.Errorf("%d messages stored, want 0", n)
	}
	if _, err := s.Messages(ctx, "c_unknown"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Messages(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := s.AddMessage(ctx, Message{ConversationID: c.ID, Role: "system"}); err == nil {
		t.Error("unknown role accepted")
	}
}

func TestAddMessageBumpsConversation(t *testing.T) {
	s, clk, _ := newTestStore(t)
	ctx := context.Background()
	c := mustConversation(t, s)
	clk.Advance(time.Hour)
	m, err := s.AddMessage(ctx, Message{ConversationID: c.ID, Role: RoleUser, Content: "x"})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.GetConversation(ctx, c.ID)
	if !got.UpdatedAt.Equal(m.CreatedAt) || got.UpdatedAt.Equal(c.UpdatedAt) {
		t.Errorf("UpdatedAt = %v, want %v", got.UpdatedAt, m.CreatedAt)
	}
}

// Two Stores on one file stand for two processes: their writers contend
// for the SQLite lock, which BEGIN IMMEDIATE plus busy_timeout must absorb.
func TestConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "airlock.db")
	stores := []*Store{openAt(t, path), openAt(t, path)}
	ctx := context.Background()
	c := mustConversation(t, stores[0])
	const goroutines, each = 20, 5
	const n = goroutines * each
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range goroutines {
		wg.Go(func() {
			for j := range each {
				_, err := stores[i%2].AddMessage(ctx, Message{ConversationID: c.ID, Role: RoleUser,
					Content: fmt.Sprint(i, j)})
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("AddMessage: %v", err)
		}
	}
	for _, s := range stores {
		got, err := s.Messages(ctx, c.ID)
		if err != nil || len(got) != n {
			t.Errorf("Messages: %d messages, err %v; want %d", len(got), err, n)
		}
	}
}

func TestReadPoolSeesCommittedWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "airlock.db")
	a, b := openAt(t, path), openAt(t, path)
	ctx := context.Background()
	c := mustConversation(t, a)
	for i := range 10 {
		if _, err := a.AddMessage(ctx, Message{ConversationID: c.ID, Role: RoleUser}); err != nil {
			t.Fatal(err)
		}
		for _, s := range []*Store{a, b} {
			got, err := s.Messages(ctx, c.ID)
			if err != nil || len(got) != i+1 {
				t.Fatalf("after %d writes a reader sees %d messages (err %v)", i+1, len(got), err)
			}
		}
	}
}
