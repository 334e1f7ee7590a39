package redact

import "sync/atomic"

// Holder holds the current Redactor so that the vault can rebuild the
// engine and swap it in while others use it: every Load after a Store sees
// the new one. The zero value holds nil, which redacts shapes only.
type Holder struct {
	p atomic.Pointer[Redactor]
}

// Load returns the current Redactor (nil, meaning shapes only, before the
// first Store or on a nil Holder).
func (h *Holder) Load() *Redactor {
	if h == nil {
		return nil
	}
	return h.p.Load()
}

// Store makes r the current Redactor.
func (h *Holder) Store(r *Redactor) { h.p.Store(r) }
