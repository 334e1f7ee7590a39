package tools

import "encoding/json"

// Scheduled jobs (issue 14): the model may propose a job and list them;
// it can never enable, edit or approve one.
const (
	JobPropose = "job_propose"
	JobList    = "job_list"
)

// JobTarget is where a job's result goes.
type JobTarget struct {
	Kind string `json:"kind"`
	ID   string `json:"id,omitempty"`
}

// JobProposeArgs are the arguments of job_propose.
type JobProposeArgs struct {
	Name        string      `json:"name"`
	Kind        string      `json:"kind"`
	Schedule    string      `json:"schedule"`
	Prompt      string      `json:"prompt,omitempty"`
	Script      string      `json:"script,omitempty"`
	Phrase      bool        `json:"phrase,omitempty"`
	Targets     []JobTarget `json:"targets"`
	MaxTokens   int         `json:"max_tokens,omitempty"`
	MaxCalls    int         `json:"max_calls,omitempty"`
	DailyTokens int         `json:"daily_tokens,omitempty"`
}

// jobDefs are the job tools' definitions, appended to Model.
func jobDefs() []ToolDef {
	return []ToolDef{
		{Name: JobPropose, Description: "Propose a scheduled job for the admin to review. It cannot run until an admin approves it on the Jobs page; you cannot enable, edit or approve it. kind 'prompt' runs a message as a task with fresh context on each run; kind 'script' runs an approved script with no model call (its result is delivered as is, or phrased by the model with phrase: true; an empty or None result sends nothing). schedule: five-field cron (minute hour day-of-month month day-of-week) in the admin's time zone, or @hourly, @daily, @every 30m. targets: web (the job's own conversation), discord_channel (id: an allowed channel), discord_dm (id: an admin). Keep the caps small.",
			InputSchema: json.RawMessage(`{"type":"object","properties":{"name":{"type":"string","description":"lowercase letters, digits, _ and -"},"kind":{"type":"string","enum":["prompt","script"]},"schedule":{"type":"string"},"prompt":{"type":"string"},"script":{"type":"string","description":"name of an approved script"},"phrase":{"type":"boolean"},"targets":{"type":"array","items":{"type":"object","properties":{"kind":{"type":"string","enum":["web","discord_channel","discord_dm"]},"id":{"type":"string"}},"required":["kind"],"additionalProperties":false}},"max_tokens":{"type":"integer","description":"tokens per run (default 20000)"},"max_calls":{"type":"integer","description":"model calls per run (default 4)"},"daily_tokens":{"type":"integer","description":"daily token budget (0: none of its own)"}},"required":["name","kind","schedule","targets"],"additionalProperties":false}`)},
		{Name: JobList, Description: "List the scheduled jobs: name, kind, schedule, state (proposed, active, paused, rejected), next run and the latest run's status.",
			InputSchema: json.RawMessage(`{"type":"object","properties":{},"additionalProperties":false}`)},
	}
}
