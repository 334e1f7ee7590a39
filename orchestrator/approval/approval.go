// Package approval is the script approval lifecycle: the assistant proposes
// a script version, an admin approves or rejects that exact version (by the
// sha256 of its source), approving a newer version supersedes the old one,
// and revoking disables a script at once.
//
// Invariants:
//   - A version is identified by the sha256 of its exact source bytes; a
//     decision names that sha256, so an admin approves precisely the bytes
//     they reviewed, and nothing can change them afterwards.
//   - At most one version of a name is approved at any time (enforced by
//     the database as well as by the code); every transition is one
//     transaction.
//   - Approved and IsApproved read the database on every call: nothing is
//     cached, so a revoke or a new approval takes effect on the very next
//     call.
//   - A proposal that does not parse, whose header is invalid or that does
//     not compile under the sandbox's dialect is refused and stores
//     nothing. Nothing in this package executes a script.
//   - Every proposal and every decision is audited, with the sha256 and the
//     scan's finding counts, never the source.
//   - The versions awaiting review are capped, per script and in total
//     (SetPendingCaps): a new version past a cap is refused with a
//     *ProposalError and stores nothing, so a looping model cannot bury
//     the admins in proposals. The count and the insert are one
//     transaction.
package approval

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// Sentinel errors.
var (
	// ErrNotFound: no such script or version.
	ErrNotFound = errors.New("no such script or version")
	// ErrNotPending: the version is not in a status that allows the
	// decision (rejecting a decided version, approving the approved one).
	ErrNotPending = errors.New("the version is not pending review")
	// ErrNotApproved: the script has no approved version.
	ErrNotApproved = errors.New("the script has no approved version")
	// ErrReasonRequired: a rejection without a reason. The reason is
	// stored with the version and tells the assistant what to fix.
	ErrReasonRequired = errors.New("a rejection needs a reason")
)

// ProposalError is a refused proposal. Its message is meant for the model
// that proposed the script (what to fix, with line numbers); it never
// holds anything but the proposal's own text and the checks' verdicts.
type ProposalError struct {
	Msg string
}

func (e *ProposalError) Error() string { return "script proposal refused: " + e.Msg }

func refuse(format string, args ...any) error {
	return &ProposalError{Msg: fmt.Sprintf(format, args...)}
}

// Version is one version of a script with everything known about it.
type Version struct {
	tools.ScriptInfo
	Source    string          `json:"source"`
	Findings  []tools.Finding `json:"findings"`
	Proposer  string          `json:"proposer"`
	CreatedAt time.Time       `json:"created_at"`
	DecidedAt time.Time       `json:"decided_at,omitzero"` // zero while undecided
	DecidedBy string          `json:"decided_by,omitempty"`
	Reason    string          `json:"reason,omitempty"`
}

// StatusReport is the state of one script: its approved version, if any,
// its latest version and all its versions, newest first.
type StatusReport struct {
	Name     string             `json:"name"`
	Approved *tools.ScriptInfo  `json:"approved"`
	Latest   tools.ScriptInfo   `json:"latest"`
	Versions []tools.ScriptInfo `json:"versions"`
}

// Default caps on the versions awaiting review.
const (
	DefaultMaxPendingPerScript = 5
	DefaultMaxPendingTotal     = 50
)

// Service runs the lifecycle on a store, auditing to a log.
type Service struct {
	st  *store.Store
	log *audit.Log
	now func() time.Time

	maxPerScript, maxTotal atomic.Int64

	mu    sync.Mutex
	hooks []func(tools.ScriptInfo)
	// revokeHooks are called after a revocation (OnRevoked).
	revokeHooks []func(name string)
}

// New returns a Service. now is the clock (nil means time.Now). st and log
// are required.
func New(st *store.Store, log *audit.Log, now func() time.Time) *Service {
	if st == nil || log == nil {
		panic("approval: New needs a store and an audit log")
	}
	if now == nil {
		now = time.Now
	}
	s := &Service{st: st, log: log, now: now}
	s.SetPendingCaps(0, 0)
	return s
}

// SetPendingCaps sets the caps on pending versions of one script and of
// all scripts, from the next proposal on; zero means the default. Versions
// pending already stay, even past a lowered cap.
func (s *Service) SetPendingCaps(perScript, total int) {
	if perScript <= 0 {
		perScript = DefaultMaxPendingPerScript
	}
	if total <= 0 {
		total = DefaultMaxPendingTotal
	}
	s.maxPerScript.Store(int64(perScript))
	s.maxTotal.Store(int64(total))
}

func (s *Service) pendingCaps() store.PendingCaps {
	return store.PendingCaps{PerScript: int(s.maxPerScript.Load()), Total: int(s.maxTotal.Load())}
}

// OnProposed registers fn to be called with every newly stored version
// (not when the same source is proposed again). Hooks run synchronously,
// in registration order, after the version is stored and audited: a hook
// that does I/O (notifying admins) should hand it to its own goroutine.
func (s *Service) OnProposed(fn func(tools.ScriptInfo)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks = append(s.hooks, fn)
}

func (s *Service) proposed(info tools.ScriptInfo) {
	s.mu.Lock()
	hooks := slices.Clone(s.hooks)
	s.mu.Unlock()
	for _, fn := range hooks {
		fn(info)
	}
}
