package store

import (
	"context"
	"testing"
)

// TestLLMCallMarksTaskRunning: a queued task's first model call marks it
// running in the call's own transaction; a task that ended before the call
// was recorded keeps its end.
func TestLLMCallMarksTaskRunning(t *testing.T) {
	s, _, _ := newTestStore(t)
	ctx := context.Background()
	c := mustConversation(t, s)
	queued, err := s.CreateTask(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	ended, err := s.CreateTask(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetTaskStatus(ctx, ended.ID, TaskDone, ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetTask(ctx, queued.ID); got.Status != TaskQueued {
		t.Fatalf("a new task is %q, want queued", got.Status)
	}
	for _, id := range []string{queued.ID, ended.ID} {
		if err := s.RecordLLMCall(ctx, LLMCall{ConversationID: c.ID, TaskID: id, Provider: "openai", Model: "m", InputTokens: 1}); err != nil {
			t.Fatal(err)
		}
	}
	for id, want := range map[string]string{queued.ID: TaskRunning, ended.ID: TaskDone} {
		if got, err := s.GetTask(ctx, id); err != nil || got.Status != want {
			t.Errorf("task %s: %+v %v; want %s", id, got, err, want)
		}
	}
}
