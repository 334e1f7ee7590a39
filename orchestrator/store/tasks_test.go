package store

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestTaskLifecycle(t *testing.T) {
	s, clk, _ := newTestStore(t)
	ctx := context.Background()
	c := mustConversation(t, s)
	task, err := s.CreateTask(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if task.Status != TaskQueued || task.ID[:2] != "t_" {
		t.Errorf("new task = %+v", task)
	}
	clk.Advance(time.Second)
	if err := s.SetTaskStatus(ctx, task.ID, TaskFailed, "llm down"); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetTask(ctx, task.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := task
	want.Status, want.Error, want.UpdatedAt = TaskFailed, "llm down", clk.Now()
	if got != want {
		t.Errorf("GetTask = %+v, want %+v", got, want)
	}
}

func TestTaskErrors(t *testing.T) {
	s, _, path := newTestStore(t)
	ctx := context.Background()
	if _, err := s.CreateTask(ctx, "c_unknown"); !errors.Is(err, ErrNotFound) {
		t.Errorf("CreateTask(unknown conversation) = %v, want ErrNotFound", err)
	}
	if n := countRows(t, rawDB(t, path), "tasks"); n != 0 {
		t.Errorf("%d tasks stored, want 0", n)
	}
	if err := s.SetTaskStatus(ctx, "t_unknown", TaskDone, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetTaskStatus(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := s.GetTask(ctx, "t_unknown"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetTask(unknown) = %v, want ErrNotFound", err)
	}
	task, _ := s.CreateTask(ctx, mustConversation(t, s).ID)
	if err := s.SetTaskStatus(ctx, task.ID, "paused", ""); err == nil {
		t.Error("unknown status accepted")
	}
}

func TestStaleTasksFailedOnReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "airlock.db")
	ctx := context.Background()
	s, err := Open(ctx, path, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	c := mustConversation(t, s)
	status := map[string]string{}
	for _, st := range []string{TaskQueued, TaskRunning, TaskDone, TaskFailed} {
		task, err := s.CreateTask(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetTaskStatus(ctx, task.ID, st, ""); err != nil {
			t.Fatal(err)
		}
		status[task.ID] = st
	}
	s.Close()

	s2 := openAt(t, path)
	if got := s2.RecoveredTasks(); got != 2 {
		t.Errorf("RecoveredTasks = %d, want 2", got)
	}
	for id, before := range status {
		got, err := s2.GetTask(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		wantStatus, wantErr := before, ""
		if before == TaskQueued || before == TaskRunning {
			wantStatus, wantErr = TaskFailed, RestartedError
		}
		if got.Status != wantStatus || got.Error != wantErr {
			t.Errorf("task was %s: now %s %q, want %s %q", before, got.Status, got.Error, wantStatus, wantErr)
		}
	}
}

// TestFinishTaskAuditedIsOneCommit: the task's end, its answer and its
// audit entry are stored together or not at all.
func TestFinishTaskAuditedIsOneCommit(t *testing.T) {
	s, _, _ := newTestStore(t)
	ctx := context.Background()
	c := mustConversation(t, s)
	task, _, err := s.StartTask(ctx, c.ID, AudienceAdmin, "hello")
	if err != nil {
		t.Fatal(err)
	}
	answer := Message{ConversationID: c.ID, Role: RoleAssistant, Content: "the answer"}
	entry := func(h AuditHead) (AuditRow, error) {
		return AuditRow{ID: h.LastID + 1, PrevHash: h.LastHash, Hash: "h" + strconv.FormatInt(h.LastID+1, 10),
			Time: time.Now(), Actor: "api", Action: "task.done", Outcome: "ok"}, nil
	}
	refusals := map[string]AuditBuild{
		"build error": func(AuditHead) (AuditRow, error) { return AuditRow{}, errors.New("no entry") },
		"broken link": func(h AuditHead) (AuditRow, error) {
			r, _ := entry(h)
			r.PrevHash = "not the head"
			return r, nil
		},
	}
	for name, build := range refusals {
		if _, err := s.FinishTask(ctx, task.ID, TaskDone, "", answer, build); !errors.Is(err, ErrAuditAppend) {
			t.Errorf("%s: %v, want ErrAuditAppend", name, err)
		}
		got, err := s.GetTask(ctx, task.ID)
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := s.Messages(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == TaskDone || len(msgs) != 1 {
			t.Errorf("%s: the task ended without its audit entry: status %s, %d messages", name, got.Status, len(msgs))
		}
	}
	if rows, err := s.ListAudit(ctx, AuditQuery{Limit: 10}); err != nil || len(rows) != 0 {
		t.Fatalf("audit rows after refused ends: %d %v", len(rows), err)
	}

	if _, err := s.FinishTask(ctx, task.ID, TaskDone, "", answer, entry); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetTask(ctx, task.ID)
	if err != nil || got.Status != TaskDone {
		t.Fatalf("task after an audited end: %+v %v", got, err)
	}
	rows, err := s.ListAudit(ctx, AuditQuery{Limit: 10})
	if err != nil || len(rows) != 1 || rows[0].Action != "task.done" || rows[0].ID != 1 {
		t.Fatalf("audit after an audited end: %+v %v", rows, err)
	}
	head, err := s.ScanAudit(ctx, func(AuditRow) error { return nil })
	if err != nil || head.LastID != 1 || head.LastHash != "h1" {
		t.Errorf("the head did not move with the audited end: %+v %v", head, err)
	}
}
