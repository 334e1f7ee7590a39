package admin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/config"
	"github.com/airlockhq/airlock/orchestrator/secrets"
	"github.com/airlockhq/airlock/orchestrator/settings"
)

// TestSettingsAPI: a partial PUT changes only what it names, is audited,
// and bad values come back per field without changing anything.
func TestSettingsAPI(t *testing.T) {
	e := newEnv(t)
	e.setup()
	tok := e.apiToken()
	var out struct {
		Settings settings.Settings `json:"settings"`
	}
	if c := e.api(tok, "GET", "/api/v1/settings", nil, &out); c != 200 || out.Settings.LLM.Provider != "openai" {
		t.Fatalf("GET settings: %d %+v", c, out)
	}
	before := out.Settings
	if c := e.api(tok, "PUT", "/api/v1/settings", map[string]any{"llm": map[string]any{"model": "gpt-test"},
		"agent": map[string]any{"task_timeout": "90s"}}, &out); c != 200 {
		t.Fatalf("PUT settings: %d", c)
	}
	got := e.settings.Get()
	if got.LLM.Model != "gpt-test" || got.Agent.TaskTimeout != 90*time.Second || got.LLM.Provider != before.LLM.Provider ||
		got.LLM.MaxTokens != before.LLM.MaxTokens || got.Agent.MaxRounds != before.Agent.MaxRounds {
		t.Fatalf("after a partial PUT: %+v", got)
	}
	entries, _ := e.audit.List(context.Background(), audit.Filter{Action: settings.ActionUpdated})
	if len(entries) != 1 || entries[0].Actor != "admin:"+adminUser || !strings.Contains(string(entries[0].Details), "llm.model") {
		t.Fatalf("audit: %+v", entries)
	}

	var bad struct {
		Error    string                `json:"error"`
		Problems []settings.FieldError `json:"problems"`
	}
	if c := e.api(tok, "PUT", "/api/v1/settings", map[string]any{"llm": map[string]any{"max_tokens": -1,
		"base_url": "file:///etc/passwd"}}, &bad); c != http.StatusBadRequest || len(bad.Problems) != 2 {
		t.Fatalf("bad values: %d %+v", c, bad)
	}
	for _, body := range []string{`{"llm":{"nope":1}}`, `{"agent":{"task_timeout":90}}`, `[]`, `{"llm":`} {
		req, _ := http.NewRequest("PUT", e.srv.URL+"/api/v1/settings", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("PUT %s: %d; want 400", body, resp.StatusCode)
		}
	}
	if e.settings.Get().LLM.MaxTokens != before.LLM.MaxTokens {
		t.Error("a refused PUT changed a setting")
	}
}

// TestSettingsLockedByEnvironment: a field set by an environment variable
// is shown locked and cannot be changed.
func TestSettingsLockedByEnvironment(t *testing.T) {
	e := newEnv(t, func(d *Deps) {
		cfg := config.Defaults(false)
		cfg.LLM.Model = "env-model"
		set, err := settings.New(context.Background(), d.Store, func(context.Context, audit.Event) {},
			settings.FromConfig(cfg), map[string]string{"llm.model": "AIRLOCK_LLM_MODEL"})
		if err != nil {
			t.Fatal(err)
		}
		d.Settings = set
	})
	e.setup()
	b := e.login()
	_, body := b.get("/settings")
	if !strings.Contains(body, "set by AIRLOCK_LLM_MODEL") || !strings.Contains(body, `value="env-model" spellcheck="false" placeholder="e.g. gpt-4o-mini or claude-sonnet-4-5" disabled`) {
		t.Errorf("the settings page does not show the model locked")
	}
	var bad struct {
		Problems []settings.FieldError `json:"problems"`
	}
	if c := e.api(e.apiToken(), "PUT", "/api/v1/settings", map[string]any{"llm": map[string]any{"model": "other"}}, &bad); c != 400 ||
		len(bad.Problems) != 1 || !strings.Contains(bad.Problems[0].Message, "AIRLOCK_LLM_MODEL") {
		t.Errorf("changing a locked field: %d %+v", c, bad)
	}
}

// TestSettingsPage: the form saves settings and the keys it carries (into
// the vault, audited, never shown again), shows problems per field, and
// the test button tries the unsaved values.
func TestSettingsPage(t *testing.T) {
	var tested settings.LLM
	var testedKey string
	e := newEnv(t, func(d *Deps) {
		d.TestLLM = func(_ context.Context, s settings.LLM, key string) error {
			tested, testedKey = s, key
			if s.Model == "broken" {
				return errors.New("model not found")
			}
			return nil
		}
	})
	e.setup()
	b := e.login()
	const key = "sk-settings-page-key-0123456789"
	form := url.Values{"llm.provider": {"anthropic"}, "llm.model": {"claude-test"}, "llm.base_url": {""},
		"llm.api_key": {key}, "discord.allowed_users": {"100000000000000001\n100000000000000002"},
		"egress_allow": {"nas.lan, 10.0.0.0/8"}, "agent.task_timeout": {"2m"}}
	if c, loc, body := b.post("/settings", form); c != http.StatusSeeOther || loc != "/settings" {
		t.Fatalf("save: %d %s\n%s", c, loc, body)
	}
	got := e.settings.Get()
	if got.LLM.Provider != "anthropic" || got.LLM.Model != "claude-test" || len(got.Discord.AllowedUsers) != 2 ||
		len(got.EgressAllow) != 2 || got.Agent.TaskTimeout != 2*time.Minute {
		t.Fatalf("saved settings: %+v", got)
	}
	if v, err := e.vault.Get(context.Background(), secrets.LLMAPIKey); err != nil || v != key {
		t.Fatalf("the key did not reach the vault: %v", err)
	}
	_, body := b.get("/settings")
	if strings.Contains(body, key) || !strings.Contains(body, "set; leave empty to keep it") {
		t.Errorf("the settings page after saving a key: shows it, or does not say it is set")
	}
	// An empty key field keeps the stored key.
	b.post("/settings", url.Values{"llm.model": {"claude-test-2"}, "llm.api_key": {""}})
	if v, _ := e.vault.Get(context.Background(), secrets.LLMAPIKey); v != key {
		t.Error("an empty key field replaced the stored key")
	}
	// Problems are shown per field and nothing is saved.
	c, _, body := b.post("/settings", url.Values{"llm.max_tokens": {"lots"}, "agent.max_rounds": {"0"}, "llm.model": {"x y"}})
	if c != http.StatusBadRequest || !strings.Contains(body, "must be a whole number") {
		t.Errorf("bad form: %d", c)
	}
	if e.settings.Get().LLM.Model != "claude-test-2" {
		t.Error("a refused form changed a setting")
	}
	c, _, body = b.post("/settings", url.Values{"agent.max_rounds": {"0"}})
	if c != http.StatusBadRequest || !strings.Contains(body, `role="alert"`) {
		t.Errorf("max_rounds 0: %d", c)
	}
	// The test button uses the form's values, unsaved.
	c, _, body = b.post("/settings/test-llm", url.Values{"llm.provider": {"openai"}, "llm.model": {"broken"}, "llm.api_key": {"sk-other-key-000000000"}})
	if c != 200 || !strings.Contains(body, "model not found") || tested.Model != "broken" || testedKey != "sk-other-key-000000000" {
		t.Errorf("test connection: %d, tested %+v", c, tested)
	}
	if e.settings.Get().LLM.Model != "claude-test-2" {
		t.Error("testing the connection saved the form")
	}
	_, _, body = b.post("/settings/test-llm", url.Values{"llm.model": {"works"}})
	if !strings.Contains(body, "Connection works") {
		t.Error("a working test is not reported")
	}
}

// TestSettingsPageLimits (issue 11 items 11 and 12): the page shows the
// workspace file cap and the script proposal caps, saves them, and reports
// bad values next to their field; the API takes them too.
func TestSettingsPageLimits(t *testing.T) {
	e := newEnv(t)
	e.setup()
	b := e.login()
	_, body := b.get("/settings")
	for _, want := range []string{`name="workspace.max_files" type="number" min="1" value="2000"`,
		`name="scripts.max_pending_per_script" type="number" min="1" max="100" value="5"`,
		`name="scripts.max_pending_total" type="number" min="1" max="1000" value="50"`,
		`name="scripts.notify_window" value="10m0s"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the settings page lacks %s", want)
		}
	}
	form := url.Values{"workspace.max_files": {"500"}, "scripts.max_pending_per_script": {"3"},
		"scripts.max_pending_total": {"20"}, "scripts.notify_window": {"30m"}}
	if c, loc, body := b.post("/settings", form); c != http.StatusSeeOther || loc != "/settings" {
		t.Fatalf("save: %d %s\n%s", c, loc, body)
	}
	got := e.settings.Get()
	if got.Workspace.MaxFiles != 500 || got.Scripts != (settings.Scripts{MaxPendingPerScript: 3, MaxPendingTotal: 20, NotifyWindow: 30 * time.Minute}) {
		t.Fatalf("saved %+v %+v", got.Workspace, got.Scripts)
	}
	for field, bad := range map[string]string{"workspace.max_files": "0", "scripts.max_pending_per_script": "21",
		"scripts.max_pending_total": "1001", "scripts.notify_window": "5s"} {
		c, _, body := b.post("/settings", url.Values{field: {bad}})
		if c != http.StatusBadRequest || !strings.Contains(body, "must ") {
			t.Errorf("%s=%s: %d", field, bad, c)
		}
	}
	if c, _, body := b.post("/settings", url.Values{"scripts.notify_window": {"soon"}}); c != http.StatusBadRequest ||
		!strings.Contains(body, "must be a duration") {
		t.Errorf("notify_window=soon: %d", c)
	}
	if e.settings.Get().Scripts.NotifyWindow != 30*time.Minute || e.settings.Get().Workspace.MaxFiles != 500 {
		t.Error("a refused form changed a setting")
	}
	var bad struct {
		Problems []settings.FieldError `json:"problems"`
	}
	if c := e.api(e.apiToken(), "PUT", "/api/v1/settings", map[string]any{"workspace": map[string]any{"max_files": -1},
		"scripts": map[string]any{"notify_window": "48h"}}, &bad); c != http.StatusBadRequest || len(bad.Problems) != 2 ||
		bad.Problems[0].Field != "workspace.max_files" || bad.Problems[1].Field != "scripts.notify_window" {
		t.Errorf("bad limits through the API: %d %+v", c, bad)
	}
	if c := e.api(e.apiToken(), "PUT", "/api/v1/settings", map[string]any{"scripts": map[string]any{"max_pending_total": 30}}, nil); c != 200 ||
		e.settings.Get().Scripts.MaxPendingTotal != 30 || e.settings.Get().Scripts.NotifyWindow != 30*time.Minute {
		t.Errorf("partial scripts PUT: %d %+v", c, e.settings.Get().Scripts)
	}
}

// TestWelcomeWizard: after setup the wizard saves the model and Discord
// steps and ends on the dashboard; both steps can be skipped.
func TestWelcomeWizard(t *testing.T) {
	e := newEnv(t)
	e.setup()
	b := e.login()
	if c, loc, _ := b.post("/welcome/llm", url.Values{"llm.provider": {"openai"}, "llm.model": {"gpt-wizard"}}); c != http.StatusSeeOther || loc != "/welcome/discord" {
		t.Fatalf("model step: %d %s", c, loc)
	}
	if c, loc, _ := b.post("/welcome/discord", url.Values{"discord.allowed_users": {"100000000000000001"}}); c != http.StatusSeeOther || loc != "/" {
		t.Fatalf("discord step: %d %s", c, loc)
	}
	got := e.settings.Get()
	if got.LLM.Model != "gpt-wizard" || len(got.Discord.AllowedUsers) != 1 {
		t.Fatalf("wizard saved %+v", got)
	}
	if c, loc, _ := b.post("/welcome/discord", url.Values{"skip": {"1"}, "discord.allowed_users": {""}}); c != http.StatusSeeOther || loc != "/" {
		t.Fatalf("skip: %d %s", c, loc)
	}
	if len(e.settings.Get().Discord.AllowedUsers) != 1 {
		t.Error("skipping changed the settings")
	}
	if c, _, body := b.post("/welcome/discord", url.Values{"discord.allowed_users": {"not-an-id"}}); c != http.StatusBadRequest || !strings.Contains(body, "Fix the marked fields") {
		t.Errorf("a bad user id: %d", c)
	}
}

// TestSettingsKeyFromEnvironment: a key the environment sets is shown as
// such and its field is disabled (the environment wins over the vault).
func TestSettingsKeyFromEnvironment(t *testing.T) {
	e := newEnv(t)
	if err := e.vault.AddEnv(secrets.LLMAPIKey, "env AIRLOCK_LLM_API_KEY", "sk-env-key-0123456789abcdef"); err != nil {
		t.Fatal(err)
	}
	e.setup()
	_, body := e.login().get("/settings")
	if !strings.Contains(body, "set in the environment (env AIRLOCK_LLM_API_KEY); change it there") ||
		!strings.Contains(body, `name="llm.api_key" type="password" autocomplete="off" spellcheck="false" disabled`) {
		t.Error("a key from the environment is not shown locked")
	}
}

// TestSettingsPageDiscordLinks (issue 20, items 1 and 5): the page shows
// the messages-per-reply cap and the link-preview opt-in (off by default)
// with its host allowlist, saves them (an unticked box turns previews
// off), and names the field of a bad value; the API takes them too.
func TestSettingsPageDiscordLinks(t *testing.T) {
	e := newEnv(t)
	e.setup()
	b := e.login()
	_, body := b.get("/settings")
	for _, want := range []string{`name="discord.max_messages_per_reply" type="number" min="1" max="20" value="5"`,
		`<input type="hidden" name="discord.link_previews" value="off">`,
		`<input name="discord.link_previews" type="checkbox" value="on" >`, `name="discord.link_preview_hosts"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the settings page lacks %s", want)
		}
	}
	form := url.Values{"discord.max_messages_per_reply": {"3"}, "discord.link_previews": {"off", "on"},
		"discord.link_preview_hosts": {"WWW.YouTube.com\nexample.org"}}
	if c, loc, body := b.post("/settings", form); c != http.StatusSeeOther || loc != "/settings" {
		t.Fatalf("save: %d %s\n%s", c, loc, body)
	}
	got := e.settings.Get().Discord
	if got.MaxMessagesPerReply != 3 || !got.LinkPreviews || strings.Join(got.LinkPreviewHosts, ",") != "www.youtube.com,example.org" {
		t.Fatalf("saved %+v", got)
	}
	if _, body := b.get("/settings"); !strings.Contains(body, `value="on" checked>`) {
		t.Error("the page does not show previews on")
	}
	// A form without the box keeps it; the box unticked turns it off.
	b.post("/settings", url.Values{"discord.max_messages_per_reply": {"4"}})
	if !e.settings.Get().Discord.LinkPreviews {
		t.Error("a form without the checkbox turned previews off")
	}
	b.post("/settings", url.Values{"discord.link_previews": {"off"}})
	if e.settings.Get().Discord.LinkPreviews {
		t.Error("an unticked checkbox left previews on")
	}
	for field, bad := range map[string]url.Values{
		"discord.max_messages_per_reply": {"discord.max_messages_per_reply": {"21"}},
		"discord.link_preview_hosts":     {"discord.link_preview_hosts": {"https://evil.example/"}},
		"discord.link_previews":          {"discord.link_previews": {"off", "on"}, "discord.link_preview_hosts": {""}},
	} {
		c, _, body := b.post("/settings", bad)
		if c != http.StatusBadRequest || !strings.Contains(body, "must ") && !strings.Contains(body, "lists no host") &&
			!strings.Contains(body, "is not a host name") {
			t.Errorf("%s: %d", field, c)
		}
	}
	var res struct {
		Problems []settings.FieldError `json:"problems"`
	}
	if c := e.api(e.apiToken(), "PUT", "/api/v1/settings", map[string]any{"discord": map[string]any{
		"link_previews": true, "link_preview_hosts": []string{}}}, &res); c != http.StatusBadRequest ||
		len(res.Problems) != 1 || res.Problems[0].Field != "discord.link_previews" {
		t.Errorf("previews on without hosts through the API: %d %+v", c, res)
	}
}

// TestSettingsPageHistoryTokens (issue 13 item 2): the page shows the
// history budget, saves it, and refuses one out of range naming the field;
// the API takes it too.
func TestSettingsPageHistoryTokens(t *testing.T) {
	e := newEnv(t)
	e.setup()
	b := e.login()
	_, body := b.get("/settings")
	if want := `name="agent.history_tokens" type="number" min="500" max="1000000" value="8000"`; !strings.Contains(body, want) {
		t.Errorf("the settings page lacks %s", want)
	}
	if c, loc, body := b.post("/settings", url.Values{"agent.history_tokens": {"2000"}}); c != http.StatusSeeOther || loc != "/settings" {
		t.Fatalf("save: %d %s\n%s", c, loc, body)
	}
	if got := e.settings.Get().Agent.HistoryTokens; got != 2000 {
		t.Fatalf("saved history tokens %d", got)
	}
	c, _, body := b.post("/settings", url.Values{"agent.history_tokens": {"10"}})
	if c != http.StatusBadRequest || !strings.Contains(body, "must be between 500 and 1000000") {
		t.Errorf("history_tokens=10: %d", c)
	}
	var bad struct {
		Problems []settings.FieldError `json:"problems"`
	}
	if c := e.api(e.apiToken(), "PUT", "/api/v1/settings", map[string]any{"agent": map[string]any{"history_tokens": 0}}, &bad); c != http.StatusBadRequest ||
		len(bad.Problems) != 1 || bad.Problems[0].Field != "agent.history_tokens" {
		t.Errorf("history_tokens 0 through the API: %d %+v", c, bad)
	}
	if c := e.api(e.apiToken(), "PUT", "/api/v1/settings", map[string]any{"agent": map[string]any{"history_tokens": 12000}}, nil); c != 200 ||
		e.settings.Get().Agent.HistoryTokens != 12000 || e.settings.Get().Agent.MaxRounds != 8 {
		t.Errorf("history_tokens through the API: %d %+v", c, e.settings.Get().Agent)
	}
}
