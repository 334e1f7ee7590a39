package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps prepared statements by query text. The Store has two:
// one for the single writer connection, one for the read pool (issue 13:
// a turn's reads spent as long preparing as running; database/sql prepares
// a pooled statement on each connection the first time it runs there).
// Only constant query texts go through them, so they stay small.
//
// A transaction never prepares: it holds a connection, and preparing waits
// for one (the writer's only one; with every read connection held by such
// a transaction nothing would ever move, and it did: a burst of first
// turns hung TestBudgetHoldsUnderConcurrentTasks). A miss inside a
// transaction runs unprepared and is queued; WriteTx and readTx prepare the
// queue once they have given their connection back. The zero value is
// ready to use.
type stmtCache struct {
	mu      sync.RWMutex
	stmts   map[string]*sql.Stmt
	pending map[string]bool
}

// get returns the statement of query, or nil.
func (c *stmtCache) get(query string) *sql.Stmt {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.stmts[query]
}

// lookup is get for a transaction: a miss is queued to be prepared.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	if st := c.get(query); st != nil {
		return st
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		c.pending = make(map[string]bool)
	}
	c.pending[query] = true
	return nil
}

// drain returns the queued query texts and empties the queue.
func (c *stmtCache) drain() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var todo []string
	for q := range c.pending {
		todo = append(todo, q)
	}
	clear(c.pending)
	return todo
}

// put keeps st for query and returns it, unless another was kept meanwhile:
// then st is closed and the other returned.
func (c *stmtCache) put(query string, st *sql.Stmt) *sql.Stmt {
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

// close closes every cached statement.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.stmts {
		_ = st.Close()
		delete(c.stmts, q)
	}
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
	if st := s.stmts.lookup(query); st != nil {
		return tx.StmtContext(ctx, st)
	}
	return nil
}

// preparePending prepares the queued statements on the writer, once the
// transaction that queued them has released the connection. Failures are
// harmless: the statement keeps running unprepared.
func (s *Store) preparePending(ctx context.Context) {
	for _, q := range s.stmts.drain() {
		if st, err := s.writer.PrepareContext(ctx, q); err == nil {
			s.stmts.put(q, st)
		}
	}
}

// readStmt returns the read pool's prepared statement for query, preparing
// it on first use; nil if it cannot be prepared (the caller runs the query
// unprepared, and gets the error from there).
func (s *Store) readStmt(ctx context.Context, query string) *sql.Stmt {
	if st := s.reads.get(query); st != nil {
		return st
	}
	// Prepared without the lock: preparing waits for a free connection of
	// the pool, and cached statements must stay usable meanwhile.
	st, err := s.reader.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	return s.reads.put(query, st)
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
	if st := s.reads.lookup(query); st != nil {
		return tx.StmtContext(ctx, st)
	}
	return nil
}

// prepareReadPending prepares the statements read transactions queued. The
// caller must hold no connection of the read pool.
func (s *Store) prepareReadPending(ctx context.Context) {
	for _, q := range s.reads.drain() {
		s.readStmt(ctx, q)
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
