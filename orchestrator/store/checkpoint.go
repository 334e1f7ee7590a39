package store

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// SQLite copies the WAL back into the database file (a checkpoint) in the
// connection whose commit takes the WAL past wal_autocheckpoint pages
// (1000): that commit, and every writer queued behind it, waits for the
// copy and its fsyncs, a few milliseconds on a turn that otherwise takes
// one or two. The store checkpoints in the background instead, on a
// connection of its own, every checkpointEvery commits: a PASSIVE
// checkpoint, which neither waits for nor blocks the writer or readers.
// The writer keeps its autocheckpoint as a backstop; when the background
// has kept up, the copy left for it is small.
const checkpointEvery = 32

type checkpointer struct {
	db      *sql.DB
	kick    chan struct{}
	stop    chan struct{}
	stopped sync.Once
	done    sync.WaitGroup
	commits atomic.Int64
	runs    atomic.Int64 // background checkpoints that found frames copied back
}

// startCheckpoints opens the checkpoint connection and starts its loop.
func (s *Store) startCheckpoints(ctx context.Context, path string) error {
	db, err := openPool(ctx, path, path+"?_pragma=busy_timeout(10000)", 1)
	if err != nil {
		return err
	}
	s.ckpt = &checkpointer{db: db, kick: make(chan struct{}, 1), stop: make(chan struct{})}
	s.ckpt.done.Add(1)
	go s.checkpointLoop()
	return nil
}

// committed counts a commit and wakes the checkpointer every
// checkpointEvery of them.
func (s *Store) committed() {
	c := s.ckpt
	if c == nil || c.commits.Add(1)%checkpointEvery != 0 {
		return
	}
	select {
	case c.kick <- struct{}{}:
	default: // one is pending already
	}
}

func (s *Store) checkpointLoop() {
	c := s.ckpt
	defer c.done.Done()
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
		}
		var busy, frames, copied int64
		err := c.db.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
		if err != nil {
			s.logger.Warn("background checkpoint failed", "err", err)
			continue
		}
		if copied > 0 {
			c.runs.Add(1)
		}
	}
}

// stopCheckpoints ends the loop and closes its connection; a second call
// does nothing.
func (s *Store) stopCheckpoints() error {
	c := s.ckpt
	if c == nil {
		return nil
	}
	var err error
	c.stopped.Do(func() {
		close(c.stop)
		c.done.Wait()
		err = c.db.Close()
	})
	return err
}
