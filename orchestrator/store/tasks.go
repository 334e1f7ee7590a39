package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Task statuses.
const (
	TaskQueued  = "queued"
	TaskRunning = "running"
	TaskDone    = "done"
	TaskFailed  = "failed"
)

// RestartedError is the Error of a task that was queued or running when the
// previous orchestrator process stopped.
const RestartedError = "orchestrator restarted"

// Task is one unit of work answering a conversation.
type Task struct {
	ID             string
	ConversationID string
	Status         string // TaskQueued, TaskRunning, TaskDone or TaskFailed
	Error          string // why a failed task failed
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

const taskColumns = "id, conversation_id, status, error, created_at, updated_at"

// CreateTask stores a new queued task with a fresh "t_" id. An unknown
// conversation gives an error matching ErrNotFound.
func (s *Store) CreateTask(ctx context.Context, conversationID string) (Task, error) {
	now := fromDB(toDB(s.now()))
	t := Task{ID: newID("t_"), ConversationID: conversationID, Status: TaskQueued,
		CreatedAt: now, UpdatedAt: now}
	err := s.WriteTx(ctx, func(tx *sql.Tx) error { return s.insertTask(ctx, tx, t) })
	if err != nil {
		return Task{}, fmt.Errorf("store: create task for %q: %w", conversationID, err)
	}
	return t, nil
}

// SetTaskStatus sets a task's status and error text. An unknown task gives an
// error matching ErrNotFound.
func (s *Store) SetTaskStatus(ctx context.Context, id, status, errText string) error {
	switch status {
	case TaskQueued, TaskRunning, TaskDone, TaskFailed:
	default:
		return fmt.Errorf("store: set task %q status: unknown status %q", id, status)
	}
	err := s.WriteTx(ctx, func(tx *sql.Tx) error { return s.updateTaskStatus(ctx, tx, id, status, errText) })
	if err != nil {
		return fmt.Errorf("store: set task %q status: %w", id, err)
	}
	return nil
}

// GetTask returns the task with the given id, or an error matching
// ErrNotFound.
func (s *Store) GetTask(ctx context.Context, id string) (Task, error) {
	var t Task
	var created, updated int64
	err := s.reader.QueryRowContext(ctx, "SELECT "+taskColumns+" FROM tasks WHERE id = ?", id).
		Scan(&t.ID, &t.ConversationID, &t.Status, &t.Error, &created, &updated)
	if err != nil {
		return Task{}, fmt.Errorf("store: get task %q: %w", id, errNoRows(err))
	}
	t.CreatedAt, t.UpdatedAt = fromDB(created), fromDB(updated)
	return t, nil
}

// failStaleTasks marks tasks left queued or running by a previous process
// as failed, so that a restart loses no task silently.
func (s *Store) failStaleTasks(ctx context.Context) error {
	var n int64
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx,
			"UPDATE tasks SET status = ?, error = ?, updated_at = ? WHERE status IN (?, ?)",
			TaskFailed, RestartedError, toDB(s.now()), TaskQueued, TaskRunning)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("store: fail stale tasks: %w", err)
	}
	s.recovered = int(n)
	if n > 0 {
		s.logger.Warn("tasks interrupted by a restart marked failed", "count", n)
	}
	return nil
}

func (s *Store) insertTask(ctx context.Context, tx *sql.Tx, t Task) error {
	_, err := s.exec(ctx, tx,
		"INSERT INTO tasks ("+taskColumns+") VALUES (?, ?, ?, ?, ?, ?)",
		t.ID, t.ConversationID, t.Status, t.Error, toDB(t.CreatedAt), toDB(t.UpdatedAt))
	return mapFK(err)
}

func (s *Store) updateTaskStatus(ctx context.Context, tx *sql.Tx, id, status, errText string) error {
	res, err := s.exec(ctx, tx,
		"UPDATE tasks SET status = ?, error = ?, updated_at = ? WHERE id = ?",
		status, errText, toDB(s.now()), id)
	if err != nil {
		return err
	}
	return expectOneRow(res)
}
