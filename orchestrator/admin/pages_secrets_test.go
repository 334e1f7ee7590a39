package admin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/secrets"
)

const secretCanary = "canary-Value-7c1e9b2f44d0"

// auditActions returns the entries recorded for action.
func (e *env) auditActions(action string) []audit.Entry {
	e.t.Helper()
	entries, err := e.audit.List(context.Background(), audit.Filter{Action: action, Limit: 500})
	if err != nil {
		e.t.Fatal(err)
	}
	return entries
}

func TestSecretsPageSetIsWriteOnly(t *testing.T) {
	e := newEnv(t)
	e.setup()
	b := e.login()

	code, loc, _ := b.post("/secrets", url.Values{"name": {"WEATHER_KEY"}, "value": {secretCanary}})
	if code != http.StatusSeeOther || loc != "/secrets" {
		t.Fatalf("set secret: %d %q", code, loc)
	}
	if v, err := e.vault.Get(context.Background(), "WEATHER_KEY"); err != nil || v != secretCanary {
		t.Fatalf("vault after the page set it: %q, %v", v, err)
	}
	code, body := b.get("/secrets")
	if code != http.StatusOK || !strings.Contains(body, "WEATHER_KEY") || !strings.Contains(body, "Saved WEATHER_KEY.") {
		t.Fatalf("GET /secrets: %d, lacks the secret's name or the flash:\n%s", code, body)
	}
	if strings.Contains(body, secretCanary) {
		t.Fatalf("GET /secrets shows the value")
	}
	for _, want := range []string{`type="password"`, `autocomplete="off"`, "LLM_API_KEY", "DISCORD_TOKEN", "approved"} {
		if !strings.Contains(body, want) {
			t.Errorf("GET /secrets lacks %q", want)
		}
	}
	ents := e.auditActions("secret.set")
	if len(ents) != 1 || ents[0].Actor != "admin:alice" || ents[0].Target != "WEATHER_KEY" ||
		strings.Contains(string(ents[0].Details), secretCanary) {
		t.Errorf("audit of secret.set: %+v", ents)
	}

	// Replacing keeps it write-only too.
	if code, _, _ := b.post("/secrets", url.Values{"name": {"WEATHER_KEY"}, "value": {secretCanary + "2"}}); code != http.StatusSeeOther {
		t.Fatalf("replace secret: %d", code)
	}
	if _, body := b.get("/secrets"); strings.Contains(body, secretCanary) || !strings.Contains(body, "Replaced the value of WEATHER_KEY.") {
		t.Errorf("after replacing: value shown or no flash")
	}
}

func TestSecretsPageShowsValidationErrorsWithoutTheValue(t *testing.T) {
	e := newEnv(t)
	e.setup()
	b := e.login()
	tests := []struct {
		name, value, want string
		code              int
	}{
		{"bad-name", secretCanary, "invalid secret name", http.StatusBadRequest},
		// A value pasted into the name field is not echoed back.
		{secretCanary, secretCanary, "invalid secret name", http.StatusBadRequest},
		{"GOOD_NAME", " " + secretCanary, "whitespace", http.StatusBadRequest},
		{"GOOD_NAME", "short", "at least 8 bytes", http.StatusBadRequest},
	}
	for _, tt := range tests {
		code, _, body := b.post("/secrets", url.Values{"name": {tt.name}, "value": {tt.value}})
		if code != tt.code || !strings.Contains(body, tt.want) {
			t.Errorf("set %q: %d, want %d and %q in:\n%s", tt.name, code, tt.code, tt.want, body)
		}
		if strings.Contains(body, secretCanary) || strings.Contains(body, `value="short"`) {
			t.Errorf("set %q: the error page shows the value", tt.name)
		}
		if !strings.Contains(body, `action="/secrets"`) {
			t.Errorf("set %q: the error is not shown on the secrets page", tt.name)
		}
	}
	if infos, _ := e.vault.List(context.Background()); len(infos) != 0 {
		t.Errorf("refused secrets were stored: %+v", infos)
	}
	if n := len(e.auditActions("secret.set")); n != 0 {
		t.Errorf("%d secret.set entries for refused secrets", n)
	}
}

func TestSecretsPageDelete(t *testing.T) {
	e := newEnv(t)
	e.setup()
	b := e.login()
	ctx := context.Background()
	if _, err := e.vault.Set(ctx, "OLD_KEY", secretCanary); err != nil {
		t.Fatal(err)
	}
	if _, body := b.get("/secrets"); !strings.Contains(body, `action="/secrets/OLD_KEY/delete"`) {
		t.Fatalf("no delete form for a vault secret:\n%s", body)
	}
	code, loc, _ := b.post("/secrets/OLD_KEY/delete", nil)
	if code != http.StatusSeeOther || loc != "/secrets" {
		t.Fatalf("delete: %d %q", code, loc)
	}
	if _, err := e.vault.Get(ctx, "OLD_KEY"); !errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("after delete, Get = %v", err)
	}
	if ents := e.auditActions("secret.deleted"); len(ents) != 1 || ents[0].Actor != "admin:alice" || ents[0].Target != "OLD_KEY" {
		t.Errorf("audit of secret.deleted: %+v", ents)
	}
	if code, _, body := b.post("/secrets/OLD_KEY/delete", nil); code != http.StatusNotFound || !strings.Contains(body, "no such secret") {
		t.Errorf("deleting it again: %d", code)
	}
}

func TestEnvironmentSecretCannotBeDeleted(t *testing.T) {
	e := newEnv(t)
	e.setup()
	b := e.login()
	ctx := context.Background()
	if err := e.vault.AddEnv(secrets.DiscordToken, "DISCORD_TOKEN", secretCanary); err != nil {
		t.Fatal(err)
	}
	_, body := b.get("/secrets")
	if !strings.Contains(body, "environment (DISCORD_TOKEN)") || !strings.Contains(body, "read-only") {
		t.Errorf("the page does not show the environment origin as read-only:\n%s", body)
	}
	if strings.Contains(body, "/secrets/DISCORD_TOKEN/delete") {
		t.Errorf("the page offers to delete an environment secret")
	}
	if strings.Contains(body, secretCanary) {
		t.Fatalf("the page shows the environment value")
	}
	code, _, body := b.post("/secrets/DISCORD_TOKEN/delete", nil)
	if code != http.StatusConflict || !strings.Contains(body, "environment") || !strings.Contains(body, "change it there") {
		t.Errorf("delete env secret: %d\n%s", code, body)
	}
	if v, err := e.vault.Get(ctx, secrets.DiscordToken); err != nil || v != secretCanary {
		t.Errorf("env secret after the refused delete: %v", err)
	}
	if n := len(e.auditActions("secret.deleted")); n != 0 {
		t.Errorf("%d secret.deleted entries for a refused delete", n)
	}
}

func TestSecretsPageNeedsCSRF(t *testing.T) {
	e := newEnv(t)
	e.setup()
	b := e.login()
	ctx := context.Background()
	if _, err := e.vault.Set(ctx, "KEEP_ME", secretCanary); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := b.post("/secrets", url.Values{"csrf_token": {""}, "name": {"NEW_ONE"}, "value": {secretCanary}}); code != http.StatusForbidden {
		t.Errorf("set without CSRF token: %d, want 403", code)
	}
	if code, _, _ := b.post("/secrets/KEEP_ME/delete", url.Values{"csrf_token": {"forged"}}); code != http.StatusForbidden {
		t.Errorf("delete with a wrong CSRF token: %d, want 403", code)
	}
	if _, err := e.vault.Get(ctx, "NEW_ONE"); !errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("set without CSRF stored the secret: %v", err)
	}
	if _, err := e.vault.Get(ctx, "KEEP_ME"); err != nil {
		t.Errorf("delete without CSRF deleted the secret: %v", err)
	}
}
