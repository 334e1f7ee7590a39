package settings

import (
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// snowflakes returns n distinct valid Discord ids.
func snowflakes(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strconv.Itoa(10_000_000_000_000_000 + i)
	}
	return out
}

func TestValidateAcceptsGood(t *testing.T) {
	s := defaults()
	s.LLM = LLM{Provider: "anthropic", BaseURL: "http://10.0.0.5:8000/v1/", Model: "meta-llama/Llama-3.1-70B:free",
		MaxTokens: MaxMaxTokens, RequestsPerDay: 0, TokensPerDay: 0}
	s.Agent = Agent{MaxRounds: MaxMaxRounds, TaskTimeout: MinTaskTimeout, HistoryTokens: MinHistoryTokens}
	s.Discord = Discord{AllowedUsers: snowflakes(MaxListEntries), AllowedChannels: []string{"12345678901234567"},
		Admins: []string{"12345678901234567890"}, ReviewBaseURL: "https://airlock.example/admin", RateLimitPerMinute: MaxRateLimit,
		MaxMessagesPerReply: MaxMessagesPerReply, LinkPreviews: true, LinkPreviewHosts: []string{"www.youtube.com", "xn--bcher-kva.example"}}
	s.EgressAllow = []string{"intranet.example", "10.0.0.0/8", "fd00::1", "192.168.1.10"}
	s.Workspace.MaxFiles = MaxWorkspaceFiles
	s.Scripts = Scripts{MaxPendingPerScript: MaxPendingPerScript, MaxPendingTotal: MaxPendingTotal, NotifyWindow: MaxNotifyWindow}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	s.LLM.Model = ""
	s.Agent.TaskTimeout = MaxTaskTimeout
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateNamesEachBadField(t *testing.T) {
	cases := []struct {
		field string
		set   func(*Settings)
	}{
		{"llm.provider", func(s *Settings) { s.LLM.Provider = "gemini" }},
		{"llm.provider", func(s *Settings) { s.LLM.Provider = "" }},
		{"llm.base_url", func(s *Settings) { s.LLM.BaseURL = "ftp://x.example" }},
		{"llm.base_url", func(s *Settings) { s.LLM.BaseURL = "/v1" }},
		{"llm.base_url", func(s *Settings) { s.LLM.BaseURL = "https://user:pw@x.example" }},
		{"llm.base_url", func(s *Settings) { s.LLM.BaseURL = "https://x.example/?key=1" }},
		{"llm.base_url", func(s *Settings) { s.LLM.BaseURL = "https://x.example/#frag" }},
		{"llm.base_url", func(s *Settings) { s.LLM.BaseURL = "https:x.example" }},
		{"llm.base_url", func(s *Settings) { s.LLM.BaseURL = "https://x.example/a b" }},
		{"llm.model", func(s *Settings) { s.LLM.Model = "gpt 4" }},
		{"llm.model", func(s *Settings) { s.LLM.Model = strings.Repeat("m", 201) }},
		{"llm.model", func(s *Settings) { s.LLM.Model = "modèle" }},
		{"llm.model", func(s *Settings) { s.LLM.Model = "a\x00b" }},
		{"llm.max_tokens", func(s *Settings) { s.LLM.MaxTokens = 0 }},
		{"llm.max_tokens", func(s *Settings) { s.LLM.MaxTokens = MaxMaxTokens + 1 }},
		{"llm.requests_per_day", func(s *Settings) { s.LLM.RequestsPerDay = -1 }},
		{"llm.tokens_per_day", func(s *Settings) { s.LLM.TokensPerDay = -1 }},
		{"agent.max_rounds", func(s *Settings) { s.Agent.MaxRounds = 0 }},
		{"agent.max_rounds", func(s *Settings) { s.Agent.MaxRounds = 51 }},
		{"agent.history_tokens", func(s *Settings) { s.Agent.HistoryTokens = MinHistoryTokens - 1 }},
		{"agent.history_tokens", func(s *Settings) { s.Agent.HistoryTokens = MaxHistoryTokens + 1 }},
		{"agent.task_timeout", func(s *Settings) { s.Agent.TaskTimeout = 9 * time.Second }},
		{"agent.task_timeout", func(s *Settings) { s.Agent.TaskTimeout = 31 * time.Minute }},
		{"discord.allowed_users", func(s *Settings) { s.Discord.AllowedUsers = []string{"alice"} }},
		{"discord.allowed_users", func(s *Settings) { s.Discord.AllowedUsers = []string{"1234567890123456"} }},      // 16 digits
		{"discord.allowed_users", func(s *Settings) { s.Discord.AllowedUsers = []string{"123456789012345678901"} }}, // 21
		{"discord.allowed_users", func(s *Settings) { s.Discord.AllowedUsers = snowflakes(MaxListEntries + 1) }},
		{"discord.allowed_users", func(s *Settings) {
			s.Discord.AllowedUsers = []string{"12345678901234567", "12345678901234567"}
		}},
		{"discord.allowed_channels", func(s *Settings) { s.Discord.AllowedChannels = []string{"-12345678901234567"} }},
		{"discord.admins", func(s *Settings) { s.Discord.Admins = []string{""} }},
		{"discord.review_base_url", func(s *Settings) { s.Discord.ReviewBaseURL = "airlock.example" }},
		{"discord.rate_limit_per_minute", func(s *Settings) { s.Discord.RateLimitPerMinute = 0 }},
		{"discord.rate_limit_per_minute", func(s *Settings) { s.Discord.RateLimitPerMinute = 601 }},
		{"discord.max_messages_per_reply", func(s *Settings) { s.Discord.MaxMessagesPerReply = 0 }},
		{"discord.max_messages_per_reply", func(s *Settings) { s.Discord.MaxMessagesPerReply = MaxMessagesPerReply + 1 }},
		{"discord.link_previews", func(s *Settings) { s.Discord.LinkPreviews, s.Discord.LinkPreviewHosts = true, []string{} }},
		{"discord.link_preview_hosts", func(s *Settings) { s.Discord.LinkPreviewHosts = []string{"*.youtube.com"} }},
		{"discord.link_preview_hosts", func(s *Settings) { s.Discord.LinkPreviewHosts = []string{"https://youtube.com"} }},
		{"discord.link_preview_hosts", func(s *Settings) { s.Discord.LinkPreviewHosts = []string{"youtube.com:443"} }},
		{"discord.link_preview_hosts", func(s *Settings) { s.Discord.LinkPreviewHosts = []string{"localhost"} }},
		{"discord.link_preview_hosts", func(s *Settings) { s.Discord.LinkPreviewHosts = []string{"10.0.0.1"} }},
		{"discord.link_preview_hosts", func(s *Settings) { s.Discord.LinkPreviewHosts = []string{"a.example", "A.example"} }},
		{"workspace.max_files", func(s *Settings) { s.Workspace.MaxFiles = 0 }},
		{"workspace.max_files", func(s *Settings) { s.Workspace.MaxFiles = MaxWorkspaceFiles + 1 }},
		{"scripts.max_pending_per_script", func(s *Settings) { s.Scripts.MaxPendingPerScript = 0 }},
		{"scripts.max_pending_per_script", func(s *Settings) { s.Scripts.MaxPendingPerScript = MaxPendingPerScript + 1 }},
		{"scripts.max_pending_per_script", func(s *Settings) { s.Scripts.MaxPendingPerScript, s.Scripts.MaxPendingTotal = 20, 10 }},
		{"scripts.max_pending_total", func(s *Settings) { s.Scripts.MaxPendingTotal = 0; s.Scripts.MaxPendingPerScript = 1 }},
		{"scripts.max_pending_total", func(s *Settings) { s.Scripts.MaxPendingTotal = MaxPendingTotal + 1 }},
		{"scripts.notify_window", func(s *Settings) { s.Scripts.NotifyWindow = 59 * time.Second }},
		{"scripts.notify_window", func(s *Settings) { s.Scripts.NotifyWindow = 25 * time.Hour }},
		{"egress_allow", func(s *Settings) { s.EgressAllow = []string{"*.example.com"} }},
		{"egress_allow", func(s *Settings) { s.EgressAllow = []string{"10.0.0.0/33"} }},
		{"egress_allow", func(s *Settings) { s.EgressAllow = []string{"fe80::1%eth0"} }},
		{"egress_allow", func(s *Settings) { s.EgressAllow = []string{"A.example", "a.example"} }},
		{"egress_allow", func(s *Settings) { s.EgressAllow = make([]string, MaxListEntries+1) }},
		{"backup.interval", func(s *Settings) { s.Backup.Interval = 59 * time.Minute }},
		{"backup.interval", func(s *Settings) { s.Backup.Interval = -time.Hour }},
		{"backup.interval", func(s *Settings) { s.Backup.Interval = MaxBackupInterval + time.Hour }},
		{"backup.keep", func(s *Settings) { s.Backup.Keep = 0 }},
		{"backup.keep", func(s *Settings) { s.Backup.Keep = MaxBackupKeep + 1 }},
	}
	for _, c := range cases {
		s := defaults()
		c.set(&s)
		err := s.Validate()
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: Validate = %v, want a *ValidationError", c.field, err)
			continue
		}
		if got := ve.Fields(); !slices.Equal(got, []string{c.field}) {
			t.Errorf("%s: problems name %v (%v)", c.field, got, err)
		}
		if !strings.Contains(err.Error(), c.field+": ") {
			t.Errorf("%s: message %q does not name the field", c.field, err)
		}
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	s := defaults()
	s.LLM.Provider = "x"
	s.Agent.MaxRounds = 0
	s.EgressAllow = []string{"bad host", "also/bad"}
	var ve *ValidationError
	if !errors.As(s.Validate(), &ve) {
		t.Fatal("not a *ValidationError")
	}
	want := []string{"llm.provider", "agent.max_rounds", "egress_allow", "egress_allow"}
	var got []string
	for _, p := range ve.Problems {
		got = append(got, p.Field)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems on %v, want %v", got, want)
	}
}

func TestNormalize(t *testing.T) {
	s := defaults()
	s.LLM.Model = "  m  "
	s.Discord.Admins = []string{" 12345678901234567", "", "12345678901234567 ", "99999999999999999"}
	s.EgressAllow = []string{"A.example", "a.example", " ", "10.0.0.1"}
	s.Discord.AllowedUsers = nil
	n := s.Normalize()
	if n.LLM.Model != "m" || !slices.Equal(n.Discord.Admins, []string{"12345678901234567", "99999999999999999"}) ||
		!slices.Equal(n.EgressAllow, []string{"A.example", "10.0.0.1"}) || n.Discord.AllowedUsers == nil {
		t.Errorf("Normalize = %+v", n)
	}
	if len(s.Discord.Admins) != 4 {
		t.Error("Normalize modified its receiver's lists")
	}
	if err := n.Validate(); err != nil {
		t.Error(err)
	}
}
