package live

import "sync"

// sub is one subscription: a queue the hub appends to, and a goroutine
// that hands the queue on to out as fast as the subscriber receives.
type sub struct {
	out    chan Event    // unbuffered: the queue is the buffer
	wake   chan struct{} // capacity 1: the queue grew
	stop   chan struct{} // closed to end the pump
	exited chan struct{} // closed once the pump has closed out
	once   sync.Once

	mu    sync.Mutex
	queue []Event
}

// push queues e without blocking; a delta replaces a delta still waiting
// at the end of the queue. It reports false, queueing nothing, when
// MaxPending events already wait.
func (s *sub) push(e Event) bool {
	s.mu.Lock()
	n := len(s.queue)
	switch {
	case e.Type == TypeDelta && n > 0 && s.queue[n-1].Type == TypeDelta:
		s.queue[n-1] = e
	case n >= MaxPending:
		s.mu.Unlock()
		return false
	default:
		s.queue = append(s.queue, e)
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return true
}

// pump delivers the queue in order until stopped, then closes out.
func (s *sub) pump() {
	defer close(s.exited)
	defer close(s.out)
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.mu.Unlock()
			select {
			case <-s.wake:
				continue
			case <-s.stop:
				return
			}
		}
		e := s.queue[0]
		s.queue[0] = Event{}
		s.queue = s.queue[1:]
		s.mu.Unlock()
		select {
		case s.out <- e:
		case <-s.stop:
			return
		}
	}
}

// endAsync stops the pump without waiting for it.
func (s *sub) endAsync() { s.once.Do(func() { close(s.stop) }) }

// end stops the pump and waits until out is closed.
func (s *sub) end() {
	s.endAsync()
	<-s.exited
}
