package jobs

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/airlockhq/airlock/orchestrator/store"
)

// Limits of a job definition.
const (
	MaxPromptBytes   = 32 << 10 // a chat message's cap (orchestrator.MaxMessageBytes)
	MaxTargets       = 5
	MaxTokensPerRun  = 1_000_000
	MaxCallsPerRun   = 50
	MaxGrace         = 24 * time.Hour
	DefaultMaxTokens = 20_000
	DefaultMaxCalls  = 4
	DefaultGrace     = 10 * time.Minute
)

// Target kinds.
const (
	TargetWeb            = "web"             // the job's own conversation, listed in Chat
	TargetDiscordChannel = "discord_channel" // an allowed Discord channel
	TargetDiscordDM      = "discord_dm"      // an admin's Discord DM
)

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)

// Spec is a job definition as an admin or the assistant writes it.
type Spec struct {
	Name         string            `json:"name"`
	Kind         string            `json:"kind"` // "prompt" or "script"
	Schedule     string            `json:"schedule"`
	Prompt       string            `json:"prompt,omitempty"`
	Script       string            `json:"script,omitempty"`
	Phrase       bool              `json:"phrase,omitempty"`
	Targets      []store.JobTarget `json:"targets"`
	MaxTokens    int               `json:"max_tokens"`    // per run; 0: DefaultMaxTokens
	MaxCalls     int               `json:"max_calls"`     // per run; 0: DefaultMaxCalls
	DailyTokens  int               `json:"daily_tokens"`  // 0: no daily budget of its own
	GraceSeconds *int              `json:"grace_seconds"` // nil: DefaultGrace
}

// FieldError is a refused definition: the field and the reason, safe to
// show the admin or the model.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Env is what a definition is checked against, read fresh each time.
type Env struct {
	Location    *time.Location
	Floor       time.Duration
	MaxFailures int
	Channels    []string // Discord channels jobs may post to (discord.allowed_channels)
	Admins      []string // Discord admins whose DMs jobs may use (discord.admins)
	// LinkBase is the admin UI's address for links in notices
	// (discord.review_base_url); empty: a path only.
	LinkBase string
}

// ScriptChecker says whether a script has an approved version.
type ScriptChecker interface {
	IsApprovedName(ctx context.Context, name string) (bool, error)
}

// check validates s and returns the parsed schedule and s with defaults
// filled in. Every error is a *FieldError (a schedule error names the
// field "schedule" and, in its reason, the cron field).
func check(ctx context.Context, s Spec, env Env, scripts ScriptChecker) (Spec, Schedule, error) {
	if !nameRE.MatchString(s.Name) {
		return s, Schedule{}, fieldErr("name", "must be 1 to 64 characters: a lowercase letter, then lowercase letters, digits, _ or -")
	}
	sched, err := Parse(s.Schedule, env.Location, env.Floor)
	if err != nil {
		return s, Schedule{}, &FieldError{Field: "schedule", Reason: strings.TrimPrefix(err.Error(), "schedule: ")}
	}
	s.Schedule = sched.String()
	switch s.Kind {
	case store.JobPrompt:
		if err := checkPrompt(s.Prompt); err != nil {
			return s, Schedule{}, err
		}
		if s.Script != "" || s.Phrase {
			return s, Schedule{}, fieldErr("script", "a prompt job has no script")
		}
	case store.JobScript:
		if s.Prompt != "" {
			return s, Schedule{}, fieldErr("prompt", "a script job has no prompt (its result is delivered as is, or phrased by the model with phrase: true)")
		}
		ok, err := scripts.IsApprovedName(ctx, s.Script)
		if err != nil {
			return s, Schedule{}, err
		}
		if !ok {
			return s, Schedule{}, fieldErr("script", "%q is not an approved script; a script job runs only an approved script", clip(s.Script))
		}
	default:
		return s, Schedule{}, fieldErr("kind", "must be %q or %q", store.JobPrompt, store.JobScript)
	}
	if err := checkTargets(s.Targets, env); err != nil {
		return s, Schedule{}, err
	}
	return checkCaps(s, sched)
}

func checkPrompt(p string) error {
	switch {
	case strings.TrimSpace(p) == "":
		return fieldErr("prompt", "is empty; a prompt job needs the message to run")
	case len(p) > MaxPromptBytes:
		return fieldErr("prompt", "is larger than %d bytes, the size of a chat message", MaxPromptBytes)
	case !utf8.ValidString(p):
		return fieldErr("prompt", "is not valid UTF-8")
	}
	return nil
}

func checkTargets(ts []store.JobTarget, env Env) error {
	if len(ts) == 0 {
		return fieldErr("targets", "name at least one target: web, discord_channel or discord_dm")
	}
	if len(ts) > MaxTargets {
		return fieldErr("targets", "at most %d targets", MaxTargets)
	}
	for i, t := range ts {
		field := fmt.Sprintf("targets[%d]", i)
		switch t.Kind {
		case TargetWeb:
			if t.ID != "" {
				return fieldErr(field, "a web target is the job's own conversation; it takes no id")
			}
		case TargetDiscordChannel:
			if !slices.Contains(env.Channels, t.ID) {
				return fieldErr(field, "Discord channel %q is not in discord.allowed_channels", clip(t.ID))
			}
		case TargetDiscordDM:
			if !slices.Contains(env.Admins, t.ID) {
				return fieldErr(field, "Discord user %q is not in discord.admins; jobs DM admins only", clip(t.ID))
			}
		default:
			return fieldErr(field, "unknown target kind %q: use web, discord_channel or discord_dm", clip(t.Kind))
		}
	}
	return nil
}

func checkCaps(s Spec, sched Schedule) (Spec, Schedule, error) {
	if s.MaxTokens == 0 {
		s.MaxTokens = DefaultMaxTokens
	}
	if s.MaxCalls == 0 {
		s.MaxCalls = DefaultMaxCalls
	}
	if s.MaxTokens < 1 || s.MaxTokens > MaxTokensPerRun {
		return s, Schedule{}, fieldErr("max_tokens", "must be between 1 and %d tokens per run", MaxTokensPerRun)
	}
	if s.MaxCalls < 1 || s.MaxCalls > MaxCallsPerRun {
		return s, Schedule{}, fieldErr("max_calls", "must be between 1 and %d model calls per run", MaxCallsPerRun)
	}
	if s.DailyTokens < 0 || s.DailyTokens > 100*MaxTokensPerRun {
		return s, Schedule{}, fieldErr("daily_tokens", "must be between 0 (no budget of its own) and %d", 100*MaxTokensPerRun)
	}
	if s.GraceSeconds == nil {
		g := int(DefaultGrace / time.Second)
		s.GraceSeconds = &g
	}
	if g := *s.GraceSeconds; g < 0 || time.Duration(g)*time.Second > MaxGrace {
		return s, Schedule{}, fieldErr("grace_seconds", "must be between 0 and %d", int(MaxGrace/time.Second))
	}
	return s, sched, nil
}

// clip shortens text quoted back in an error.
func clip(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

// WorstTokensPerDay is the most tokens a job can spend in a day: its runs
// per day times its cap per run, bounded by its daily budget. A script
// job that is not phrased spends none.
func WorstTokensPerDay(j store.Job, sched Schedule, now time.Time) int {
	if j.Kind == store.JobScript && !j.Phrase {
		return 0
	}
	n := sched.RunsPerDay(now, 100_000) * j.MaxTokens
	if j.DailyTokens > 0 {
		n = min(n, j.DailyTokens)
	}
	return n
}
