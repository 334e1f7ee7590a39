package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/llm/llmtest"
)

const backupCanary = "backup-canary-secret-5a4b3c2d1e"

// cli runs the orchestrator binary with the stack's environment and args,
// and returns its combined output and whether it succeeded.
func (s *stack) cli(args ...string) (string, bool) {
	s.t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "orchestrator"), append([]string{"--dev"}, args...)...)
	cmd.Dir = s.dir
	cmd.Env = s.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err == nil
}

// A backup taken with the CLI while a conversation waits on a script run
// (its HTTP call held by the test server) restores, with the CLI, into a
// new data directory where a new orchestrator serves the same
// conversation, approved script, secret (its redactor knows it) and a
// verifying audit chain. Damaged or wrongly decrypted backups and a
// non-empty target without --force are refused.
func TestBackupRestoreCLI(t *testing.T) {
	held, release := make(chan struct{}, 1), make(chan struct{})
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		held <- struct{}{}
		<-release
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"city": "Paris", "temp_c": 21}`)
	}))
	defer api.Close()
	s := startStack(t, stackOpts{dev: true, env: []string{"AIRLOCK_EGRESS_ALLOW=127.0.0.1"}})
	s.waitReady()
	for _, sec := range []struct{ name, value string }{{"WEATHER_KEY", backupCanary}, {"WEATHER_API_KEY", weatherKey}} {
		if code := s.do("PUT", "/api/v1/secrets/"+sec.name, map[string]string{"value": sec.value}, nil); code >= 300 {
			t.Fatalf("set secret: %d", code)
		}
	}
	pass := filepath.Join(s.dir, "pass.txt")
	if err := os.WriteFile(pass, []byte("a long backup passphrase\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conv := s.newConversation()
	res := s.callTool(conv, tools.ScriptPropose, map[string]any{"name": "weather", "source": weatherSource(api.URL, "v1")})
	var prop tools.ScriptProposeResult
	if err := json.Unmarshal([]byte(res.Content), &prop); err != nil || len(prop.SHA256) != 64 {
		t.Fatalf("script_propose: %q", res.Content)
	}
	if code := s.do("POST", "/api/v1/scripts/weather/versions/"+prop.SHA256+"/approve", nil, nil); code != http.StatusOK {
		t.Fatalf("approve: %d", code)
	}
	s.llm.Reset()
	s.llm.Enqueue(llmtest.Reply{ToolCalls: []llmtest.Call{{Name: tools.ScriptRun,
		Args: map[string]any{"name": "weather", "function": "current", "args": []any{"Paris"}}}}},
		llmtest.Reply{Text: "It is 21 degrees"})
	done := make(chan reply, 1)
	go func() {
		var r reply
		s.do("POST", "/api/v1/conversations/"+conv+"/messages", map[string]string{"text": "in flight question"}, &r)
		done <- r
	}()
	select {
	case <-held: // the script's HTTP call is in flight
	case <-time.After(60 * time.Second):
		t.Fatalf("the script never called the API:\n%s", s.logs.String())
	}
	out := filepath.Join(s.dir, "airlock.age")
	msg, ok := s.cli("backup", "--out", out, "--passphrase-file", pass)
	if !ok || !strings.Contains(msg, "master key: INCLUDED") {
		t.Fatalf("backup while serving failed:\n%s", msg)
	}
	close(release)
	if r := <-done; r.Reply != "It is 21 degrees" {
		t.Errorf("the in-flight conversation was disturbed: %+v", r)
	}
	if msg, ok := s.cli("backup", "--verify", out, "--passphrase-file", pass); !ok || !strings.Contains(msg, "backup OK") {
		t.Fatalf("verify failed:\n%s", msg)
	}
	s.verifyAudit()
	s.stop()

	// Refusals: a wrong passphrase, a truncated copy, a non-empty target.
	wrong := filepath.Join(s.dir, "wrong.txt")
	os.WriteFile(wrong, []byte("not the right passphrase\n"), 0o600)
	if msg, ok := s.cli("restore", out, "--force", "--passphrase-file", wrong); ok || !strings.Contains(msg, "wrong passphrase") {
		t.Errorf("wrong passphrase: ok=%v\n%s", ok, msg)
	}
	if m, _ := filepath.Glob(filepath.Join(s.dataDir, ".airlock-*")); len(m) != 0 {
		t.Errorf("a refused restore left %v", m)
	}
	body, _ := os.ReadFile(out)
	cut := filepath.Join(s.dir, "cut.age")
	os.WriteFile(cut, body[:len(body)*2/3], 0o600)
	if msg, ok := s.cli("backup", "--verify", cut, "--passphrase-file", pass); ok || !strings.Contains(msg, "truncated or altered") {
		t.Errorf("truncated backup: ok=%v\n%s", ok, msg)
	}
	if msg, ok := s.cli("restore", out, "--passphrase-file", pass); ok || !strings.Contains(msg, "--force") {
		t.Errorf("restore over the live data without --force: ok=%v\n%s", ok, msg)
	}

	// Restore on a "new machine".
	r := startStackRestored(t, out, pass)
	var secretList struct {
		Secrets []struct {
			Name string `json:"name"`
		} `json:"secrets"`
	}
	r.do("GET", "/api/v1/secrets", nil, &secretList)
	found := false
	for _, sc := range secretList.Secrets {
		found = found || sc.Name == "WEATHER_KEY"
	}
	if !found {
		t.Errorf("restored secrets = %+v, want WEATHER_KEY", secretList)
	}
	msgs := r.messages(conv)
	var asked bool
	for _, m := range msgs {
		asked = asked || (m.Role == "user" && m.Content == "in flight question")
	}
	if !asked {
		t.Errorf("restored conversation lacks the in-flight question: %+v", msgs)
	}
	var script map[string]any
	if code := r.do("GET", "/api/v1/scripts/weather", nil, &script); code != http.StatusOK {
		t.Fatalf("restored script: %d", code)
	}
	if raw, _ := json.Marshal(script); !strings.Contains(string(raw), prop.SHA256) || !strings.Contains(string(raw), "approved") {
		t.Errorf("the restored script is not approved at %s: %s", prop.SHA256, raw)
	}
	r.verifyAudit()
	r.llm.Enqueue(llmtest.Reply{Text: "the key is " + backupCanary})
	c2 := r.newConversation()
	if rep := r.send(c2, "tell me"); strings.Contains(rep.Reply, backupCanary) || !strings.Contains(rep.Reply, "[REDACTED:WEATHER_KEY]") {
		t.Errorf("the restored orchestrator's redactor does not know the secret: %q", rep.Reply)
	}
}

// startStackRestored restores backup into a new directory with the CLI and
// starts an orchestrator on it.
func startStackRestored(t *testing.T, backup, pass string) *stack {
	dir := t.TempDir()
	s := &stack{t: t, dir: dir, dataDir: filepath.Join(dir, ".airlock"), dev: true,
		env: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "AIRLOCK_DATA_DIR=" + filepath.Join(dir, ".airlock")}}
	msg, ok := s.cli("restore", backup, "--passphrase-file", pass)
	if !ok || !strings.Contains(msg, "restored") {
		t.Fatalf("restore failed:\n%s", msg)
	}
	r := startStack(t, stackOpts{dev: true, dir: dir})
	r.waitReady()
	var st struct{}
	if code := r.do("GET", "/api/v1/status", nil, &st); code != http.StatusOK {
		t.Fatalf("status after restore: %d", code)
	}
	return r
}

// A backup made through the API by the serving (Landlock-confined)
// orchestrator lands in a backups directory outside the data directory,
// is verified, and opens with the generated passphrase; the dashboard's
// warning goes away.
func TestScheduledBackupDirOutsideDataDir(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "mnt-backups")
	s := startStack(t, stackOpts{dev: true, env: []string{"AIRLOCK_BACKUP_DIR=" + outside}})
	s.waitReady()
	var list struct {
		Backups []struct {
			Name     string `json:"name"`
			Bytes    int64  `json:"bytes"`
			Verified *struct {
				OK      bool   `json:"ok"`
				Problem string `json:"problem"`
			} `json:"verified"`
		} `json:"backups"`
		Running bool   `json:"running"`
		Warning string `json:"warning"`
	}
	if code := s.do("POST", "/api/v1/backups", map[string]any{}, nil); code != http.StatusAccepted {
		t.Fatalf("POST /api/v1/backups: %d", code)
	}
	waitFor(t, 60*time.Second, "a verified backup", func() bool {
		list.Backups, list.Warning = nil, "" // omitted fields must not keep an earlier poll's value
		s.do("GET", "/api/v1/backups", nil, &list)
		return len(list.Backups) > 0 && list.Backups[0].Verified != nil
	})
	b := list.Backups[0]
	if !b.Verified.OK || list.Warning != "" {
		t.Fatalf("backup %+v: verified %+v, warning %q\n%s", b, b.Verified, list.Warning, s.logs.String())
	}
	file := filepath.Join(outside, b.Name)
	msg, ok := s.cli("backup", "--verify", file, "--passphrase-file", filepath.Join(s.dataDir, "secure", "backup.passphrase"))
	if !ok || !strings.Contains(msg, "backup OK") {
		t.Fatalf("verify the scheduled backup:\n%s", msg)
	}
	if !strings.Contains(s.logs.String(), "limited by Landlock") {
		t.Log("Landlock is not applied on this kernel: the backup directory rule is not exercised here")
	} else {
		t.Log("written by the orchestrator under its own Landlock rules")
	}
	if strings.Contains(s.logs.String(), "landlock") && strings.Contains(s.logs.String(), "permission denied") {
		t.Errorf("Landlock refused something:\n%s", s.logs.String())
	}
}
