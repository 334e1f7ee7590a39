package worker

import "github.com/airlockhq/airlock/mcp/tools"

// laneOf is the key tasks are serialised and taken turns by: the task's
// conversation, or the task itself when it has none (a script test run).
func laneOf(t tools.Task) string {
	if t.ConversationID == "" {
		return "task:" + t.ID
	}
	return "conv:" + t.ConversationID
}

// fairQueue holds queued tasks in one FIFO lane per conversation and
// serves the lanes round-robin: pop takes the first task of the first lane
// not running, and sends that lane to the back of the order if it still
// has tasks. Its cost per operation is linear in the number of lanes with
// queued tasks, which the in-flight cap and the per-conversation lock of
// the core keep small (one queued task per conversation in practice).
type fairQueue struct {
	lanes map[string][]*entry // lane → its queued tasks, oldest first
	order []string            // lanes with queued tasks, in turn order
	n     int                 // queued tasks in all lanes
}

func (f *fairQueue) push(e *entry) {
	lane := laneOf(e.task)
	if len(f.lanes[lane]) == 0 {
		f.order = append(f.order, lane)
	}
	f.lanes[lane] = append(f.lanes[lane], e)
	f.n++
}

// pop removes and returns the next task whose lane is not in running, or
// nil.
func (f *fairQueue) pop(running map[string]bool) *entry {
	for i, lane := range f.order {
		if running[lane] {
			continue
		}
		tasks := f.lanes[lane]
		e := tasks[0]
		tasks[0] = nil
		f.order = append(f.order[:i], f.order[i+1:]...)
		if rest := tasks[1:]; len(rest) > 0 {
			f.lanes[lane] = rest
			f.order = append(f.order, lane)
		} else {
			delete(f.lanes, lane)
		}
		f.n--
		return e
	}
	return nil
}

// remove takes the queued task id out, or returns nil.
func (f *fairQueue) remove(id string) *entry {
	got := f.removeIf(func(e *entry) bool { return e.task.ID == id })
	if len(got) == 0 {
		return nil
	}
	return got[0]
}

// removeIf takes out every queued task drop reports true for, keeping the
// order of the rest.
func (f *fairQueue) removeIf(drop func(*entry) bool) []*entry {
	var out []*entry
	order := f.order[:0]
	for _, lane := range f.order {
		tasks := f.lanes[lane]
		kept := tasks[:0]
		for _, e := range tasks {
			if drop(e) {
				out = append(out, e)
			} else {
				kept = append(kept, e)
			}
		}
		clear(tasks[len(kept):])
		if len(kept) == 0 {
			delete(f.lanes, lane)
			continue
		}
		f.lanes[lane] = kept
		order = append(order, lane)
	}
	clear(f.order[len(order):])
	f.order = order
	f.n -= len(out)
	return out
}
