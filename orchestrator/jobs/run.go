package jobs

import (
	"context"
	"errors"

	"github.com/airlockhq/airlock/orchestrator/approval"
)

// ErrScriptNotApproved is returned by a Runner when a script job's script
// has no approved version (never approved, or revoked): the job pauses.
var ErrScriptNotApproved = errors.New("the job's script has no approved version")

// RunRequest is one run of a job, handed to the Runner.
type RunRequest struct {
	JobID          string
	Name           string
	Kind           string // store.JobPrompt or store.JobScript
	ConversationID string // the job's own conversation
	Prompt         string
	Script         string
	Phrase         bool // a script's non-empty result is phrased by the model
	MaxTokens      int  // per run; 0: none
	MaxCalls       int  // model calls per run
}

// RunResult is how a run ended.
type RunResult struct {
	// Text is what to deliver, already redacted; for a failed or capped
	// run, the notice the user reads.
	Text string
	// Empty is set when a script returned nothing (None, "", [], {}):
	// nothing is delivered and no model was called.
	Empty  bool
	Failed bool
	Capped bool
	// Reason says why a run failed, for the run history and the log;
	// never shown in chat.
	Reason string
	// InConversation is set when Text is already stored in the job's
	// conversation (a prompt run's answer), so the web target needs
	// nothing more.
	InConversation bool
	Tokens, Calls  int
	// TaskID is the task the run's model calls were made for ("": no
	// model call); the run's cost is summed from its usage rows.
	TaskID string
}

// Runner runs jobs: Core (package orchestrator) implements it, with the
// task queue for prompts and the worker's sandbox for scripts.
type Runner interface {
	RunJob(ctx context.Context, r RunRequest) (RunResult, error)
	// PostToConversation stores text as an assistant message in the
	// job's conversation (the web target of a script job).
	PostToConversation(ctx context.Context, conversationID, author, text string) error
}

// Deliverer sends a job's result to Discord; the discord Runner
// implements it. Nil: Discord targets fail (and are retried, then logged).
type Deliverer interface {
	SendChannel(ctx context.Context, channelID, text string) error
	SendDM(ctx context.Context, userID, text string) error
}

// ApprovedScripts is the ScriptChecker of the script approvals: a script
// is runnable when it has an approved version.
func ApprovedScripts(a *approval.Service) ScriptChecker { return approvedScripts{a} }

type approvedScripts struct{ a *approval.Service }

func (c approvedScripts) IsApprovedName(ctx context.Context, name string) (bool, error) {
	if !approval.ValidName(name) {
		return false, nil
	}
	_, err := c.a.Approved(ctx, name)
	if errors.Is(err, approval.ErrNotApproved) || errors.Is(err, approval.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
