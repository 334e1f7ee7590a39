package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestConversationRoundTrip(t *testing.T) {
	s, clk, _ := newTestStore(t)
	ctx := context.Background()
	c, err := s.CreateConversation(ctx, SourceDiscord, "general")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.ID) != 28 || c.ID[:2] != "c_" {
		t.Errorf("id %q: want c_ + 26 chars", c.ID)
	}
	got, err := s.GetConversation(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got != c {
		t.Errorf("GetConversation = %+v, want %+v", got, c)
	}
	if !got.CreatedAt.Equal(clk.Now()) || got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want %v in UTC", got.CreatedAt, clk.Now())
	}
}

func TestConversationErrors(t *testing.T) {
	s, _, _ := newTestStore(t)
	ctx := context.Background()
	if _, err := s.GetConversation(ctx, "c_nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetConversation(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := s.CreateConversation(ctx, "telegram", "x"); err == nil {
		t.Error("unknown source accepted")
	}
	if _, err := s.CreateConversation(ctx, SourceAPI, strings.Repeat("t", MaxTitleBytes+1)); !errors.Is(err, ErrTitleTooLong) {
		t.Errorf("CreateConversation(long title) = %v, want ErrTitleTooLong", err)
	}
	if _, err := s.CreateConversation(ctx, SourceAPI, strings.Repeat("t", MaxTitleBytes)); err != nil {
		t.Errorf("CreateConversation(title at the limit) = %v", err)
	}
}

func TestListConversationsNewestUpdatedFirst(t *testing.T) {
	s, clk, _ := newTestStore(t)
	ctx := context.Background()
	var ids []string
	for range 3 {
		clk.Advance(time.Second)
		ids = append(ids, mustConversation(t, s).ID)
	}
	clk.Advance(time.Second)
	if _, err := s.AddMessage(ctx, Message{ConversationID: ids[0], Role: "user", Content: "hi"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		limit, offset int
		want          []string
	}{
		{0, 0, []string{ids[0], ids[2], ids[1]}},
		{2, 0, []string{ids[0], ids[2]}},
		{2, 2, []string{ids[1]}},
		{5, 10, nil},
	}
	for _, tt := range tests {
		got, err := s.ListConversations(ctx, tt.limit, tt.offset)
		if err != nil {
			t.Fatal(err)
		}
		var gotIDs []string
		for _, c := range got {
			gotIDs = append(gotIDs, c.ID)
		}
		if !slices.Equal(gotIDs, tt.want) {
			t.Errorf("List(%d, %d) = %v, want %v", tt.limit, tt.offset, gotIDs, tt.want)
		}
	}
}

func TestTitleIfEmpty(t *testing.T) {
	st, _, _ := newTestStore(t)
	ctx := context.Background()
	c, err := st.CreateConversation(ctx, SourceWeb, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.TitleIfEmpty(ctx, c.ID, "first"); err != nil {
		t.Fatal(err)
	}
	if err := st.TitleIfEmpty(ctx, c.ID, "second"); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.GetConversation(ctx, c.ID); got.Title != "first" {
		t.Errorf("title %q; want the first one kept", got.Title)
	}
}
