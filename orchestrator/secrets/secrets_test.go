package secrets

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/vault"
)

func TestRoundTrip(t *testing.T) {
	f := newFixture(t)
	v := f.open(t)
	ctx := context.Background()
	created, err := v.Set(ctx, "API_TOKEN", canaryA)
	if err != nil || !created {
		t.Fatalf("Set(new) = %v, %v", created, err)
	}
	if created, err = v.Set(ctx, "API_TOKEN", canaryB); err != nil || created {
		t.Fatalf("Set(existing) = %v, %v", created, err)
	}
	value, origin, err := v.Lookup(ctx, "API_TOKEN")
	if err != nil || value != canaryB || origin != OriginVault {
		t.Fatalf("Lookup = %d bytes, %q, %v; want the new value from the vault", len(value), origin, err)
	}
	// The value survives a restart (a new Vault on the same files).
	if got, err := f.open(t).Get(ctx, "API_TOKEN"); err != nil || got != canaryB {
		t.Fatalf("Get after reopen = %v", err)
	}
	if err := v.Delete(ctx, "API_TOKEN"); err != nil {
		t.Fatal(err)
	}
	_, err = v.Get(ctx, "API_TOKEN")
	mustErrIs(t, "Get after Delete", err, ErrNotFound)
	mustErrIs(t, "second Delete", v.Delete(ctx, "API_TOKEN"), ErrNotFound)
	_, err = v.Get(ctx, "not a name")
	mustErrIs(t, "Get(invalid name)", err, ErrNotFound)
}

func TestDatabaseHoldsNoPlaintext(t *testing.T) {
	f := newFixture(t)
	v := f.open(t)
	mustSet(t, v, "A", canaryA)
	if err := f.st.Close(); err != nil { // flush the WAL into the file
		t.Fatal(err)
	}
	for _, p := range []string{f.dbPath, f.dbPath + "-wal"} {
		data, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(canaryA)) {
			t.Fatalf("%s contains the value in clear", p)
		}
	}
}

func TestTamperDetected(t *testing.T) {
	f := newFixture(t)
	v := f.open(t)
	ctx := context.Background()
	mustSet(t, v, "A", canaryA)
	for _, pos := range []int{0, 5, 20, -1} {
		blob := f.rawBlob(t, "A")
		if pos < 0 {
			pos = len(blob) - 1
		}
		blob[pos] ^= 0x01
		f.setRawBlob(t, "A", blob)
		got, err := v.Get(ctx, "A")
		mustErrIs(t, fmt.Sprintf("Get(tampered at %d)", pos), err, vault.ErrDecrypt)
		if got != "" {
			t.Fatal("Get of a tampered value returned bytes")
		}
		_, err = v.Values(ctx)
		mustErrIs(t, "Values with a tampered value", err, vault.ErrDecrypt)
		mustSet(t, v, "A", canaryA)
	}
}

func TestValueMovedToAnotherNameFails(t *testing.T) {
	f := newFixture(t)
	v := f.open(t)
	ctx := context.Background()
	mustSet(t, v, "A", canaryA)
	mustSet(t, v, "B", canaryB)
	// Swap the two blobs, and copy A's under a new name.
	a, b := f.rawBlob(t, "A"), f.rawBlob(t, "B")
	f.setRawBlob(t, "A", b)
	f.setRawBlob(t, "B", a)
	if _, err := f.raw(t).Exec("INSERT INTO secrets (name, value, created_at, updated_at) VALUES ('C', ?, 0, 0)", a); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"A", "B", "C"} {
		got, err := v.Get(ctx, name)
		mustErrIs(t, "Get("+name+") after the move", err, vault.ErrDecrypt)
		if got != "" {
			t.Errorf("Get(%s) returned a value moved from another name", name)
		}
	}
}

func TestValidation(t *testing.T) {
	f := newFixture(t)
	v := f.open(t)
	ctx := context.Background()
	tests := []struct {
		desc, name, value string
		want              error
		says              string
	}{
		{"too short", "SHORT", "canary7", vault.ErrInvalidValue, "cannot be redacted safely"},
		{"NUL", "NUL", "canary-A-\x005f1e9d3c7b", vault.ErrInvalidValue, "NUL"},
		{"trailing newline", "NL", canaryA + "\n", vault.ErrInvalidValue, "line break"},
		{"lower-case name", "api_key", canaryA, vault.ErrInvalidName, "A-Z"},
		{"value as name", canaryB, canaryA, vault.ErrInvalidName, "A-Z"},
		{"empty name", "", canaryA, vault.ErrInvalidName, "A-Z"},
	}
	for _, tt := range tests {
		created, err := v.Set(ctx, tt.name, tt.value)
		mustErrIs(t, tt.desc, err, tt.want)
		if created || !strings.Contains(errText(err), tt.says) {
			t.Errorf("%s: Set = %v, %v; want an error saying %q", tt.desc, created, err, tt.says)
		}
	}
	if list, _ := v.List(ctx); len(list) != 0 {
		t.Fatalf("refused values were stored: %+v", list)
	}
}

func TestListNeverHoldsValues(t *testing.T) {
	f := newFixture(t)
	v := f.open(t)
	ctx := context.Background()
	mustSet(t, v, "A", canaryA)
	mustSet(t, v, LLMAPIKey, canaryB)
	if err := v.AddEnv(DiscordToken, "DISCORD_TOKEN", canaryEnv); err != nil {
		t.Fatal(err)
	}
	list, err := v.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(list)
	noCanary(t, "List JSON", string(js))
	noCanary(t, "List %+v", fmt.Sprintf("%+v", list))
	if len(list) != 3 || list[0].Name != "A" || list[1].Name != DiscordToken || list[2].Name != LLMAPIKey {
		t.Fatalf("List = %s", js)
	}
}

func TestOnChange(t *testing.T) {
	f := newFixture(t)
	v := f.open(t)
	ctx := context.Background()
	var seen [][]NameValue
	v.OnChange(func() {
		vals, err := v.Values(ctx)
		if err != nil {
			t.Errorf("Values in hook: %v", err)
		}
		seen = append(seen, vals)
	})
	mustSet(t, v, "A", canaryA)
	if len(seen) != 1 || len(seen[0]) != 1 || seen[0][0] != (NameValue{"A", canaryA}) {
		t.Fatalf("after Set the hook saw %d calls", len(seen))
	}
	if _, err := v.Set(ctx, "B", "short"); err == nil {
		t.Fatal("short value accepted")
	}
	if err := v.Delete(ctx, "NONE"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if len(seen) != 1 {
		t.Fatalf("failed calls ran the hook (%d calls)", len(seen))
	}
	if err := v.Delete(ctx, "A"); err != nil {
		t.Fatal(err)
	}
	if err := v.AddEnv("E", "E_VAR", canaryEnv); err != nil {
		t.Fatal(err)
	}
	if err := v.Rotate(ctx, f.keyPath); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 4 || len(seen[1]) != 0 || len(seen[2]) != 1 || seen[2][0].Value != canaryEnv {
		t.Fatalf("hook calls = %d, want 4 (set, delete, env, rotate) each seeing the new state", len(seen))
	}
}

func TestOpenInitialisesKeyCheckOnlyForMatchingSecrets(t *testing.T) {
	f := newFixture(t)
	v := f.open(t)
	ctx := context.Background()
	mustSet(t, v, "A", canaryA)
	// The key check row is lost (tampering or a bug): the right key
	// recreates it, a wrong one is refused.
	if _, err := f.raw(t).Exec("DELETE FROM vault_meta"); err != nil {
		t.Fatal(err)
	}
	k, _ := vault.GenerateKey()
	_, err := Open(ctx, f.st, newSealer(t, k))
	mustErrIs(t, "Open(wrong key, no key check)", err, vault.ErrWrongKey)
	if _, err := f.st.KeyCheck(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a wrong key stored a key check: %v", err)
	}
	if got, err := f.open(t).Get(ctx, "A"); err != nil || got != canaryA {
		t.Fatalf("Get after re-initialising the key check: %v", err)
	}
	if _, err := f.st.KeyCheck(ctx); err != nil {
		t.Fatalf("key check not recreated: %v", err)
	}
}

// TestConcurrentUse runs writers and a redactor-style hook together, for
// the race detector, and checks the last rebuild saw every value.
func TestConcurrentUse(t *testing.T) {
	f := newFixture(t)
	v := f.open(t)
	ctx := context.Background()
	var last []NameValue
	v.OnChange(func() {
		vals, err := v.Values(ctx)
		if err != nil {
			t.Errorf("Values: %v", err)
		}
		last = vals // hooks run one at a time
	})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				if _, err := v.Set(ctx, fmt.Sprintf("K%d_%d", g, i), canaryA); err != nil {
					t.Error(err)
				}
				if _, err := v.List(ctx); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if len(last) != 20 {
		t.Fatalf("the last hook run saw %d values, want 20", len(last))
	}
}
