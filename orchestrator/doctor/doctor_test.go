package doctor

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/egress"
)

// On a correct deployment every check passes; with Deep off the probes
// are skipped and say why.
func TestCorrectDeploymentPasses(t *testing.T) {
	f := newFixture(t)
	rep := f.run(t)
	if len(rep.Checks) != len(IDs()) || len(rep.Checks) < 40 {
		t.Fatalf("%d results for %d checks", len(rep.Checks), len(IDs()))
	}
	for _, c := range rep.Checks {
		if c.Status != Pass {
			t.Errorf("%s: %s (%s)", c.ID, c.Status, c.Evidence)
		}
		if c.Fix == "" || c.Title == "" || c.Severity == "" {
			t.Errorf("%s: empty title, fix or severity", c.ID)
		}
	}
	if rep.ExitCode() != 0 {
		t.Errorf("exit code %d", rep.ExitCode())
	}
	f.env.Deep = false
	for _, id := range []string{"deep.egress_guard", "deep.model", "deep.discord"} {
		if r := f.result(t, id); r.Status != Skipped || !strings.Contains(r.Evidence, "--deep") {
			t.Errorf("%s without deep: %+v", id, r)
		}
	}
}

// Every check, broken, fails or warns, and its evidence says what it saw.
func TestBrokenConditions(t *testing.T) {
	tests := []struct {
		id     string
		want   Status
		seen   string
		breakf func(t *testing.T, f *fixture)
	}{
		{"process.not_root", Fail, "includes root", func(t *testing.T, f *fixture) {
			f.proc(t, orchPID, func(p *procFile) { p.uid = "0\t0\t0\t0" })
		}},
		{"process.no_new_privs", Fail, "NoNewPrivs 0", func(t *testing.T, f *fixture) {
			f.proc(t, orchPID, func(p *procFile) { p.noNewPrivs = 0 })
		}},
		{"process.cap_eff", Fail, "CAP_NET_ADMIN", func(t *testing.T, f *fixture) {
			f.proc(t, orchPID, func(p *procFile) { p.capEff = "0000000000001000" })
		}},
		{"process.seccomp", Fail, "mode 0", func(t *testing.T, f *fixture) {
			f.proc(t, orchPID, func(p *procFile) { p.seccomp = 0 })
		}},
		{"process.readonly_root", Fail, "rw,relatime", func(t *testing.T, f *fixture) {
			f.proc(t, orchPID, func(p *procFile) { p.mountOpts = "rw,relatime" })
		}},
		{"process.memory_limit", Fail, "memory.max is max", func(t *testing.T, f *fixture) {
			must(t, os.WriteFile(filepath.Join(f.env.CgroupRoot, "memory.max"), []byte("max\n"), 0o644))
		}},
		{"process.pids_limit", Fail, "pids.max is max", func(t *testing.T, f *fixture) {
			must(t, os.WriteFile(filepath.Join(f.env.CgroupRoot, "pids.max"), []byte("max\n"), 0o644))
		}},
		{"process.container_caps", Fail, "CAP_NET_ADMIN", func(t *testing.T, f *fixture) {
			f.proc(t, 1, func(p *procFile) { p.uid, p.capBnd = "0\t0\t0\t0", "00000000000011e1" })
		}},
		{"process.landlock", Warn, "not limited", func(t *testing.T, f *fixture) {
			f.env.Live.LandlockFiles, f.env.Live.LandlockNotes = false, []string{"ENOSYS"}
		}},
		{"worker.connected", Fail, "no worker", func(t *testing.T, f *fixture) { f.env.Live.WorkerPID = 0 }},
		{"worker.uid", Fail, "worker uid", func(t *testing.T, f *fixture) {
			f.proc(t, workerPID, func(p *procFile) { p.uid = "10001\t10001\t10001\t10001" })
		}},
		{"worker.groups", Fail, "also in 27", func(t *testing.T, f *fixture) {
			f.proc(t, workerPID, func(p *procFile) { p.groups += " 27" })
		}},
		{"worker.cap_eff", Fail, "CAP_SYS_ADMIN", func(t *testing.T, f *fixture) {
			f.proc(t, workerPID, func(p *procFile) { p.capEff = "0000000000200000" })
		}},
		{"worker.no_new_privs", Fail, "NoNewPrivs 0", func(t *testing.T, f *fixture) {
			f.proc(t, workerPID, func(p *procFile) { p.noNewPrivs = 0 })
		}},
		{"worker.confinement", Fail, "network refused off", func(t *testing.T, f *fixture) {
			f.env.Live.WorkerConfinement.Reported = &tools.Confinement{Seccomp: true, LandlockABI: 0,
				Problems: []string{"landlock: not supported"}}
		}},
		// Only Landlock missing: the network is still refused, a warning.
		{"worker.confinement", Warn, "Landlock's file rules are not applied", func(t *testing.T, f *fixture) {
			f.env.Live.WorkerConfinement.Reported = &tools.Confinement{Seccomp: true, NetworkRefused: true,
				Problems: []string{"landlock: not supported"}}
		}},
		{"worker.confinement", Fail, "kernel seccomp off", func(t *testing.T, f *fixture) {
			f.env.Live.WorkerConfinement.KernelSeccomp = false
		}},
		{"worker.data_access", Fail, "can read", func(t *testing.T, f *fixture) {
			must(t, os.Chmod(f.env.Config.DataDir, 0o755))
			must(t, os.Chmod(f.env.Config.SecureDir(), 0o755))
			must(t, os.Chmod(f.env.Config.DBPath(), 0o644))
		}},
		{"files.data_dir", Fail, "0755", func(t *testing.T, f *fixture) { must(t, os.Chmod(f.env.Config.DataDir, 0o755)) }},
		{"files.secure_dir", Fail, "0750", func(t *testing.T, f *fixture) { must(t, os.Chmod(f.env.Config.SecureDir(), 0o750)) }},
		{"files.master_key", Fail, "mode 0644", func(t *testing.T, f *fixture) {
			must(t, os.Chmod(f.env.Config.MasterKeyPath(), 0o644))
		}},
		{"files.token_key", Fail, "is 16 bytes", func(t *testing.T, f *fixture) {
			must(t, os.WriteFile(filepath.Join(f.env.Config.SecureDir(), "jwt.key"), make([]byte, 16), 0o600))
		}},
		{"files.database", Fail, "airlock.db 0640", func(t *testing.T, f *fixture) { must(t, os.Chmod(f.env.Config.DBPath(), 0o640)) }},
		{"files.data_modes", Warn, "notes.md 0644", func(t *testing.T, f *fixture) {
			must(t, os.WriteFile(filepath.Join(f.env.Config.WorkspaceDir(), "notes.md"), []byte("x"), 0o644))
			must(t, os.Chmod(filepath.Join(f.env.Config.WorkspaceDir(), "notes.md"), 0o644))
		}},
		{"files.socket_dir", Fail, "0777", func(t *testing.T, f *fixture) {
			must(t, os.Chmod(filepath.Dir(f.env.Config.Socket), 0o777))
		}},
		{"files.socket", Fail, "0666", func(t *testing.T, f *fixture) { must(t, os.Chmod(f.env.Config.Socket, 0o666)) }},
		{"secrets.plain_env", Warn, "DISCORD_TOKEN", func(t *testing.T, f *fixture) {
			f.env.Config.DiscordTokenSource = "env DISCORD_TOKEN"
		}},
		{"secrets.master_key_location", Warn, "next to the database", func(t *testing.T, f *fixture) {
			f.env.Config.MasterKeyFile = ""
		}},
		{"secrets.vault_key", Fail, "not the key", func(t *testing.T, f *fixture) {
			must(t, os.WriteFile(f.env.Config.MasterKeyPath(), bytes.Repeat([]byte{7}, 32), 0o600))
		}},
		{"exposure.dev_bind", Fail, "0.0.0.0:8080", func(t *testing.T, f *fixture) {
			f.env.Config.Dev, f.env.Config.HTTPAddr = true, "0.0.0.0:8080"
		}},
		{"exposure.allowed_hosts", Warn, `"*"`, func(t *testing.T, f *fixture) { f.env.Config.HTTP.AllowedHosts = []string{"*"} }},
		{"exposure.trusted_proxies", Warn, "0.0.0.0/0", func(t *testing.T, f *fixture) {
			f.env.Config.HTTP.TrustedProxies = []string{"0.0.0.0/0"}
		}},
		{"exposure.review_url", Warn, "not https", func(t *testing.T, f *fixture) {
			f.env.Settings.Discord.ReviewBaseURL = "http://airlock.example.org"
		}},
		{"exposure.metrics", Warn, "needs no sign-in", func(t *testing.T, f *fixture) {
			f.env.Config.HTTP.AllowedHosts = []string{"airlock.example.org"}
		}},
		{"setup.window", Warn, "open for", func(t *testing.T, f *fixture) {
			must(t, f.st.WriteTx(context.Background(), func(tx *sql.Tx) error {
				_, err := tx.Exec("DELETE FROM sessions; DELETE FROM admins")
				return err
			}))
			f.env.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
		}},
		{"setup.admin_login", Warn, "last sign-in", func(t *testing.T, f *fixture) {
			f.env.Now = func() time.Time { return time.Now().Add(100 * 24 * time.Hour) }
		}},
		{"ai.budgets", Warn, "requests/day 0", func(t *testing.T, f *fixture) { f.env.Settings.LLM.RequestsPerDay = 0 }},
		{"ai.limits", Warn, "max rounds 50", func(t *testing.T, f *fixture) { f.env.Settings.Agent.MaxRounds = 50 }},
		{"ai.egress_allow", Fail, "10.0.0.0/8", func(t *testing.T, f *fixture) {
			f.env.Settings.EgressAllow = []string{"192.168.1.10/32", "10.0.0.0/8"}
		}},
		{"ai.dev_mode", Warn, "dev mode", func(t *testing.T, f *fixture) { f.env.Config.Dev = true }},
		{"scripts.secrets", Warn, "weather (API_KEY)", func(t *testing.T, f *fixture) {
			f.approve(t, "weather", store.Grants{Secrets: []string{"API_KEY"}, Hosts: []string{"api.example.org"}}, 0)
		}},
		{"scripts.hosts", Warn, "*.example.org", func(t *testing.T, f *fixture) {
			f.approve(t, "wide", store.Grants{Hosts: []string{"*.example.org"}}, 0)
		}},
		{"scripts.hosts_egress", Warn, "10.1.2.3 (reached through the egress allowlist)", func(t *testing.T, f *fixture) {
			f.env.Settings.EgressAllow = []string{"10.1.2.3"}
			f.approve(t, "nas", store.Grants{Hosts: []string{"10.1.2.3"}}, 0)
		}},
		{"scripts.pending_old", Warn, "pending for more than a week", func(t *testing.T, f *fixture) {
			f.propose(t, "old", time.Now().Add(-8*24*time.Hour))
		}},
		{"discord.allowlist", Warn, "answers nobody", func(t *testing.T, f *fixture) { f.env.Settings.Discord.AllowedUsers = nil }},
		{"discord.channels", Warn, "998877", func(t *testing.T, f *fixture) {
			f.env.Settings.Discord.AllowedChannels = []string{"998877"}
		}},
		{"data.audit_chain", Fail, "chain broken", func(t *testing.T, f *fixture) {
			must(t, f.st.WriteTx(context.Background(), func(tx *sql.Tx) error {
				if err := dropTriggers(tx); err != nil {
					return err
				}
				_, err := tx.Exec("UPDATE audit SET actor = 'mallory'")
				return err
			}))
		}},
		{"data.disk_space", Warn, "100.0 MiB free", func(t *testing.T, f *fixture) {
			f.env.DiskFree = func(string) (uint64, uint64, error) { return 100 << 20, 100 << 30, nil }
		}},
		{"data.search_index", Warn, "1 messages wait for the index, the oldest stored 1970-01-01T00:00:00Z: memory search does not find them", func(t *testing.T, f *fixture) {
			// Written around the store, so nothing schedules its indexing.
			must(t, f.st.WriteTx(context.Background(), func(tx *sql.Tx) error {
				_, err := tx.Exec("INSERT INTO conversations (id, source, title, created_at, updated_at, audience) VALUES ('c_doctor', 'api', '', 1, 1, 'admin');" +
					" INSERT INTO messages (id, conversation_id, task_id, role, content, tool_calls, tool_call_id, tool_name, is_error, created_at)" +
					" VALUES ('m_doctor', 'c_doctor', 't', 'user', 'never indexed', NULL, '', '', 0, 1)")
				return err
			}))
		}},
		{"data.db_size", Warn, "less free space than the database", func(t *testing.T, f *fixture) {
			f.env.DiskFree = func(string) (uint64, uint64, error) { return 1 << 10, 100 << 30, nil }
		}},
		{"deep.egress_guard", Fail, "169.254.169.254", func(t *testing.T, f *fixture) {
			f.env.Probes.Egress = func(_ context.Context, u string) error {
				if strings.Contains(u, "169.254") {
					return errors.New("dial tcp: i/o timeout")
				}
				return egress.ErrRefused
			}
		}},
		{"deep.model", Fail, "did not answer: 401", func(t *testing.T, f *fixture) {
			f.env.Probes.Model = func(context.Context) (ModelProbe, error) { return ModelProbe{}, errors.New("401 unauthorized") }
		}},
		{"discord.public_servers", Warn, `555 in server "Big Hangout" (777): COMMUNITY`, func(t *testing.T, f *fixture) {
			f.env.Settings.Discord.AllowedChannels = []string{"555"}
			f.env.Probes.DiscordChannel = func(context.Context, string) (DiscordChannel, error) {
				return DiscordChannel{GuildID: "777", GuildName: "Big Hangout", Features: []string{"NEWS", "COMMUNITY"}, Members: 12}, nil
			}
		}},
		{"deep.discord", Fail, "refused the token", func(t *testing.T, f *fixture) {
			f.env.Probes.Discord = func(context.Context) error { return errors.New("HTTP 401") }
		}},
	}
	covered := map[string]bool{"data.integrity": true} // TestIntegrityCheck
	for i, tt := range tests {
		covered[tt.id] = true
		t.Run(tt.id+"_"+string(tt.want)+"_"+strconv.Itoa(i), func(t *testing.T) {
			f := newFixture(t)
			if r := f.result(t, tt.id); r.Status != Pass {
				t.Fatalf("before breaking: %+v", r)
			}
			tt.breakf(t, f)
			r := f.result(t, tt.id)
			if r.Status != tt.want || !strings.Contains(r.Evidence, tt.seen) {
				t.Fatalf("got %s %q, want %s with %q", r.Status, r.Evidence, tt.want, tt.seen)
			}
		})
	}
	for _, id := range IDs() {
		if !covered[id] {
			t.Errorf("check %s has no breaking test", id)
		}
	}
}

func (f *fixture) approve(t *testing.T, name string, g store.Grants, age time.Duration) {
	t.Helper()
	ctx := context.Background()
	v := store.ScriptVersion{Name: name, SHA256: strings.Repeat("a", 63) + string(rune('0'+len(name)%10)), Source: "x",
		Grants: g, Status: store.ScriptPending, Proposer: "ai", CreatedAt: time.Now().Add(-age)}
	_, _, err := f.st.InsertScriptVersion(ctx, v)
	must(t, err)
	_, err = f.st.ApproveScript(ctx, store.ScriptDecision{Name: name, SHA256: v.SHA256, By: "admin", At: time.Now()})
	must(t, err)
}

func (f *fixture) propose(t *testing.T, name string, at time.Time) {
	t.Helper()
	v := store.ScriptVersion{Name: name, SHA256: strings.Repeat("b", 64), Source: "x", Status: store.ScriptPending,
		Proposer: "ai", CreatedAt: at}
	_, _, err := f.st.InsertScriptVersion(context.Background(), v)
	must(t, err)
}

// A corrupted database file fails the integrity check, with Deep's full
// integrity_check.
func TestIntegrityCheck(t *testing.T) {
	f := newFixture(t)
	if r := f.result(t, "data.integrity"); r.Status != Pass || !strings.Contains(r.Evidence, "integrity_check: ok") {
		t.Fatalf("sound: %+v", r)
	}
	ctx := context.Background()
	must(t, f.st.WriteTx(ctx, func(tx *sql.Tx) error {
		for i := range 300 {
			if _, err := tx.Exec("INSERT INTO audit (time, actor, action, target, outcome, details, prev_hash, hash) VALUES (?, 'a', 'b', 'c', 'd', ?, '', '')",
				i, strings.Repeat("z", 500)); err != nil {
				return err
			}
		}
		return nil
	}))
	path := f.env.Config.DBPath()
	f.st.Close()
	// Checkpointed on close: the pages are in the main file. Scribble over
	// the middle of it, leaving the header alone.
	b, err := os.ReadFile(path)
	must(t, err)
	for i := len(b) / 2; i < len(b)/2+8192 && i < len(b); i++ {
		b[i] = 0xA5
	}
	must(t, os.WriteFile(path, b, 0o600))
	st, err := store.OpenReadOnly(ctx, path, nil)
	if err == nil {
		defer st.Close()
	}
	f.env.Store, f.env.StoreErr = st, err
	if r := f.result(t, "data.integrity"); r.Status != Fail {
		t.Fatalf("corrupted: %+v", r)
	}
}

// The exit status: 2 with a failure, 1 with a warning, 0 otherwise; a
// warning of severity info is a note.
func TestExitCode(t *testing.T) {
	tests := []struct {
		checks []Result
		want   int
	}{
		{[]Result{{Status: Pass}, {Status: Skipped}}, 0},
		{[]Result{{Status: Pass}, {Status: Warn, Severity: Info}}, 0},
		{[]Result{{Status: Warn, Severity: Low}, {Status: Pass}}, 1},
		{[]Result{{Status: Warn, Severity: Low}, {Status: Fail, Severity: High}}, 2},
	}
	for i, tt := range tests {
		if got := (Report{Checks: tt.checks}).ExitCode(); got != tt.want {
			t.Errorf("%d: exit %d, want %d", i, got, tt.want)
		}
	}
}

// Worst first: failures by severity, then warnings, skipped, passes.
func TestWorstFirst(t *testing.T) {
	rep := Report{Checks: []Result{{ID: "a", Status: Pass, Severity: Critical}, {ID: "b", Status: Warn, Severity: Low},
		{ID: "c", Status: Fail, Severity: Medium}, {ID: "d", Status: Fail, Severity: Critical}, {ID: "e", Status: Skipped}}}
	var ids []string
	for _, r := range rep.Worst() {
		ids = append(ids, r.ID)
	}
	if !slices.Equal(ids, []string{"d", "c", "b", "e", "a"}) {
		t.Fatalf("order %v", ids)
	}
}

// Evidence never carries a secret: a token in the environment is named,
// never shown, and the JSON has the SPEC's shape.
func TestNoSecretInReport(t *testing.T) {
	f := newFixture(t)
	const canary = "canary-DISCORD-TOKEN-b3f1c2"
	f.env.Config.DiscordTokenSource = "env DISCORD_TOKEN"
	f.env.Getenv = func(k string) string {
		if k == "DISCORD_TOKEN" {
			return canary
		}
		return ""
	}
	f.env.Probes.Discord = func(context.Context) error { return errors.New("401: [REDACTED:DISCORD_TOKEN]") }
	b, err := json.Marshal(f.run(t))
	must(t, err)
	if strings.Contains(string(b), canary) {
		t.Fatal("the token is in the report")
	}
	var shape struct {
		Checks []map[string]any `json:"checks"`
	}
	must(t, json.Unmarshal(b, &shape))
	for _, c := range shape.Checks {
		for _, k := range []string{"id", "title", "severity", "status", "evidence", "fix"} {
			if _, ok := c[k]; !ok {
				t.Fatalf("no %q in %v", k, c)
			}
		}
		if len(c) != 6 {
			t.Fatalf("extra keys in %v", c)
		}
	}
}

// Dev mode: the checks that need the container are skipped with the reason.
func TestDevModeSkips(t *testing.T) {
	f := newFixture(t)
	f.env.Config.Dev, f.env.Config.HTTPAddr = true, "127.0.0.1:8080"
	rep := f.run(t)
	for _, id := range []string{"process.seccomp", "process.readonly_root", "worker.uid", "worker.data_access", "files.socket"} {
		r, _ := rep.Find(id)
		if r.Status != Skipped || !strings.Contains(r.Evidence, "dev mode") {
			t.Errorf("%s: %+v", id, r)
		}
	}
}

// Doctor changes nothing: the files and the database are as they were.
func TestChangesNothing(t *testing.T) {
	f := newFixture(t)
	before := snapshot(t, f.env.Config.DataDir)
	f.run(t)
	if after := snapshot(t, f.env.Config.DataDir); !maps(before, after) {
		t.Fatalf("files changed:\n%v\n%v", before, after)
	}
}

func snapshot(t *testing.T, dir string) map[string]string {
	m := map[string]string{}
	must(t, filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, "-shm") || strings.HasSuffix(p, "-wal") {
			return nil // SQLite's own
		}
		m[p] = fi.Mode().String() + " " + fi.ModTime().String()
		return nil
	}))
	return m
}

func maps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// A read-only store refuses writes.
func TestOpenReadOnlyRefusesWrites(t *testing.T) {
	f := newFixture(t)
	st, err := store.OpenReadOnly(context.Background(), f.env.Config.DBPath(), nil)
	must(t, err)
	defer st.Close()
	err = st.WriteTx(context.Background(), func(tx *sql.Tx) error {
		_, err := tx.Exec("DELETE FROM audit")
		return err
	})
	if err == nil {
		t.Fatal("a write through the read-only store succeeded")
	}
}

// dropTriggers drops the audit table's append-only triggers, to forge an
// edit as someone with the file would.
func dropTriggers(tx *sql.Tx) error {
	rows, err := tx.Query("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit'")
	if err != nil {
		return err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return err
		}
		names = append(names, n)
	}
	rows.Close()
	for _, n := range names {
		if _, err := tx.Exec("DROP TRIGGER " + n); err != nil {
			return err
		}
	}
	return nil
}

// The text report: problems first, each with what was seen and its fix;
// a summary line at the end.
func TestWriteText(t *testing.T) {
	f := newFixture(t)
	f.env.Settings.LLM.TokensPerDay = 0
	var b bytes.Buffer
	must(t, f.run(t).WriteText(&b))
	out := b.String()
	first, _, _ := strings.Cut(out, "\n")
	if !strings.HasPrefix(first, "WARN") || !strings.Contains(first, "ai.budgets") {
		t.Fatalf("first line %q, want the budgets warning", first)
	}
	if !strings.Contains(out, "fix: set requests and tokens per day") ||
		!strings.Contains(out, "checks: ") || !strings.Contains(out, "1 warn, 0 fail") {
		t.Fatalf("text report:\n%s", out)
	}
}

// cgroup v1 (Docker on a v1 host): the limits are read from the memory and
// pids controllers; v1's "unlimited" memory value is no limit.
func TestCgroupV1Limits(t *testing.T) {
	f := newFixture(t)
	f.proc(t, orchPID, func(p *procFile) {
		p.cgroups = "11:memory:/docker/abc\n8:pids:/docker/abc\n1:name=systemd:/docker/abc\n"
	})
	cg := f.env.CgroupRoot
	must(t, os.MkdirAll(filepath.Join(cg, "memory"), 0o755))
	must(t, os.MkdirAll(filepath.Join(cg, "pids"), 0o755))
	must(t, os.WriteFile(filepath.Join(cg, "memory", "memory.limit_in_bytes"), []byte("536870912\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(cg, "pids", "pids.max"), []byte("256\n"), 0o644))
	rep := f.run(t)
	for _, id := range []string{"process.memory_limit", "process.pids_limit"} {
		if r, _ := rep.Find(id); r.Status != Pass {
			t.Errorf("v1 %s: %+v", id, r)
		}
	}
	must(t, os.WriteFile(filepath.Join(cg, "memory", "memory.limit_in_bytes"), []byte("9223372036854771712\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(cg, "pids", "pids.max"), []byte("max\n"), 0o644))
	rep = f.run(t)
	for _, id := range []string{"process.memory_limit", "process.pids_limit"} {
		if r, _ := rep.Find(id); r.Status != Fail || !strings.Contains(r.Evidence, "is max") {
			t.Errorf("v1 unlimited %s: %+v", id, r)
		}
	}
}

// The worker's own words (its confinement problems) reach the evidence
// without control characters: no terminal escape from a hostile worker.
func TestWorkerWordsArePrintable(t *testing.T) {
	f := newFixture(t)
	f.env.Live.WorkerConfinement.Reported.Problems = []string{"landlock\x1b[2J\x1b]0;pwned\x07 refused\nline"}
	f.env.Live.WorkerConfinement.Reported.LandlockFiles = false
	r := f.result(t, "worker.confinement")
	if strings.ContainsAny(r.Evidence, "\x1b\x07\n") || !strings.Contains(r.Evidence, "refused") {
		t.Fatalf("evidence %q", r.Evidence)
	}
}
