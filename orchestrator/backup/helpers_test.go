package backup

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/secrets"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/redact"
)

// testPass is the passphrase of test backups; testLogN keeps scrypt cheap.
const (
	testPass    = "correct horse battery staple"
	testLogN    = 10
	canaryValue = "canary-secret-9f8e7d6c5b4a"
)

// live is a data directory with its store open, as a serving orchestrator
// holds it.
type live struct {
	dir   string
	st    *store.Store
	vault *secrets.Vault
	audit *audit.Log
	conv  string
}

func (l live) src() Source {
	return Source{DataDir: l.dir, KeyPath: filepath.Join(l.dir, "secure", "master.key"),
		ConfigFile: filepath.Join(l.dir, "secure", "config.yaml")}
}

// seed makes a data directory with a conversation, a secret, a setting,
// audit entries, a script version, a memory note, workspace files and a
// config file, and keeps its store open.
func seed(t testing.TB) live {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	for _, d := range []string{"secure", "workspace/notes"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	st, err := store.Open(ctx, filepath.Join(dir, "secure", "airlock.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sealer, err := secrets.OpenKey(ctx, st, filepath.Join(dir, "secure", "master.key"), true)
	if err != nil {
		t.Fatal(err)
	}
	v, err := secrets.Open(ctx, st, sealer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Set(ctx, "WEATHER_KEY", canaryValue); err != nil {
		t.Fatal(err)
	}
	l := live{dir: dir, st: st, vault: v, audit: audit.New(st, time.Now, &redact.Holder{})}
	for i := range 3 {
		l.appendAudit(t, fmt.Sprintf("seed.%d", i))
	}
	c, err := st.CreateConversation(ctx, "web", "first")
	if err != nil {
		t.Fatal(err)
	}
	l.conv = c.ID
	l.addMessage(t, "hello")
	if _, _, err := st.UpdateSettings(ctx, "admin", func(store.StoredSettings) (string, bool, error) {
		return `{"agent":{"max_rounds":7}}`, true, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.WriteMemory(ctx, store.MemoryNote{Text: "likes tea", Audience: "admin"}, false, 1<<20); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.InsertScriptVersion(ctx, store.ScriptVersion{Name: "weather", Source: "def main(): pass",
		SHA256: strings.Repeat("ab", 32), Status: store.ScriptApproved, Proposer: "assistant"}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "workspace", "notes", "todo.md"), "buy milk\n")
	writeFile(t, filepath.Join(dir, "workspace", "MEMORY.md"), "remember tea\n")
	writeFile(t, filepath.Join(dir, "secure", "config.yaml"), "log:\n  level: info\n")
	return l
}

func writeFile(t testing.TB, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (l live) appendAudit(t testing.TB, action string) {
	t.Helper()
	if _, err := l.audit.Append(context.Background(), audit.Event{Actor: "test", Action: action, Outcome: audit.OutcomeOK}); err != nil {
		t.Error(err)
	}
}

func (l live) addMessage(t testing.TB, text string) {
	t.Helper()
	if _, err := l.st.AddMessage(context.Background(), store.Message{ConversationID: l.conv, Role: store.RoleUser, Content: text}); err != nil {
		t.Error(err)
	}
}

func passEnc(t testing.TB) Encryption {
	t.Helper()
	e, err := Passphrase(testPass, testLogN)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func passDec(t testing.TB, p string) Decryption {
	t.Helper()
	d, err := PassphraseDecryption(p)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// dump returns every row of every ordinary table of the database at path,
// by table, each row as one string; FTS tables and their shadow tables are
// left out (their segments are an index of the rows compared elsewhere).
func dump(t testing.TB, path string) map[string][]string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	var names, virtual []string
	for rows.Next() {
		var n, s string
		if err := rows.Scan(&n, &s); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(strings.ToUpper(s), "CREATE VIRTUAL") {
			virtual = append(virtual, n)
			continue
		}
		names = append(names, n)
	}
	rows.Close()
	out := map[string][]string{}
next:
	for _, n := range names {
		for _, v := range virtual {
			if strings.HasPrefix(n, v+"_") {
				continue next
			}
		}
		out[n] = tableRows(t, db, n)
	}
	return out
}

func tableRows(t testing.TB, db *sql.DB, table string) []string {
	rows, err := db.Query(`SELECT * FROM "` + table + `"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(vals...))
	}
	sort.Strings(out)
	return out
}

// subset reports the first row of a missing from b, or "".
func subset(a, b []string) string {
	set := map[string]int{}
	for _, r := range b {
		set[r]++
	}
	for _, r := range a {
		if set[r] == 0 {
			return r
		}
		set[r]--
	}
	return ""
}
