package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// The messages' full-text index (messages_fts) is kept in step in batches
// rather than in each turn's commits: an FTS5 insert flushes an index
// segment with its commit, several pages of writes for one message, while
// queueing the message (migration 0017) touches one small table. The queue
// is moved into the index ftsIndexDelay after a write that queued messages,
// at Open, and before every memory search, which therefore never misses a
// stored message.
const (
	// ftsIndexDelay lets the writes of a busy moment go into one segment.
	ftsIndexDelay = 500 * time.Millisecond
	// ftsIndexBatch bounds one indexing transaction, so that the writer
	// is never held long: a long queue (after a restore) goes in steps.
	ftsIndexBatch = 500
)

// ftsIndexer schedules the background indexing of queued messages.
type ftsIndexer struct {
	mu      sync.Mutex
	timer   *time.Timer
	closed  bool
	running sync.WaitGroup
	// queued: the write transaction under way stored a message. Atomic
	// only because a read-only Store's WriteTx (which fails) may run two at
	// once; on the one writer connection transactions take turns.
	queued atomic.Bool
}

// queuedForIndex notes, inside a write transaction, that it stored a
// message, which the insert trigger may have queued for the index; WriteTx
// schedules the indexing after its commit (which finds nothing to do when
// the trigger queued nothing).
func (s *Store) queuedForIndex() { s.fts.queued.Store(true) }

// scheduleIndex arms the background indexing, unless it is armed already.
func (s *Store) scheduleIndex() {
	s.fts.mu.Lock()
	defer s.fts.mu.Unlock()
	if s.fts.closed || s.fts.timer != nil {
		return
	}
	s.fts.timer = time.AfterFunc(ftsIndexDelay, s.indexInBackground)
}

func (s *Store) indexInBackground() {
	s.fts.mu.Lock()
	s.fts.timer = nil
	if s.fts.closed {
		s.fts.mu.Unlock()
		return
	}
	s.fts.running.Add(1)
	s.fts.mu.Unlock()
	defer s.fts.running.Done()
	if err := s.indexQueued(context.Background()); err != nil {
		// The queue stays; the next write, search or start retries it.
		s.logger.Warn("indexing messages for memory search failed", "err", err)
	}
}

// stopIndexing cancels the scheduled indexing and waits for one under way.
func (s *Store) stopIndexing() {
	s.fts.mu.Lock()
	s.fts.closed = true
	if s.fts.timer != nil {
		s.fts.timer.Stop()
		s.fts.timer = nil
	}
	s.fts.mu.Unlock()
	s.fts.running.Wait()
}

// indexQueued moves the queued messages into messages_fts, at most
// ftsIndexBatch a transaction. A queued message that no longer belongs
// in the index (changed since) is dropped from the queue.
func (s *Store) indexQueued(ctx context.Context) error {
	var queued bool
	if err := s.readQueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM messages_fts_queue)").Scan(&queued); err != nil {
		return fmt.Errorf("store: index messages: %w", err)
	}
	for queued {
		err := s.WriteTx(ctx, func(tx *sql.Tx) error {
			const batch = "SELECT seq FROM messages_fts_queue ORDER BY seq LIMIT ?"
			if _, err := s.exec(ctx, tx, "INSERT INTO messages_fts (rowid, content, aud, conv)"+
				" SELECT m.seq, m.content, c.audience, m.conversation_id FROM messages m"+
				" JOIN conversations c ON c.id = m.conversation_id"+
				" WHERE m.seq IN ("+batch+")"+
				" AND (m.role = 'user' OR (m.role = 'assistant' AND m.tool_calls IS NULL AND m.is_error = 0))",
				ftsIndexBatch); err != nil {
				return err
			}
			res, err := s.exec(ctx, tx, "DELETE FROM messages_fts_queue WHERE seq IN ("+batch+")", ftsIndexBatch)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			queued = n == ftsIndexBatch
			return err
		})
		if err != nil {
			return fmt.Errorf("store: index messages: %w", err)
		}
	}
	return nil
}

// IndexQueue reports how many messages wait for the memory-search index
// and when the oldest of them was stored (zero when none wait): for the
// doctor, since a queue that stays means searches miss those messages.
func (s *Store) IndexQueue(ctx context.Context) (int, time.Time, error) {
	var n int
	var oldest sql.NullInt64
	err := s.reader.QueryRowContext(ctx, "SELECT count(*), min(m.created_at) FROM messages_fts_queue q"+
		" JOIN messages m ON m.seq = q.seq").Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("store: index queue: %w", err)
	}
	if !oldest.Valid {
		return n, time.Time{}, nil
	}
	return n, fromDB(oldest.Int64), nil
}
