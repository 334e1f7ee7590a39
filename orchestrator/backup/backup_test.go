package backup

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/airlockhq/airlock/orchestrator/secrets"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/redact"
	"github.com/airlockhq/airlock/secure/vault"
)

// A backup taken while messages and audit entries are being written
// restores to a consistent copy: every row it holds is one the source
// holds, the rows that did not change are all there, files and key are
// byte for byte the same, the audit chain verifies and the secrets open.
func TestBackupWhileBusyRestoresIdenticalData(t *testing.T) {
	ctx := context.Background()
	l := seed(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				l.addMessage(t, fmt.Sprintf("in flight %d/%d", w, i))
				l.appendAudit(t, "busy.write")
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	out := filepath.Join(t.TempDir(), "b.age")
	m, err := Create(ctx, l.src(), out, passEnc(t), time.Now())
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if !m.MasterKeyIncluded || m.Encryption != "passphrase" {
		t.Fatalf("manifest = %+v, want a passphrase backup with the master key", m)
	}
	target := filepath.Join(t.TempDir(), "data")
	res, err := Restore(ctx, out, target, passDec(t, testPass), RestoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Secrets != 1 || res.AuditEntries < 3 || res.Aside != "" {
		t.Fatalf("report = %+v", res)
	}
	src := dump(t, filepath.Join(l.dir, "secure", "airlock.db"))
	got := dump(t, filepath.Join(target, "secure", "airlock.db"))
	for table, rows := range got {
		switch table {
		case "tasks", "audit_head", "conversations": // a conversation's updated_at moves with its messages
			continue
		case "audit":
			rows = rows[:0:0]
			for _, r := range got[table] {
				if !strings.Contains(r, "backup.restored") {
					rows = append(rows, r)
				}
			}
		}
		if bad := subset(rows, src[table]); bad != "" {
			t.Errorf("table %s: restored row not in the source: %s", table, bad)
		}
	}
	for _, table := range []string{"secrets", "settings", "script_versions", "memory_notes"} {
		if _, ok := src[table]; !ok {
			continue
		}
		if !slices.Equal(got[table], src[table]) {
			t.Errorf("table %s differs:\n got %q\nwant %q", table, got[table], src[table])
		}
	}
	if len(got["conversations"]) != len(src["conversations"]) {
		t.Errorf("restored %d conversations, want %d", len(got["conversations"]), len(src["conversations"]))
	}
	if len(got["messages"]) < 1 {
		t.Errorf("no messages restored")
	}
	for _, f := range []string{"workspace/notes/todo.md", "workspace/MEMORY.md", "secure/master.key", "secure/config.yaml"} {
		a, _ := os.ReadFile(filepath.Join(l.dir, f))
		b, err := os.ReadFile(filepath.Join(target, f))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: restored %q (%v), want %q", f, b, err, a)
		}
	}
	checkRestoredVault(t, target)
}

// checkRestoredVault opens the restored vault with the restored key and
// checks that its secret decrypts and a redactor built from it knows it.
func checkRestoredVault(t *testing.T, dataDir string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dataDir, "secure", "airlock.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sealer, err := secrets.OpenKey(ctx, st, filepath.Join(dataDir, "secure", "master.key"), false)
	if err != nil {
		t.Fatal(err)
	}
	v, err := secrets.Open(ctx, st, sealer)
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Get(ctx, "WEATHER_KEY")
	if err != nil || got != canaryValue {
		t.Fatalf("restored secret does not decrypt to the original (err %v)", err)
	}
	vals, err := v.Values(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var list []redact.Secret
	for _, nv := range vals {
		list = append(list, redact.Secret{Name: nv.Name, Value: nv.Value})
	}
	r, err := redact.New(list)
	if err != nil {
		t.Fatal(err)
	}
	if out := r.String("the key is " + canaryValue); strings.Contains(out, canaryValue) || !strings.Contains(out, "[REDACTED:WEATHER_KEY]") {
		t.Fatalf("redactor of the restored vault leaves the secret: %q", out)
	}
}

// Truncated, bit-flipped and wrong-passphrase backups are refused with a
// clear error, and nothing is restored.
func TestDamagedBackupRefusedNothingRestored(t *testing.T) {
	ctx := context.Background()
	l := seed(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.age")
	if _, err := Create(ctx, l.src(), good, passEnc(t), time.Now()); err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte { b := slices.Clone(body); b[i] ^= 0x10; return b }
	tests := []struct {
		name string
		body []byte
		pass string
		want error
		text string
	}{
		{"truncated in the middle", body[:len(body)/2], testPass, ErrCorrupt, "truncated or altered"},
		{"truncated by one byte", body[:len(body)-1], testPass, ErrCorrupt, "truncated or altered"},
		{"empty file", nil, testPass, ErrCorrupt, "not an age-encrypted"},
		{"bit flipped in the data", flip(len(body) / 2), testPass, ErrCorrupt, "truncated or altered"},
		{"bit flipped at the end", flip(len(body) - 3), testPass, ErrCorrupt, "truncated or altered"},
		{"bit flipped in the header", flip(40), testPass, nil, ""},
		{"wrong passphrase", body, "not the passphrase at all", ErrDecrypt, "wrong passphrase"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "bad.age")
			writeFile(t, f, string(tt.body))
			if _, err := Verify(ctx, f, t.TempDir(), passDec(t, tt.pass), CheckOptions{}); err == nil {
				t.Fatal("Verify accepted a damaged backup")
			}
			target := filepath.Join(t.TempDir(), "data")
			_, err := Restore(ctx, f, target, passDec(t, tt.pass), RestoreOptions{})
			if err == nil {
				t.Fatal("Restore accepted a damaged backup")
			}
			if tt.want != nil && (!errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text)) {
				t.Errorf("err = %v, want %v mentioning %q", err, tt.want, tt.text)
			}
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrDecrypt) {
				t.Errorf("err = %v, want ErrCorrupt or ErrDecrypt", err)
			}
			if strings.Contains(err.Error(), tt.pass) || strings.Contains(err.Error(), canaryValue) {
				t.Errorf("error shows a secret: %v", err)
			}
			ents, _ := os.ReadDir(target)
			if len(ents) != 0 {
				t.Errorf("data directory holds %d entries after a refused restore", len(ents))
			}
		})
	}
}

// Restoring into a directory that holds data needs Force, which moves the
// old data aside instead of deleting it.
func TestRestoreIntoNonEmptyNeedsForce(t *testing.T) {
	ctx := context.Background()
	l := seed(t)
	out := filepath.Join(t.TempDir(), "b.age")
	if _, err := Create(ctx, l.src(), out, passEnc(t), time.Now()); err != nil {
		t.Fatal(err)
	}
	target := t.TempDir()
	writeFile(t, filepath.Join(target, "old.txt"), "precious")
	if err := os.MkdirAll(filepath.Join(target, "backups"), 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := Restore(ctx, out, target, passDec(t, testPass), RestoreOptions{})
	if !errors.Is(err, ErrNotEmpty) || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("err = %v, want ErrNotEmpty mentioning --force", err)
	}
	if _, err := os.Stat(filepath.Join(target, "secure")); err == nil {
		t.Fatal("a refused restore wrote data")
	}
	res, err := Restore(ctx, out, target, passDec(t, testPass), RestoreOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(filepath.Join(res.Aside, "old.txt"))
	if err != nil || string(old) != "precious" {
		t.Fatalf("old data not kept aside: %q, %v", old, err)
	}
	if _, err := os.Stat(filepath.Join(target, "backups")); err != nil {
		t.Errorf("the backups directory was moved: %v", err)
	}
	checkRestoredVault(t, target)
}

// A recipient backup made without the master key says so, and verifies
// only with the original key file.
func TestRecipientBackupWithoutMasterKey(t *testing.T) {
	ctx := context.Background()
	l := seed(t)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	enc, err := Recipient(id.Recipient().String())
	if err != nil {
		t.Fatal(err)
	}
	if enc, err = enc.WithoutMasterKey(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "r.age")
	m, err := Create(ctx, l.src(), out, enc, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if m.MasterKeyIncluded || m.Encryption != "recipient" {
		t.Fatalf("manifest = %+v", m)
	}
	dec, err := IdentityDecryption([]byte(id.String() + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(ctx, out, t.TempDir(), dec, CheckOptions{}); !errors.Is(err, ErrCheck) ||
		!strings.Contains(err.Error(), "master key") {
		t.Fatalf("verify without a key: err = %v", err)
	}
	rep, err := Verify(ctx, out, t.TempDir(), dec, CheckOptions{KeyPath: l.src().KeyPath})
	if err != nil || rep.Secrets != 1 {
		t.Fatalf("verify with the original key: %+v, %v", rep, err)
	}
	if _, err := Passphrase(testPass, testLogN); err != nil {
		t.Fatal(err)
	}
	if _, err := passEnc(t).WithoutMasterKey(); err == nil {
		t.Error("a passphrase backup may leave the master key out")
	}
	wrong, _ := age.GenerateX25519Identity()
	wdec, _ := IdentityDecryption([]byte(wrong.String()))
	if _, err := Verify(ctx, out, t.TempDir(), wdec, CheckOptions{KeyPath: l.src().KeyPath}); !errors.Is(err, ErrDecrypt) {
		t.Errorf("wrong identity: err = %v", err)
	}
}

// A backup from a newer Airlock is refused with a clear message.
func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	l := seed(t)
	known, _ := store.SchemaVersion()
	db, err := sql.Open("sqlite", filepath.Join(l.dir, "secure", "airlock.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", known+1)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out := filepath.Join(t.TempDir(), "b.age")
	if _, err := Create(ctx, l.src(), out, passEnc(t), time.Now()); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "data")
	_, err = Restore(ctx, out, target, passDec(t, testPass), RestoreOptions{})
	if !errors.Is(err, ErrTooNew) || !strings.Contains(err.Error(), "upgrade Airlock") {
		t.Fatalf("err = %v, want ErrTooNew", err)
	}
	if ents, _ := os.ReadDir(target); len(ents) != 0 {
		t.Errorf("refused restore left %d entries", len(ents))
	}
}

// A backup from an older Airlock (a database at the previous schema) is
// migrated when restored.
func TestOlderSchemaMigrated(t *testing.T) {
	ctx := context.Background()
	known, _ := store.SchemaVersion()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "secure"), 0o700); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "secure", "airlock.db")
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../store/migrations/*.sql")
	slices.Sort(files)
	for i, f := range files[:known-1] {
		body, _ := os.ReadFile(f)
		if _, err := db.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	k, _ := vault.GenerateKey()
	if err := vault.WriteKeyFile(filepath.Join(dir, "secure", "master.key"), k); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "old.age")
	m, err := Create(ctx, Source{DataDir: dir, KeyPath: filepath.Join(dir, "secure", "master.key")}, out, passEnc(t), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if m.Schema != known-1 {
		t.Fatalf("schema %d, want %d", m.Schema, known-1)
	}
	target := filepath.Join(t.TempDir(), "data")
	res, err := Restore(ctx, out, target, passDec(t, testPass), RestoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := store.FileSchemaVersion(ctx, filepath.Join(target, "secure", "airlock.db"))
	if !res.Migrated || v != known {
		t.Fatalf("migrated %v, schema %d, want %d", res.Migrated, v, known)
	}
}

// Create refuses to overwrite, and a short passphrase or a bad recipient
// is refused naming the problem.
func TestCreateRefusals(t *testing.T) {
	ctx := context.Background()
	l := seed(t)
	out := filepath.Join(t.TempDir(), "b.age")
	writeFile(t, out, "existing")
	if _, err := Create(ctx, l.src(), out, passEnc(t), time.Now()); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("overwrite: err = %v", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "existing" {
		t.Error("existing file changed")
	}
	if _, err := Passphrase("short", 0); err == nil || !strings.Contains(err.Error(), "too short") {
		t.Errorf("short passphrase: %v", err)
	}
	if _, err := Recipient("age1notarecipient"); err == nil || !strings.Contains(err.Error(), "recipient") {
		t.Errorf("bad recipient: %v", err)
	}
}
