package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The JSON columns (messages.tool_calls, script_versions.grants and
// findings) are the store's own format: these tests pin their bytes, so a
// renamed field in any other package cannot change what is on disk, and a
// database written by an earlier binary still reads back.
//
// go test ./orchestrator/store -run Golden -update rewrites the files; do
// that only for a deliberate format change, with a migration.

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// goldenCalls covers the cases whose encoding could drift: HTML characters
// (escaped by encoding/json), non-ASCII text, arguments that are not an
// object, and missing arguments.
var goldenCalls = []ToolCall{
	{ID: "call_1", Name: "workspace_write", Arguments: json.RawMessage(`{"content":"a <b> & \"c\"\nnaïve ✓","path":"notes/x.txt"}`)},
	{ID: "toolu_2", Name: "memory_read", Arguments: json.RawMessage(`{}`)},
	{ID: "c3", Name: "chat_send", Arguments: json.RawMessage(`"{broken"`)},
	{ID: "c4", Name: "web_fetch"},
}

var goldenGrants = Grants{Secrets: []string{"API_KEY", "B_TOKEN"}, Hosts: []string{"api.example.com"}, TimeoutMS: 10000}

var goldenFindings = []Finding{
	{Severity: "high", Line: 2, Rule: "undeclared-host", Message: `http.get("https://evil.example/<x>")`},
	{Severity: "info", Line: 0, Rule: "no-network", Message: "the script makes no request"},
}

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != strings.TrimSuffix(string(want), "\n") {
		t.Errorf("stored %s =\n%s\nwant (testdata/%s)\n%s", name, got, name, want)
	}
}

// readGolden returns testdata/name without its final newline.
func readGolden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(string(b), "\n")
}

func rawColumn(t *testing.T, db *sql.DB, query string, args ...any) string {
	t.Helper()
	var s string
	if err := db.QueryRow(query, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return s
}

func TestGoldenToolCalls(t *testing.T) {
	s, _, path := newTestStore(t)
	ctx := context.Background()
	c := mustConversation(t, s)
	m, err := s.AddMessage(ctx, Message{ConversationID: c.ID, TaskID: "t_1", Role: "assistant", ToolCalls: goldenCalls})
	if err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	checkGolden(t, "tool_calls.golden", rawColumn(t, db, "SELECT tool_calls FROM messages WHERE id = ?", m.ID))

	// A row as an earlier binary wrote it reads back as the same calls.
	if _, err := db.Exec("UPDATE messages SET tool_calls = ? WHERE id = ?", readGolden(t, "tool_calls.golden"), m.ID); err != nil {
		t.Fatal(err)
	}
	got, err := s.Messages(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := asReadBack(goldenCalls)
	if len(got) != 1 || !reflect.DeepEqual(got[0].ToolCalls, want) {
		t.Errorf("read back %+v, want %+v", got, want)
	}
}

// asReadBack is goldenCalls as they read back: compact JSON, and a
// missing argument object as JSON null.
func asReadBack(calls []ToolCall) []ToolCall {
	b, _ := json.Marshal(calls)
	var out []ToolCall
	_ = json.Unmarshal(b, &out)
	return out
}

func TestGoldenScriptColumns(t *testing.T) {
	s, _, path := newTestStore(t)
	ctx := context.Background()
	v := testVersion("weather", "print(1)\n")
	v.Grants, v.Findings = goldenGrants, goldenFindings
	mustInsert(t, s, v)
	db := rawDB(t, path)
	const q = "SELECT %s FROM script_versions WHERE name = ? AND sha256 = ?"
	checkGolden(t, "grants.golden", rawColumn(t, db, strings.Replace(q, "%s", "grants", 1), v.Name, v.SHA256))
	checkGolden(t, "findings.golden", rawColumn(t, db, strings.Replace(q, "%s", "findings", 1), v.Name, v.SHA256))

	// Empty grants and findings are stored as empty lists, not null.
	e := testVersion("empty", "print(2)\n")
	e.Grants, e.Findings = Grants{}, nil
	mustInsert(t, s, e)
	checkGolden(t, "grants_empty.golden", rawColumn(t, db, strings.Replace(q, "%s", "grants", 1), e.Name, e.SHA256))
	checkGolden(t, "findings_empty.golden", rawColumn(t, db, strings.Replace(q, "%s", "findings", 1), e.Name, e.SHA256))

	// Rows as an earlier binary wrote them read back.
	if _, err := db.Exec("UPDATE script_versions SET grants = ?, findings = ? WHERE name = ? AND sha256 = ?",
		readGolden(t, "grants.golden"), readGolden(t, "findings.golden"), e.Name, e.SHA256); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetScriptVersion(ctx, e.Name, e.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Grants, goldenGrants) || !reflect.DeepEqual(got.Findings, goldenFindings) {
		t.Errorf("read back grants %+v findings %+v, want %+v %+v", got.Grants, got.Findings, goldenGrants, goldenFindings)
	}
}
