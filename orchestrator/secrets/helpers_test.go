package secrets

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/vault"
)

// Canary values: none of them, nor a long piece of one, may appear in an
// error, a listing or the database file.
const (
	canaryA   = "canary-A-5f1e9d3c7b"
	canaryB   = "canary-B-8a2d4c6e0f"
	canaryEnv = "canary-ENV-3b7f1a9e5d"
)

var canaries = []string{canaryA, canaryB, canaryEnv}

type fixture struct {
	st      *store.Store
	dbPath  string
	keyPath string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{dbPath: filepath.Join(dir, "airlock.db"), keyPath: filepath.Join(dir, "master.key")}
	st, err := store.Open(context.Background(), f.dbPath, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st = st
	return f
}

// open starts a vault the way the orchestrator does: OpenKey, then Open.
func (f *fixture) open(t *testing.T) *Vault {
	t.Helper()
	ctx := context.Background()
	sealer, err := OpenKey(ctx, f.st, f.keyPath, true)
	if err != nil {
		t.Fatalf("OpenKey: %v", err)
	}
	v, err := Open(ctx, f.st, sealer)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return v
}

// raw is a plain connection to the database file, as someone holding the
// file would have.
func (f *fixture) raw(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", f.dbPath+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustSet(t *testing.T, v *Vault, name, value string) {
	t.Helper()
	if _, err := v.Set(context.Background(), name, value); err != nil {
		t.Fatalf("Set(%s): %v", name, err)
	}
}

func loadKey(t *testing.T, path string) vault.Key {
	t.Helper()
	k, err := vault.LoadKey(path)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newSealer(t *testing.T, k vault.Key) *vault.Sealer {
	t.Helper()
	s, err := vault.NewSealer(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// noCanary fails if s contains any canary or a 10-byte piece of one.
func noCanary(t *testing.T, what, s string) {
	t.Helper()
	for _, c := range canaries {
		for i := 0; i+10 <= len(c); i++ {
			if strings.Contains(s, c[i:i+10]) {
				t.Errorf("%s reveals a secret value: %q", what, s)
				return
			}
		}
	}
}

// errText is err's text, "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func mustErrIs(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s = %v, want an error matching %v", what, err, target)
	}
	noCanary(t, what+" error", errText(err))
}

// rawBlob reads a sealed value straight from the database file.
func (f *fixture) rawBlob(t *testing.T, name string) []byte {
	t.Helper()
	var blob []byte
	if err := f.raw(t).QueryRow("SELECT value FROM secrets WHERE name = ?", name).Scan(&blob); err != nil {
		t.Fatal(err)
	}
	return blob
}

// setRawBlob overwrites a sealed value straight in the database file.
func (f *fixture) setRawBlob(t *testing.T, name string, blob []byte) {
	t.Helper()
	if _, err := f.raw(t).Exec("UPDATE secrets SET value = ? WHERE name = ?", blob, name); err != nil {
		t.Fatal(err)
	}
}
