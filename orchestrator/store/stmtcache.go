package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps prepared statements of the single writer connection.
// Preparing costs more than running a small INSERT, and every write path
// repeats a handful of statements.
//
// A statement cannot be prepared while a transaction holds the only writer
// connection, so a miss runs unprepared and is queued; WriteTx prepares the
// queue after it has released the connection.
type stmtCache struct {
	mu      sync.RWMutex
	stmts   map[string]*sql.Stmt
	pending map[string]bool
}

func newStmtCache() *stmtCache {
	return &stmtCache{stmts: make(map[string]*sql.Stmt), pending: make(map[string]bool)}
}

// exec runs query in tx, through the cached statement when there is one.
func (s *Store) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	c := s.stmts
	c.mu.RLock()
	st := c.stmts[query]
	c.mu.RUnlock()
	if st != nil {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	c.mu.Lock()
	c.pending[query] = true
	c.mu.Unlock()
	return tx.ExecContext(ctx, query, args...)
}

// preparePending prepares the queued statements on the writer. It holds
// no lock while preparing: a transaction that owns the writer connection
// may be waiting in exec for the lock. Failures are harmless: the statement
// keeps running unprepared.
func (s *Store) preparePending(ctx context.Context) {
	c := s.stmts
	c.mu.Lock()
	var todo []string
	for q := range c.pending {
		todo = append(todo, q)
		delete(c.pending, q)
	}
	c.mu.Unlock()
	for _, q := range todo {
		st, err := s.writer.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if c.stmts[q] == nil {
			c.stmts[q], st = st, nil
		}
		c.mu.Unlock()
		if st != nil {
			_ = st.Close()
		}
	}
}

// close closes every cached statement.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.stmts {
		_ = st.Close()
		delete(c.stmts, q)
	}
}
