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
	if st := s.writeStmt(ctx, tx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// writeQueryRow is exec for a query of one row in a write transaction.
func (s *Store) writeQueryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	if st := s.writeStmt(ctx, tx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}

// writeStmt returns the cached statement of query bound to tx, a write
// transaction, or nil when it is not prepared yet (then it is queued).
func (s *Store) writeStmt(ctx context.Context, tx *sql.Tx, query string) *sql.Stmt {
	c := s.stmts
	c.mu.RLock()
	st := c.stmts[query]
	c.mu.RUnlock()
	if st != nil {
		return tx.StmtContext(ctx, st)
	}
	c.mu.Lock()
	c.pending[query] = true
	c.mu.Unlock()
	return nil
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

// readCache keeps prepared statements of the read pool (issue 13: a turn's
// reads spent as long preparing as running). database/sql prepares a
// pooled statement on each connection the first time it runs there. Only
// constant query texts go through it, so it stays small.
//
// A read transaction never prepares: it holds one of the pool's
// connections, and preparing waits for another; with every connection held
// by such a transaction nothing would ever move (it did: a burst of first
// turns hung TestBudgetHoldsUnderConcurrentTasks). A miss inside a
// transaction runs unprepared and is queued; readTx prepares the queue
// once it has given its connection back.
type readCache struct {
	mu      sync.RWMutex
	stmts   map[string]*sql.Stmt
	pending map[string]bool
}

// readStmt returns the read pool's prepared statement for query, preparing
// it on first use; nil if it cannot be prepared (the caller runs the query
// unprepared, and gets the error from there).
func (s *Store) readStmt(ctx context.Context, query string) *sql.Stmt {
	c := &s.reads
	c.mu.RLock()
	st := c.stmts[query]
	c.mu.RUnlock()
	if st != nil {
		return st
	}
	// Prepared without the lock: preparing waits for a free connection of
	// the pool, and cached statements must stay usable meanwhile.
	st, err := s.reader.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.stmts[query]; old != nil {
		_ = st.Close()
		return old
	}
	if c.stmts == nil {
		c.stmts = make(map[string]*sql.Stmt)
	}
	c.stmts[query] = st
	return st
}

// readQuery runs query on the read pool through its prepared statement.
func (s *Store) readQuery(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := s.readStmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.reader.QueryContext(ctx, query, args...)
}

// readQueryRow is readQuery for one row.
func (s *Store) readQueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := s.readStmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.reader.QueryRowContext(ctx, query, args...)
}

// txStmt returns query's read-pool statement bound to tx, a read
// transaction of the read pool, or nil when it is not prepared yet (then
// it is queued for readTx to prepare after the transaction).
func (s *Store) txStmt(ctx context.Context, tx *sql.Tx, query string) *sql.Stmt {
	c := &s.reads
	c.mu.RLock()
	st := c.stmts[query]
	c.mu.RUnlock()
	if st != nil {
		return tx.StmtContext(ctx, st)
	}
	c.mu.Lock()
	if c.pending == nil {
		c.pending = make(map[string]bool)
	}
	c.pending[query] = true
	c.mu.Unlock()
	return nil
}

// prepareReadPending prepares the statements read transactions queued. The
// caller must hold no connection of the read pool.
func (s *Store) prepareReadPending(ctx context.Context) {
	c := &s.reads
	c.mu.Lock()
	var todo []string
	for q := range c.pending {
		todo = append(todo, q)
	}
	clear(c.pending)
	c.mu.Unlock()
	for _, q := range todo {
		s.readStmt(ctx, q)
	}
}

// close closes every cached read statement.
func (c *readCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.stmts {
		_ = st.Close()
		delete(c.stmts, q)
	}
}

// txQuery runs query in tx (a read transaction) through its prepared
// statement.
func txQuery(ctx context.Context, s *Store, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	if st := s.txStmt(ctx, tx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, query, args...)
}

// txQueryRow is txQuery for one row.
func txQueryRow(ctx context.Context, s *Store, tx *sql.Tx, query string, args ...any) *sql.Row {
	if st := s.txStmt(ctx, tx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}
