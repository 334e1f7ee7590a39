package secrets

import (
	"context"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/secure/vault"
)

func TestEnvironmentSecrets(t *testing.T) {
	f := newFixture(t)
	v := f.open(t)
	ctx := context.Background()
	mustSet(t, v, LLMAPIKey, canaryA)
	mustSet(t, v, "OTHER", canaryB)
	if err := v.AddEnv(LLMAPIKey, "AIRLOCK_LLM_API_KEY", canaryEnv); err != nil {
		t.Fatal(err)
	}
	if err := v.AddEnv(DiscordToken, "DISCORD_TOKEN_FILE /run/secrets/discord", canaryEnv+"-discord"); err != nil {
		t.Fatal(err)
	}
	if err := v.AddEnv("UNSET", "UNSET_VAR", ""); err != nil {
		t.Fatalf("AddEnv(empty) = %v, want a no-op", err)
	}

	// The environment wins, and says so.
	value, origin, err := v.Lookup(ctx, LLMAPIKey)
	if err != nil || value != canaryEnv || origin != "environment (AIRLOCK_LLM_API_KEY)" {
		t.Fatalf("Lookup(LLM key) = %d bytes, %q, %v", len(value), origin, err)
	}
	if _, origin, _ := v.Lookup(ctx, "OTHER"); origin != OriginVault {
		t.Fatalf("Lookup(OTHER) origin = %q", origin)
	}

	list, err := v.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		origin string
		stored bool
	}{
		LLMAPIKey:    {"environment (AIRLOCK_LLM_API_KEY)", true},
		DiscordToken: {"environment (DISCORD_TOKEN_FILE /run/secrets/discord)", false},
		"OTHER":      {OriginVault, true},
	}
	if len(list) != len(want) {
		t.Fatalf("List = %+v", list)
	}
	for _, in := range list {
		w := want[in.Name]
		if in.Origin != w.origin || in.Stored != w.stored || in.Stored == in.CreatedAt.IsZero() {
			t.Errorf("List entry %+v, want origin %q stored %v", in, w.origin, w.stored)
		}
	}

	// Values holds every value, the overridden vault one included.
	vals, err := v.Values(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, nv := range vals {
		got[nv.Name+"="+nv.Value] = true
	}
	for _, w := range []string{
		LLMAPIKey + "=" + canaryA, LLMAPIKey + "=" + canaryEnv,
		DiscordToken + "=" + canaryEnv + "-discord", "OTHER=" + canaryB,
	} {
		if !got[w] {
			t.Errorf("Values lacks %s", strings.SplitN(w, "=", 2)[0])
		}
	}
	if len(vals) != 4 {
		t.Errorf("Values has %d entries, want 4", len(vals))
	}

	// The same value from both sides is listed once.
	if err := v.AddEnv("OTHER", "OTHER_VAR", canaryB); err != nil {
		t.Fatal(err)
	}
	if vals, _ := v.Values(ctx); len(vals) != 4 {
		t.Errorf("Values with a duplicate has %d entries, want 4", len(vals))
	}

	// An environment-only secret cannot be deleted through the vault.
	err = v.Delete(ctx, DiscordToken)
	mustErrIs(t, "Delete(env-only)", err, ErrFromEnvironment)
	if !strings.Contains(errText(err), "DISCORD_TOKEN_FILE") {
		t.Errorf("Delete(env-only) error does not say where it is set: %v", err)
	}
}

func TestAddEnvValidates(t *testing.T) {
	f := newFixture(t)
	v := f.open(t)
	mustErrIs(t, "AddEnv(short)", v.AddEnv(LLMAPIKey, "AIRLOCK_LLM_API_KEY", "canary7"), vault.ErrInvalidValue)
	mustErrIs(t, "AddEnv(bad name)", v.AddEnv("bad-name", "X", canaryEnv), vault.ErrInvalidName)
	if _, _, err := v.Lookup(context.Background(), LLMAPIKey); err == nil {
		t.Fatal("a refused environment value was registered")
	}
}
