package deploy_test

import (
	"context"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// workerEnvAllowed is SPEC 1's allowlist, as entrypoint.sh applies it.
var workerEnvAllowed = map[string]bool{"PATH": true, "HOME": true, "TZ": true, "LANG": true, "AIRLOCK_SOCKET": true,
	"AIRLOCK_LOG_LEVEL": true, "AIRLOCK_WORKER_PARALLEL": true, "AIRLOCK_WORKER_MAX_ROUNDS": true,
	"AIRLOCK_WORKER_TASK_TIMEOUT": true}

// checkWorkerConfinement: what a compromised worker (uid 10002, group airlock) can reach.
func checkWorkerConfinement(ctx context.Context, t *testing.T, s *stack) {
	orch, worker, err := s.children(ctx)
	if err != nil {
		t.Fatal(err)
	}
	secret := []string{"/data", "/data/secure", "/data/workspace"}
	listing, err := s.exec(ctx, "10001", "ls", "/data/secure")
	if err != nil {
		t.Fatalf("list /data/secure as airlock-system: %v", err)
	}
	for _, name := range strings.Fields(listing) {
		secret = append(secret, "/data/secure/"+name) // airlock.db, jwt.key, master.key...
	}
	if !strings.Contains(listing, "airlock.db") || !strings.Contains(listing, "jwt.key") {
		t.Errorf("/data/secure holds %q, want airlock.db and jwt.key among them", listing)
	}
	op := "/proc/" + strconv.Itoa(orch.pid)
	secret = append(secret, op+"/environ", op+"/mem", op+"/root/data", op+"/fd")
	for target, res := range s.probe(ctx, t, "10002", "read", secret...) {
		if !denied(res) {
			t.Errorf("airlock-ai reading %s: %s, want a refusal", target, res)
		}
	}
	for target, res := range s.probe(ctx, t, "10002", "ptrace", strconv.Itoa(orch.pid)) {
		if res != "EPERM" {
			t.Errorf("airlock-ai ptrace of the orchestrator (pid %s): %s, want EPERM", target, res)
		}
	}
	dirs := []string{"/", "/data", "/data/workspace", "/run/airlock", "/dev", "/dev/mqueue", "/etc", "/bin",
		"/usr", "/usr/local/bin", "/root", "/tmp"}
	for target, res := range s.probe(ctx, t, "10002", "write", dirs...) {
		if ok := target == "/tmp"; ok != (res == "ok") || (!ok && !denied(res)) {
			t.Errorf("airlock-ai writing in %s: %s (only /tmp may be writable)", target, res)
		}
	}
	checkWorkerEnv(ctx, t, s, orch, worker)
}

// checkWorkerEnv: the worker's environment is the allowlist and holds no
// secret, although the orchestrator's holds the canary key.
func checkWorkerEnv(ctx context.Context, t *testing.T, s *stack, orch, worker proc) {
	orchEnv, err := s.exec(ctx, "10001", "cat", "/proc/"+strconv.Itoa(orch.pid)+"/environ")
	if err != nil || !strings.Contains(orchEnv, s.canary) {
		t.Fatalf("control: the orchestrator's environment should hold the canary key (err %v)", err)
	}
	env, err := s.exec(ctx, "10002", "cat", "/proc/"+strconv.Itoa(worker.pid)+"/environ")
	if err != nil {
		t.Fatalf("read the worker's environment as airlock-ai: %v", err)
	}
	if strings.Contains(env, s.canary) {
		t.Errorf("the worker's environment holds the LLM API key")
	}
	var names []string
	for _, kv := range strings.Split(strings.Trim(env, "\x00"), "\x00") {
		name, _, _ := strings.Cut(kv, "=")
		names = append(names, name)
		if !workerEnvAllowed[name] {
			t.Errorf("the worker's environment has %s, outside the allowlist", name)
		}
	}
	t.Logf("worker environment: %s", strings.Join(names, " "))
}

// checkSocket: only airlock-ai (and the orchestrator) can connect.
func checkSocket(ctx context.Context, t *testing.T, s *stack) {
	const sock = "/run/airlock/mcp.sock"
	for _, c := range []struct{ user, want string }{
		{"10002", "ok"}, // control: the worker's user can
		{"65534:65534", "EACCES"},
		{"0", "EACCES"}, // root without DAC_OVERRIDE
	} {
		if got := s.probe(ctx, t, c.user, "connect", sock)[sock]; got != c.want {
			t.Errorf("connect to %s as %s: %s, want %s", sock, c.user, got, c.want)
		}
	}
}

func measureRSS(ctx context.Context, t *testing.T, s *stack) {
	time.Sleep(2 * time.Second) // let both settle after start-up
	orch, worker, err := s.children(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kb := func(p proc) int {
		n, _ := strconv.Atoi(strings.TrimSuffix(p.fields["VmRSS"], " kB"))
		return n
	}
	o, w := kb(orch), kb(worker)
	// The worker's warm sandbox children are part of its footprint.
	all, err := s.procs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sb, n := 0, 0
	for _, p := range all {
		if p.ppid == worker.pid {
			sb, n = sb+kb(p), n+1
		}
	}
	t.Logf("PERF idle_rss_orchestrator_kb=%d idle_rss_worker_kb=%d idle_rss_sandbox_children=%d idle_rss_sandbox_kb=%d idle_rss_total_mb=%.1f",
		o, w, n, sb, float64(o+w+sb)/1024)
	if o == 0 || w == 0 {
		t.Errorf("no VmRSS for orchestrator (%q) or worker (%q)", orch.fields["VmRSS"], worker.fields["VmRSS"])
	}
}

// measureLoginRSS signs in (one argon2id verification over 64 MiB) and
// polls the orchestrator's VmRSS for up to 5 s: it must be back under 40 MB
// (issue 13, item 3; it used to stay at ~158 MB for minutes). VmHWM, the
// peak since start, includes the start-up dummy hash, setup and this login.
func measureLoginRSS(ctx context.Context, t *testing.T, s *stack, a api) {
	const limitKB = 40 * 1000 * 1000 / 1024 // 40 MB
	kb := func(p proc, field string) int {
		n, _ := strconv.Atoi(strings.TrimSuffix(p.fields[field], " kB"))
		return n
	}
	var out struct {
		Token string `json:"token"`
	}
	if _, err := a.do(ctx, "POST", "/api/v1/auth/login", map[string]string{"username": "admin",
		"password": "a long container test password"}, &out); err != nil || out.Token == "" {
		t.Fatalf("login: %v", err)
	}
	answered := time.Now()
	var rss, peak int
	for {
		orch, _, err := s.children(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rss, peak = kb(orch, "VmRSS"), kb(orch, "VmHWM")
		if (rss > 0 && rss < limitKB) || time.Since(answered) > 5*time.Second {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("PERF rss_after_login_orchestrator_kb=%d rss_after_login_ms=%d peak_rss_orchestrator_kb=%d",
		rss, time.Since(answered).Milliseconds(), peak)
	if rss == 0 || rss >= limitKB {
		t.Errorf("orchestrator VmRSS %d kB 5 s after a login, want under 40 MB", rss)
	}
}

// checkWorkerRespawn: SIGKILL the worker; a new one must serve within 5 s.
func checkWorkerRespawn(ctx context.Context, t *testing.T, s *stack, a api, convID string) {
	_, old, err := s.children(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := s.exec(ctx, "10002", "kill", "-KILL", strconv.Itoa(old.pid)); err != nil {
		t.Fatalf("kill the worker: %v", err)
	}
	for {
		if _, w, err := s.children(ctx); err == nil && w.pid != old.pid {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("no new worker within 5 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, reply, err := a.chat(ctx, convID, "after respawn"); err != nil || reply != "fake reply: after respawn" {
		t.Fatalf("chat after the respawn: reply %q, err %v", reply, err)
	}
	elapsed := time.Since(start)
	t.Logf("PERF worker_respawn_to_serving_ms=%d", elapsed.Milliseconds())
	if elapsed > 5*time.Second {
		t.Errorf("a new worker served after %s, want within 5 s", elapsed)
	}
}

// restartAndWait runs fn (which restarts the container) and waits for /readyz
// to fail and then answer 200; it returns start-to-ready of the new run.
func restartAndWait(ctx context.Context, t *testing.T, s *stack, a api, fn func() error) time.Duration {
	t.Helper()
	readyc := make(chan time.Time, 1)
	go func() { at, _ := a.waitReady(ctx, true, 2*time.Minute); readyc <- at }()
	if err := fn(); err != nil {
		t.Fatal(err)
	}
	at := <-readyc
	if at.IsZero() {
		t.Fatalf("/readyz did not come back")
	}
	return at.Sub(s.startedAt(ctx, t))
}

// checkRestart: compose restart keeps the conversation and the audit chain.
func checkRestart(ctx context.Context, t *testing.T, s *stack, a api, convID string) {
	d := restartAndWait(ctx, t, s, a, func() error { _, err := s.composeRun(ctx, "restart", "airlock"); return err })
	t.Logf("PERF restart_start_to_ready_ms=%d", d.Milliseconds())
	checkData(ctx, t, a, convID)
}

func checkData(ctx context.Context, t *testing.T, a api, convID string) {
	t.Helper()
	var conv struct {
		Messages []message `json:"messages"`
	}
	if _, err := a.do(ctx, http.MethodGet, "/api/v1/conversations/"+convID, nil, &conv); err != nil {
		t.Fatalf("get the conversation: %v", err)
	}
	var text []string
	for _, m := range conv.Messages {
		text = append(text, m.Role+": "+m.Content)
	}
	joined := strings.Join(text, "\n")
	for _, want := range []string{"user: hello airlock", "assistant: fake reply: hello airlock", "user: after respawn"} {
		if !strings.Contains(joined, want) {
			t.Errorf("conversation lacks %q; has:\n%s", want, joined)
		}
	}
	var verify struct {
		OK      bool `json:"ok"`
		Checked int  `json:"checked"`
	}
	if _, err := a.do(ctx, http.MethodGet, "/api/v1/audit/verify", nil, &verify); err != nil || !verify.OK || verify.Checked == 0 {
		t.Errorf("audit verify: %+v, err %v", verify, err)
	}
}

// checkOrchestratorDeath: the container exits when the orchestrator dies,
// Docker restarts it, and the data survives.
func checkOrchestratorDeath(ctx context.Context, t *testing.T, s *stack, a api, convID string) {
	orch, _, err := s.children(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before := s.inspect(ctx, t, "{{.RestartCount}}")
	restartAndWait(ctx, t, s, a, func() error {
		_, err := s.exec(ctx, "10001", "kill", "-KILL", strconv.Itoa(orch.pid))
		return err
	})
	if after := s.inspect(ctx, t, "{{.RestartCount}}"); after == before {
		t.Errorf("RestartCount stayed %s: the container did not exit when the orchestrator died", after)
	}
	if logs := s.logs(ctx, time.Time{}); !strings.Contains(logs, "entrypoint: orchestrator exited with status") {
		t.Errorf("no log line for the orchestrator's death")
	}
	checkData(ctx, t, a, convID)
}

// checkStop: docker stop → both processes stop on SIGTERM within 10 s, exit 0.
func checkStop(ctx context.Context, t *testing.T, s *stack) {
	start := time.Now()
	if _, err := run(ctx, nil, "docker", "stop", "-t", "20", s.id); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	t.Logf("PERF stop_ms=%d", elapsed.Milliseconds())
	if elapsed > 10*time.Second {
		t.Errorf("stop took %s, want within 10 s", elapsed)
	}
	if code := s.inspect(ctx, t, "{{.State.ExitCode}}"); code != "0" {
		t.Errorf("exit code after SIGTERM: %s, want 0", code)
	}
	logs := s.logs(ctx, start.Add(-time.Second))
	if !strings.Contains(logs, "entrypoint: stopped") || strings.Contains(logs, "sending SIGKILL") {
		t.Errorf("stop logs lack a clean stop:\n%s", tail(logs, 20))
	}
}

// logs returns the container's output (both streams) since a time (zero: all).
func (s *stack) logs(ctx context.Context, since time.Time) string {
	args := []string{"logs"}
	if !since.IsZero() {
		args = append(args, "--since", since.UTC().Format(time.RFC3339Nano))
	}
	out, _ := exec.CommandContext(ctx, "docker", append(args, s.id)...).CombinedOutput()
	return string(out)
}
