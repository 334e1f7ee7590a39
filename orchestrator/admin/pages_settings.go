package admin

import (
	"context"
	"errors"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/airlockhq/airlock/orchestrator/secrets"
	"github.com/airlockhq/airlock/orchestrator/settings"
)

// settingsData is what the settings page and the wizard show.
type settingsData struct {
	S        settings.Settings
	Locked   map[string]string // dotted field → env var
	Problems map[string]string // dotted field → message
	KeySet   string            // where the LLM key comes from; "" when unset
	TokenSet string            // where the Discord token comes from
	// KeyEnv and TokenEnv: set in the environment, which wins over the
	// vault, so the page cannot change them.
	KeyEnv, TokenEnv bool
	CanTest          bool
	Tested           string // the result of a connection test
}

// lines renders a list one entry per line, for a textarea.
func lines(l []string) string { return strings.Join(l, "\n") }

func (s *Server) settingsData(r *http.Request, cur settings.Settings) (settingsData, error) {
	d := settingsData{S: cur, Locked: s.Settings.Locked(), Problems: map[string]string{}, CanTest: s.TestLLM != nil}
	for _, k := range []struct {
		name string
		dst  *string
	}{{secrets.LLMAPIKey, &d.KeySet}, {secrets.DiscordToken, &d.TokenSet}} {
		_, origin, err := s.Vault.Lookup(r.Context(), k.name)
		switch {
		case err == nil:
			*k.dst = origin
		case !errors.Is(err, secrets.ErrNotFound):
			return d, err
		}
	}
	d.KeyEnv = d.KeySet != "" && d.KeySet != secrets.OriginVault
	d.TokenEnv = d.TokenSet != "" && d.TokenSet != secrets.OriginVault
	return d, nil
}

func (s *Server) pageSettings(w http.ResponseWriter, r *http.Request) error {
	d, err := s.settingsData(r, s.Settings.Get())
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "settings", view{Title: "Settings", Nav: "settings", Data: d})
	return nil
}

// settingsForm reads the fields a form holds over cur; fields absent from
// the form keep their value. Unparsable numbers are reported per field.
func settingsForm(r *http.Request, cur settings.Settings) (settings.Settings, map[string]string) {
	problems := map[string]string{}
	str := func(key string, dst *string) {
		if v, ok := r.PostForm[key]; ok {
			*dst = strings.TrimSpace(v[0])
		}
	}
	list := func(key string, dst *[]string) {
		if v, ok := r.PostForm[key]; ok {
			*dst = strings.FieldsFunc(v[0], func(c rune) bool { return c == '\n' || c == '\r' || c == ',' || c == ' ' || c == '\t' })
		}
	}
	num := func(key string, dst any) {
		v, ok := r.PostForm[key]
		if !ok {
			return
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v[0]), 10, 64)
		if err != nil {
			problems[key] = "must be a whole number"
			return
		}
		switch p := dst.(type) {
		case *int:
			*p = int(n)
		case *int64:
			*p = n
		}
	}
	str("llm.provider", &cur.LLM.Provider)
	str("llm.base_url", &cur.LLM.BaseURL)
	str("llm.model", &cur.LLM.Model)
	num("llm.max_tokens", &cur.LLM.MaxTokens)
	num("llm.requests_per_day", &cur.LLM.RequestsPerDay)
	num("llm.tokens_per_day", &cur.LLM.TokensPerDay)
	// Prices and the money budget (issue 16).
	if v, ok := r.PostForm["llm.prices"]; ok {
		if ps, err := settings.ParsePrices(v[0]); err != nil {
			problems["llm.prices"] = err.Error()
		} else {
			cur.LLM.Prices = ps
		}
	}
	if v, ok := r.PostForm["llm.prompt_cache"]; ok { // a hidden "off" precedes the checkbox
		cur.LLM.PromptCache = slices.Contains(v, "on")
	}
	if v, ok := r.PostForm["llm.money_per_day"]; ok {
		t := strings.TrimPrefix(strings.TrimSpace(v[0]), "$")
		if t == "" {
			t = "0"
		}
		if n, err := strconv.ParseFloat(t, 64); err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			problems["llm.money_per_day"] = "must be an amount such as 5 or 2.50 (0 = unlimited)"
		} else {
			cur.LLM.MoneyPerDay = n
		}
	}
	dur := func(key string, dst *time.Duration) {
		v, ok := r.PostForm[key]
		if !ok {
			return
		}
		d, err := time.ParseDuration(strings.TrimSpace(v[0]))
		if err != nil {
			problems[key] = `must be a duration such as "90s" or "5m"`
			return
		}
		*dst = d
	}
	num("agent.max_rounds", &cur.Agent.MaxRounds)
	dur("agent.task_timeout", &cur.Agent.TaskTimeout)
	num("agent.history_tokens", &cur.Agent.HistoryTokens)
	list("discord.allowed_users", &cur.Discord.AllowedUsers)
	list("discord.allowed_channels", &cur.Discord.AllowedChannels)
	list("discord.admins", &cur.Discord.Admins)
	str("discord.review_base_url", &cur.Discord.ReviewBaseURL)
	num("discord.rate_limit_per_minute", &cur.Discord.RateLimitPerMinute)
	num("discord.max_messages_per_reply", &cur.Discord.MaxMessagesPerReply)
	// A checkbox sends nothing when unticked: the form carries a hidden
	// "off" before it, so a form without the field keeps the value.
	if v, ok := r.PostForm["discord.link_previews"]; ok {
		cur.Discord.LinkPreviews = slices.Contains(v, "on")
	}
	list("discord.link_preview_hosts", &cur.Discord.LinkPreviewHosts)
	num("workspace.max_files", &cur.Workspace.MaxFiles)
	num("scripts.max_pending_per_script", &cur.Scripts.MaxPendingPerScript)
	num("scripts.max_pending_total", &cur.Scripts.MaxPendingTotal)
	dur("scripts.notify_window", &cur.Scripts.NotifyWindow)
	// Memory (issue 16): a checkbox, as discord.link_previews.
	if v, ok := r.PostForm["memory.require_approval"]; ok {
		cur.Memory.RequireApproval = slices.Contains(v, "on")
	}
	list("egress_allow", &cur.EgressAllow)
	// Scheduled jobs (issue 14).
	str("jobs.time_zone", &cur.Jobs.TimeZone)
	num("jobs.min_interval_seconds", &cur.Jobs.MinIntervalSeconds)
	num("jobs.max_failures", &cur.Jobs.MaxFailures)
	dur("backup.interval", &cur.Backup.Interval)
	num("backup.keep", &cur.Backup.Keep)
	return cur, problems
}

// saveSettingsForm applies a settings form and the secrets it carries
// (an empty secret field keeps the stored one). It returns the page data
// to re-render on a problem, or ok.
func (s *Server) saveSettingsForm(r *http.Request) (settingsData, bool, error) {
	cur := s.Settings.Get()
	next, problems := settingsForm(r, cur)
	d, err := s.settingsData(r, next)
	if err != nil {
		return d, false, err
	}
	if len(problems) > 0 {
		d.Problems = problems
		return d, false, nil
	}
	if _, err := s.Settings.Update(r.Context(), who(r).actor(), next); err != nil {
		var ve *settings.ValidationError
		if !errors.As(err, &ve) {
			return d, false, err
		}
		for _, p := range ve.Problems {
			d.Problems[p.Field] = p.Message
		}
		return d, false, nil
	}
	for _, f := range []struct{ field, name string }{{"llm.api_key", secrets.LLMAPIKey}, {"discord.token", secrets.DiscordToken}} {
		v := strings.TrimSpace(r.PostFormValue(f.field))
		if v == "" {
			continue
		}
		if _, err := s.setSecret(r, f.name, v); err != nil {
			he, ok := secretError(err).(*httpError)
			if !ok {
				return d, false, err
			}
			d.Problems[f.field] = he.Msg
			return d, false, nil
		}
	}
	return d, true, nil
}

func (s *Server) pageSaveSettings(w http.ResponseWriter, r *http.Request) error {
	d, ok, err := s.saveSettingsForm(r)
	if err != nil {
		return err
	}
	if !ok {
		s.render(w, r, http.StatusBadRequest, "settings", view{Title: "Settings", Nav: "settings", Data: d,
			Error: "Some settings were not saved: see the marked fields."})
		return nil
	}
	s.redirect(w, r, "/settings", "Settings saved. They apply from the next message.")
	return nil
}

// testLLM tries the model settings of a form (not yet saved) with the key
// of the form, else the stored one.
func (s *Server) testLLM(r *http.Request) (string, bool) {
	if s.TestLLM == nil {
		return "Testing is not available.", false
	}
	next, problems := settingsForm(r, s.Settings.Get())
	if len(problems) > 0 {
		return "Fix the marked fields first.", false
	}
	if err := next.Validate(); err != nil {
		return "Fix the settings first: " + err.Error(), false
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	if err := s.TestLLM(ctx, next.LLM, strings.TrimSpace(r.PostFormValue("llm.api_key"))); err != nil {
		return "The model could not be reached: " + err.Error(), false
	}
	return "Connection works: " + next.LLM.Model + " answered.", true
}

func (s *Server) pageTestLLM(w http.ResponseWriter, r *http.Request) error {
	msg, ok := s.testLLM(r)
	next, _ := settingsForm(r, s.Settings.Get())
	d, err := s.settingsData(r, next)
	if err != nil {
		return err
	}
	d.Tested = msg
	page, title, nav := "settings", "Settings", "settings"
	if r.PostFormValue("wizard") != "" {
		page, title, nav = "welcome_llm", "Set up the model", ""
	}
	v := view{Title: title, Nav: nav, Data: d}
	if ok {
		v.Flash = msg
	} else {
		v.Error = msg
	}
	s.render(w, r, http.StatusOK, page, v)
	return nil
}

// --- first-run wizard, after the admin account ---

func (s *Server) pageWelcomeLLM(w http.ResponseWriter, r *http.Request) error {
	d, err := s.settingsData(r, s.Settings.Get())
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "welcome_llm", view{Title: "Set up the model", Data: d})
	return nil
}

func (s *Server) pageSaveWelcomeLLM(w http.ResponseWriter, r *http.Request) error {
	d, ok, err := s.saveSettingsForm(r)
	if err != nil {
		return err
	}
	if !ok {
		s.render(w, r, http.StatusBadRequest, "welcome_llm", view{Title: "Set up the model", Data: d,
			Error: "Fix the marked fields."})
		return nil
	}
	s.redirect(w, r, "/welcome/discord", "Model settings saved.")
	return nil
}

func (s *Server) pageWelcomeDiscord(w http.ResponseWriter, r *http.Request) error {
	d, err := s.settingsData(r, s.Settings.Get())
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "welcome_discord", view{Title: "Connect Discord", Data: d})
	return nil
}

func (s *Server) pageSaveWelcomeDiscord(w http.ResponseWriter, r *http.Request) error {
	if r.PostFormValue("skip") != "" {
		s.redirect(w, r, "/", "Setup is done. You can connect Discord later in Settings.")
		return nil
	}
	d, ok, err := s.saveSettingsForm(r)
	if err != nil {
		return err
	}
	if !ok {
		s.render(w, r, http.StatusBadRequest, "welcome_discord", view{Title: "Connect Discord", Data: d,
			Error: "Fix the marked fields."})
		return nil
	}
	s.redirect(w, r, "/", "Setup is done.")
	return nil
}
