package sandbox

import (
	"log/slog"
	"sync"
	"time"
)

// readyTimeout bounds a warm child's start.
const readyTimeout = 10 * time.Second

// pool keeps up to size idle children started in the background, so a
// run does not wait for a process start. A child leaves the pool for one
// run and never comes back.
type pool struct {
	exe      string
	memBytes int64
	log      *slog.Logger
	idle     chan *child
	nudge    chan struct{}
	done     chan struct{}
	wg       sync.WaitGroup
	warn     *confWarning
	lazy     bool          // fill only after the first run
	idleTTL  time.Duration // release idle children after this long without a run; 0 never
}

func newPool(exe string, size int, memBytes int64, log *slog.Logger) *pool {
	p := &pool{exe: exe, memBytes: memBytes, log: log, idle: make(chan *child, size),
		nudge: make(chan struct{}, 1), done: make(chan struct{})}
	p.wg.Add(1) // the caller starts fill once lazy and idleTTL are set
	return p
}

// get returns an idle live child, or nil if none is ready. The caller
// calls refill once its run is over, so that starting the replacement
// does not compete with the run for CPU.
func (p *pool) get() *child {
	for {
		select {
		case c := <-p.idle:
			if c.alive() {
				return c
			}
			c.release()
		default:
			return nil
		}
	}
}

func (p *pool) refill() {
	select {
	case p.nudge <- struct{}{}:
	default:
	}
}

// fill keeps the pool full until close. It is the only sender on idle,
// so checking the length first never blocks.
func (p *pool) fill() {
	defer p.wg.Done()
	if p.lazy && !p.wait() {
		return
	}
	backoff := 100 * time.Millisecond
	for {
		for len(p.idle) < cap(p.idle) {
			c, err := spawn(p.exe, p.memBytes)
			if err == nil {
				if err = c.awaitReady(readyTimeout); err != nil {
					c.release()
				} else {
					p.warn.note(p.log, &c.confinement)
				}
			}
			if err != nil {
				p.log.Error("sandbox: warm child", "err", err)
				if !p.sleep(backoff) {
					return
				}
				backoff = min(2*backoff, 10*time.Second)
				continue
			}
			backoff = 100 * time.Millisecond
			select {
			case p.idle <- c:
			case <-p.done:
				c.release()
				return
			}
		}
		if !p.idleWait() {
			return
		}
	}
}

// idleWait waits, with a full pool, for a run to take a child. After
// idleTTL without one it gives the memory back (drain) and waits for the
// next run. It reports false when the pool closes.
func (p *pool) idleWait() bool {
	var idle <-chan time.Time
	if p.idleTTL > 0 {
		t := time.NewTimer(p.idleTTL)
		defer t.Stop()
		idle = t.C
	}
	select {
	case <-p.nudge:
		return true
	case <-p.done:
		return false
	case <-idle:
		p.drain()
		return p.wait()
	}
}

// wait blocks until a run asks for a refill, or the pool closes.
func (p *pool) wait() bool {
	select {
	case <-p.nudge:
		return true
	case <-p.done:
		return false
	}
}

// drain releases every idle child.
func (p *pool) drain() {
	for {
		select {
		case c := <-p.idle:
			c.release()
		default:
			return
		}
	}
}

func (p *pool) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.done:
		return false
	}
}

// close stops the filler and kills the idle children.
func (p *pool) close() {
	close(p.done)
	p.wg.Wait()
	p.drain()
}

// full reports whether every idle slot holds a child (for tests and
// benchmarks).
func (p *pool) full() bool { return len(p.idle) == cap(p.idle) }
