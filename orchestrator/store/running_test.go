package store

import (
	"context"
	"testing"
)

// TestMarkTaskRunning: a queued task becomes running; a task that ended
// before the mark was written keeps its end.
func TestMarkTaskRunning(t *testing.T) {
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
	for _, id := range []string{queued.ID, ended.ID} {
		if err := s.MarkTaskRunning(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	for id, want := range map[string]string{queued.ID: TaskRunning, ended.ID: TaskDone} {
		if got, err := s.GetTask(ctx, id); err != nil || got.Status != want {
			t.Errorf("task %s: %+v %v; want %s", id, got, err, want)
		}
	}
}
