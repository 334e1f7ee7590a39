package settings

import (
	"bytes"
	"encoding/json"
	"slices"
	"time"
)

// field is one setting, named by its dotted JSON path ("llm.model").
type field interface {
	key() string
	equal(a, b *Settings) bool
	// copyTo sets the field of dst to the value it has in src.
	copyTo(dst, src *Settings)
	// value is the field's value as it appears in JSON (a duration as its
	// string), sharing no memory with s.
	value(s *Settings) any
	encode(s *Settings) (json.RawMessage, error)
	decode(raw json.RawMessage, dst *Settings) error
}

// fields lists every setting, in the order of the JSON document.
var fields = []field{
	scalar[string]{"llm.provider", func(s *Settings) *string { return &s.LLM.Provider }},
	scalar[string]{"llm.base_url", func(s *Settings) *string { return &s.LLM.BaseURL }},
	scalar[string]{"llm.model", func(s *Settings) *string { return &s.LLM.Model }},
	scalar[int]{"llm.max_tokens", func(s *Settings) *int { return &s.LLM.MaxTokens }},
	scalar[int]{"llm.requests_per_day", func(s *Settings) *int { return &s.LLM.RequestsPerDay }},
	scalar[int64]{"llm.tokens_per_day", func(s *Settings) *int64 { return &s.LLM.TokensPerDay }},
	prices{"llm.prices", func(s *Settings) *[]ModelPrice { return &s.LLM.Prices }},
	scalar[float64]{"llm.money_per_day", func(s *Settings) *float64 { return &s.LLM.MoneyPerDay }},
	scalar[bool]{"llm.prompt_cache", func(s *Settings) *bool { return &s.LLM.PromptCache }},
	scalar[int]{"agent.max_rounds", func(s *Settings) *int { return &s.Agent.MaxRounds }},
	duration{"agent.task_timeout", func(s *Settings) *time.Duration { return &s.Agent.TaskTimeout }},
	scalar[int]{"agent.history_tokens", func(s *Settings) *int { return &s.Agent.HistoryTokens }},
	list{"discord.allowed_users", func(s *Settings) *[]string { return &s.Discord.AllowedUsers }},
	list{"discord.allowed_channels", func(s *Settings) *[]string { return &s.Discord.AllowedChannels }},
	list{"discord.admins", func(s *Settings) *[]string { return &s.Discord.Admins }},
	scalar[string]{"discord.review_base_url", func(s *Settings) *string { return &s.Discord.ReviewBaseURL }},
	scalar[int]{"discord.rate_limit_per_minute", func(s *Settings) *int { return &s.Discord.RateLimitPerMinute }},
	scalar[int]{"discord.max_messages_per_reply", func(s *Settings) *int { return &s.Discord.MaxMessagesPerReply }},
	scalar[bool]{"discord.link_previews", func(s *Settings) *bool { return &s.Discord.LinkPreviews }},
	list{"discord.link_preview_hosts", func(s *Settings) *[]string { return &s.Discord.LinkPreviewHosts }},
	scalar[int]{"workspace.max_files", func(s *Settings) *int { return &s.Workspace.MaxFiles }},
	scalar[int]{"scripts.max_pending_per_script", func(s *Settings) *int { return &s.Scripts.MaxPendingPerScript }},
	scalar[int]{"scripts.max_pending_total", func(s *Settings) *int { return &s.Scripts.MaxPendingTotal }},
	duration{"scripts.notify_window", func(s *Settings) *time.Duration { return &s.Scripts.NotifyWindow }},
	scalar[bool]{"memory.require_approval", func(s *Settings) *bool { return &s.Memory.RequireApproval }},
	list{"egress_allow", func(s *Settings) *[]string { return &s.EgressAllow }},
	// Scheduled jobs (issue 14).
	scalar[string]{"jobs.time_zone", func(s *Settings) *string { return &s.Jobs.TimeZone }},
	scalar[int]{"jobs.min_interval_seconds", func(s *Settings) *int { return &s.Jobs.MinIntervalSeconds }},
	scalar[int]{"jobs.max_failures", func(s *Settings) *int { return &s.Jobs.MaxFailures }},
	duration{"backup.interval", func(s *Settings) *time.Duration { return &s.Backup.Interval }},
	scalar[int]{"backup.keep", func(s *Settings) *int { return &s.Backup.Keep }},
}

// Fields returns the dotted names of every setting, in document order: the
// keys Locked, ValidationError and the audit details use.
func Fields() []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = f.key()
	}
	return out
}

// fieldByKey returns the field named key, or nil.
func fieldByKey(key string) field {
	for _, f := range fields {
		if f.key() == key {
			return f
		}
	}
	return nil
}

// changed returns the fields whose values differ between a and b.
func changed(a, b *Settings) []field {
	var out []field
	for _, f := range fields {
		if !f.equal(a, b) {
			out = append(out, f)
		}
	}
	return out
}

// scalar is a string, number or boolean field.
type scalar[T string | int | int64 | float64 | bool] struct {
	name string
	ptr  func(*Settings) *T
}

func (f scalar[T]) key() string               { return f.name }
func (f scalar[T]) equal(a, b *Settings) bool { return *f.ptr(a) == *f.ptr(b) }
func (f scalar[T]) copyTo(dst, src *Settings) { *f.ptr(dst) = *f.ptr(src) }
func (f scalar[T]) value(s *Settings) any     { return *f.ptr(s) }
func (f scalar[T]) encode(s *Settings) (json.RawMessage, error) {
	return json.Marshal(*f.ptr(s))
}
func (f scalar[T]) decode(raw json.RawMessage, dst *Settings) error {
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	*f.ptr(dst) = v
	return nil
}

// duration is a time.Duration field, a duration string in JSON.
type duration struct {
	name string
	ptr  func(*Settings) *time.Duration
}

func (f duration) key() string               { return f.name }
func (f duration) equal(a, b *Settings) bool { return *f.ptr(a) == *f.ptr(b) }
func (f duration) copyTo(dst, src *Settings) { *f.ptr(dst) = *f.ptr(src) }
func (f duration) value(s *Settings) any     { return f.ptr(s).String() }
func (f duration) encode(s *Settings) (json.RawMessage, error) {
	return encodeDuration(*f.ptr(s))
}
func (f duration) decode(raw json.RawMessage, dst *Settings) error {
	d, err := decodeDuration(raw)
	if err != nil {
		return err
	}
	*f.ptr(dst) = d
	return nil
}

// list is a []string field. nil and empty are equal.
type list struct {
	name string
	ptr  func(*Settings) *[]string
}

func (f list) key() string               { return f.name }
func (f list) equal(a, b *Settings) bool { return slices.Equal(*f.ptr(a), *f.ptr(b)) }
func (f list) copyTo(dst, src *Settings) { *f.ptr(dst) = slices.Clone(*f.ptr(src)) }
func (f list) value(s *Settings) any     { return nonNil(slices.Clone(*f.ptr(s))) }
func (f list) encode(s *Settings) (json.RawMessage, error) {
	return json.Marshal(nonNil(*f.ptr(s)))
}
func (f list) decode(raw json.RawMessage, dst *Settings) error {
	var v []string
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	*f.ptr(dst) = v
	return nil
}

// nonNil returns l, or an empty list for nil, so JSON shows [] not null.
func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// prices is the price table. nil and empty are equal.
type prices struct {
	name string
	ptr  func(*Settings) *[]ModelPrice
}

func (f prices) key() string { return f.name }
func (f prices) equal(a, b *Settings) bool {
	return slices.EqualFunc(*f.ptr(a), *f.ptr(b), func(x, y ModelPrice) bool {
		eq := func(p, q *float64) bool { return (p == nil) == (q == nil) && (p == nil || *p == *q) }
		return x.Model == y.Model && eq(x.Input, y.Input) && eq(x.Output, y.Output) &&
			eq(x.CacheRead, y.CacheRead) && eq(x.CacheWrite, y.CacheWrite)
	})
}
func (f prices) copyTo(dst, src *Settings) { *f.ptr(dst) = clonePrices(*f.ptr(src)) }
func (f prices) value(s *Settings) any     { return clonePrices(*f.ptr(s)) }
func (f prices) encode(s *Settings) (json.RawMessage, error) {
	return json.Marshal(clonePrices(*f.ptr(s)))
}
func (f prices) decode(raw json.RawMessage, dst *Settings) error {
	var v []ModelPrice
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	*f.ptr(dst) = v
	return nil
}
