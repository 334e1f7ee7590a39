package settings

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator/config"
)

func TestFromConfigDefaults(t *testing.T) {
	got := FromConfig(config.Defaults(false))
	want := Settings{
		LLM: LLM{Provider: "openai", MaxTokens: 4096, RequestsPerDay: 2000, TokensPerDay: 5_000_000,
			Prices: []ModelPrice{}, PromptCache: true},
		Agent: Agent{MaxRounds: 8, TaskTimeout: 3 * time.Minute, HistoryTokens: 8000},
		Discord: Discord{AllowedUsers: []string{}, AllowedChannels: []string{}, Admins: []string{}, RateLimitPerMinute: 10,
			MaxMessagesPerReply: 5, LinkPreviewHosts: []string{}},
		Workspace:   Workspace{MaxFiles: 2000},
		Scripts:     Scripts{MaxPendingPerScript: 5, MaxPendingTotal: 50, NotifyWindow: 10 * time.Minute},
		EgressAllow: []string{},
		Jobs:        Jobs{MinIntervalSeconds: 60, MaxFailures: 5},
		Backup:      Backup{Interval: 24 * time.Hour, Keep: 7},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FromConfig(Defaults) =\n%+v\nwant\n%+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}

func TestFromConfigLoadedWithEnv(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{
		"AIRLOCK_DATA_DIR":           dir,
		"AIRLOCK_LLM_PROVIDER":       "anthropic",
		"AIRLOCK_LLM_BASE_URL":       "https://llm.example/v1",
		"AIRLOCK_LLM_MODEL":          "claude-x",
		"AIRLOCK_AGENT_TASK_TIMEOUT": "90s",
		"AIRLOCK_EGRESS_ALLOW":       "10.0.0.0/8, Intranet.example",
	}
	getenv := func(k string) string { return env[k] }
	c, err := config.Load(filepath.Join(dir, "none.yaml"), false, getenv, false)
	if err != nil {
		t.Fatal(err)
	}
	s := FromConfig(c)
	if s.LLM.Provider != "anthropic" || s.LLM.BaseURL != "https://llm.example/v1" || s.LLM.Model != "claude-x" ||
		s.Agent.TaskTimeout != 90*time.Second || !slices.Equal(s.EgressAllow, []string{"10.0.0.0/8", "Intranet.example"}) {
		t.Errorf("FromConfig = %+v", s)
	}
	want := map[string]string{
		"llm.provider": "AIRLOCK_LLM_PROVIDER", "llm.base_url": "AIRLOCK_LLM_BASE_URL", "llm.model": "AIRLOCK_LLM_MODEL",
		"agent.task_timeout": "AIRLOCK_AGENT_TASK_TIMEOUT", "egress_allow": "AIRLOCK_EGRESS_ALLOW",
	}
	if got := LockedByEnv(getenv); !reflect.DeepEqual(got, want) {
		t.Errorf("LockedByEnv = %v, want %v", got, want)
	}
}

// TestEveryEnvSettableSettingLocks: the settings an environment variable
// of package config can set are exactly these, each locked by its
// variable, so a variable renamed or added there changes LockedByEnv too.
func TestEveryEnvSettableSettingLocks(t *testing.T) {
	got := LockedByEnv(func(string) string { return "set" })
	want := map[string]string{
		"llm.provider": "AIRLOCK_LLM_PROVIDER", "llm.base_url": "AIRLOCK_LLM_BASE_URL", "llm.model": "AIRLOCK_LLM_MODEL",
		"llm.requests_per_day": "AIRLOCK_LLM_REQUESTS_PER_DAY", "llm.tokens_per_day": "AIRLOCK_LLM_TOKENS_PER_DAY",
		"agent.max_rounds": "AIRLOCK_AGENT_MAX_ROUNDS", "agent.task_timeout": "AIRLOCK_AGENT_TASK_TIMEOUT",
		"egress_allow": "AIRLOCK_EGRESS_ALLOW",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LockedByEnv(all set) = %v, want %v", got, want)
	}
}

func TestJSON(t *testing.T) {
	b, err := json.Marshal(defaults())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"task_timeout":"3m0s"`, `"egress_allow":[]`, `"admins":[]`, `"rate_limit_per_minute":10`, `"max_tokens":4096`,
		`"workspace":{"max_files":2000}`, `"scripts":{"max_pending_per_script":5,"max_pending_total":50,"notify_window":"10m0s"}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
	var back Settings
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, defaults()) {
		t.Errorf("round trip = %+v", back)
	}

	// A partial document decoded over current settings keeps the rest.
	s := defaults()
	if err := json.Unmarshal([]byte(`{"agent":{"task_timeout":"5m"},"llm":{"model":"m"}}`), &s); err != nil {
		t.Fatal(err)
	}
	if s.Agent.TaskTimeout != 5*time.Minute || s.Agent.MaxRounds != 8 || s.LLM.Model != "m" || s.LLM.MaxTokens != 4096 {
		t.Errorf("partial decode = %+v", s)
	}
	s = defaults()
	if err := json.Unmarshal([]byte(`{"agent":{"max_rounds":3}}`), &s); err != nil || s.Agent.TaskTimeout != 3*time.Minute || s.Agent.MaxRounds != 3 {
		t.Errorf("decode without task_timeout = %+v, %v", s.Agent, err)
	}

	s = defaults()
	if err := json.Unmarshal([]byte(`{"scripts":{"notify_window":"30m"}}`), &s); err != nil || s.Scripts.NotifyWindow != 30*time.Minute ||
		s.Scripts.MaxPendingPerScript != 5 || s.Scripts.MaxPendingTotal != 50 {
		t.Errorf("partial scripts decode = %+v, %v", s.Scripts, err)
	}
	if err := json.Unmarshal([]byte(`{"scripts":{"max_pending":3}}`), &s); err == nil || !strings.Contains(err.Error(), "max_pending") {
		t.Errorf("unknown scripts field: err = %v", err)
	}
	if err := json.Unmarshal([]byte(`{"scripts":{"notify_window":600}}`), &s); err == nil || !strings.Contains(err.Error(), "scripts.notify_window") {
		t.Errorf("numeric notify_window: err = %v", err)
	}
	if err := json.Unmarshal([]byte(`{"agent":{"max_round":3}}`), &s); err == nil || !strings.Contains(err.Error(), "max_round") {
		t.Errorf("unknown agent field: err = %v", err)
	}
	for _, bad := range []string{`180`, `"3 minutes"`, `null`, `true`} {
		err := json.Unmarshal([]byte(`{"agent":{"task_timeout":`+bad+`}}`), &s)
		if err == nil || !strings.Contains(err.Error(), "agent.task_timeout") {
			t.Errorf("task_timeout %s: err = %v, want one naming agent.task_timeout", bad, err)
		}
	}
}

func TestGetSharesNoMemory(t *testing.T) {
	s, _ := newService(t, openStore(t, tempDB(t)), defaults(), nil)
	next := defaults()
	next.EgressAllow = []string{"a.example"}
	if _, err := s.Update(t.Context(), "admin:a", next); err != nil {
		t.Fatal(err)
	}
	next.EgressAllow[0] = "changed.example"
	got := s.Get()
	got.EgressAllow[0] = "changed.example"
	if s.Get().EgressAllow[0] != "a.example" {
		t.Error("modifying a value given to or returned by the service changed its settings")
	}
}
