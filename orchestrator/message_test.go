package orchestrator_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/llm"
	"github.com/airlockhq/airlock/orchestrator/llm/llmtest"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// TestMessageToDiscordConversation: a Discord conversation takes messages
// from Discord only, whoever calls the core; nothing is stored for a
// refused message.
func TestMessageToDiscordConversation(t *testing.T) {
	h := newHarness(t, orchestrator.Config{TaskTimeout: 5 * time.Second}, llm.Budget{})
	ctx := context.Background()
	conv, err := h.store.ExternalConversation(ctx, store.SourceDiscord, "300000000000000001", "#general")
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{store.SourceWeb, store.SourceAPI, ""} {
		m := orchestrator.Message{ConversationID: conv.ID, Source: src, Author: "admin:alice", Text: "hi"}
		if _, err := h.core.HandleMessage(ctx, m); !errors.Is(err, orchestrator.ErrReadOnly) {
			t.Errorf("HandleMessage from %q: %v; want ErrReadOnly", src, err)
		}
		if _, err := h.core.StartMessage(ctx, m); !errors.Is(err, orchestrator.ErrReadOnly) {
			t.Errorf("StartMessage from %q: %v; want ErrReadOnly", src, err)
		}
	}
	if msgs, _ := h.store.Messages(ctx, conv.ID); len(msgs) != 0 {
		t.Errorf("the Discord conversation got %d messages", len(msgs))
	}
	// From Discord it is answered (by a worker that is not there: the
	// task fails at its deadline, but it ran).
	run, err := h.core.StartMessage(ctx, orchestrator.Message{ConversationID: conv.ID, Source: store.SourceDiscord,
		Author: "discord:1", Text: "hi", Audience: store.DiscordChannelAudience("300000000000000001")})
	if err != nil {
		t.Fatalf("a message from Discord: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := run(cctx); err != nil {
		t.Fatal(err)
	}
}

// TestStartMessageDoesNotWait: a second message to a conversation whose
// reply is still being written is refused at once with ErrBusy, not
// queued; the conversation is free again when the first ends, and ending
// run's context cancels the task, whose failure is stored.
func TestStartMessageDoesNotWait(t *testing.T) {
	h := newHarness(t, orchestrator.Config{TaskTimeout: time.Minute}, llm.Budget{})
	ctx := context.Background()
	conv := h.conversation(t)
	m := orchestrator.Message{ConversationID: conv, Source: store.SourceWeb, Author: "admin:alice", Text: "first"}
	run, err := h.core.StartMessage(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	second := m
	second.Text = "second"
	if _, err := h.core.StartMessage(ctx, second); !errors.Is(err, orchestrator.ErrBusy) {
		t.Fatalf("a second message while the first runs: %v; want ErrBusy", err)
	}
	life, stop := context.WithCancel(ctx)
	done := make(chan orchestrator.Reply, 1)
	go func() {
		r, err := run(life)
		if err != nil {
			t.Error(err)
		}
		done <- r
	}()
	stop() // the server shuts down; no worker ever took the task
	var r orchestrator.Reply
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("run did not end when its context did")
	}
	if !r.Failed {
		t.Errorf("reply %+v; want a failure", r)
	}
	msgs, _ := h.store.Messages(ctx, conv)
	if len(msgs) != 2 || msgs[0].Content != "first" || !msgs[1].IsError {
		t.Errorf("stored: %+v; want the message and the failure", msgs)
	}
	if _, err := h.core.StartMessage(ctx, second); err != nil {
		t.Errorf("after the first ended: %v", err)
	}
}

// TestFirstMessageTitles: an untitled conversation takes the start of its
// first message as its title; a titled one keeps its own.
func TestFirstMessageTitles(t *testing.T) {
	h := newHarness(t, orchestrator.Config{TaskTimeout: time.Minute}, llm.Budget{})
	ctx := context.Background()
	untitled, _ := h.store.CreateConversation(ctx, store.SourceAPI, "")
	titled, _ := h.store.CreateConversation(ctx, store.SourceWeb, "Mine")
	for _, id := range []string{untitled.ID, titled.ID} {
		run, err := h.core.StartMessage(ctx, orchestrator.Message{ConversationID: id, Source: store.SourceWeb,
			Text: "  What is   the weather\nin Paris today, and tomorrow, and the day after that, please?"})
		if err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := run(cctx); err != nil {
			t.Fatal(err)
		}
	}
	for id, want := range map[string]string{
		untitled.ID: "What is the weather in Paris today, and tomorrow, and the d…",
		titled.ID:   "Mine",
	} {
		if c, _ := h.store.GetConversation(ctx, id); c.Title != want {
			t.Errorf("title %q; want %q", c.Title, want)
		}
	}
}

// TestTurnEndIsAudited: a turn's end is in the audit chain, committed with
// the task's end; when the chain cannot take it (its head is gone) the
// turn still ends and the user gets the answer.
func TestTurnEndIsAudited(t *testing.T) {
	h := newHarness(t, orchestrator.Config{TaskTimeout: 10 * time.Second}, llm.Budget{})
	h.llm.SetResponder(func(llmtest.RecordedRequest) (llmtest.Reply, bool) { return llmtest.Reply{Text: "done"}, true })
	h.runAgent(t)
	ctx := context.Background()
	conv := h.conversation(t)
	r, err := h.core.HandleMessage(ctx, orchestrator.Message{ConversationID: conv, Source: store.SourceAPI, Author: "api", Text: "hi"})
	if err != nil || r.Text != "done" {
		t.Fatalf("turn: %+v %v", r, err)
	}
	entries, err := h.audit.List(ctx, audit.Filter{Action: "task.done"})
	if err != nil || len(entries) != 1 || entries[0].Target != conv || !strings.Contains(string(entries[0].Details), r.TaskID) {
		t.Fatalf("task.done entries: %+v %v", entries, err)
	}
	if rep, err := h.audit.Verify(ctx); err != nil || !rep.OK {
		t.Fatalf("chain after a turn: %+v %v", rep, err)
	}

	if err := h.store.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM audit_head")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	r, err = h.core.HandleMessage(ctx, orchestrator.Message{ConversationID: conv, Source: store.SourceAPI, Author: "api", Text: "again"})
	if err != nil || r.Text != "done" || r.Failed {
		t.Fatalf("a turn with a broken audit chain: %+v %v", r, err)
	}
	task, err := h.store.GetTask(ctx, r.TaskID)
	if err != nil || task.Status != store.TaskDone {
		t.Errorf("task with a broken audit chain: %+v %v", task, err)
	}
}
