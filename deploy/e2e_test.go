package deploy_test

import (
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestContainerE2E builds the real image, runs deploy/compose.yaml with the
// test override on this machine's Docker engine, and probes the privilege
// boundary from inside the container. It logs "PERF name=value" lines.
//
//	go test -count=1 -timeout 30m -run TestContainerE2E -v ./deploy/
func TestContainerE2E(t *testing.T) {
	if _, err := exec.LookPath("docker"); err != nil {
		skipOrFail(t, "no docker binary on PATH")
	}
	ctx := context.Background()
	if deadline, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-30*time.Second))
		defer cancel()
	}
	if out, err := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").CombinedOutput(); err != nil {
		first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		skipOrFail(t, "the Docker daemon is not reachable: %s", first)
	}

	s := newStack(ctx, t)
	a := api{base: "http://127.0.0.1:" + strconv.Itoa(s.port)}
	readyc := make(chan time.Time, 1)
	go func() { at, _ := a.waitReady(ctx, false, 2*time.Minute); readyc <- at }()
	s.up(ctx, t)
	readyAt := <-readyc
	if readyAt.IsZero() {
		t.Fatalf("/readyz never answered 200")
	}
	size := s.imageSize(ctx, t)
	t.Logf("PERF image_size_bytes=%d image_size_mb=%.1f", size, float64(size)/1e6)
	t.Logf("PERF first_start_to_ready_ms=%d", readyAt.Sub(s.startedAt(ctx, t)).Milliseconds())
	if size > 40e6 {
		t.Errorf("image is %d bytes, over the 40 MB target", size)
	}
	// First-run setup as an operator does it: the code from the logs.
	m := setupCodeRE.FindStringSubmatch(s.logs(ctx, time.Time{}))
	if m == nil {
		t.Fatalf("no setup code in the container's logs:\n%s", tail(s.logs(ctx, time.Time{}), 40))
	}
	var created struct {
		Token string `json:"token"`
	}
	if _, err := a.do(ctx, "POST", "/api/v1/setup", map[string]string{"code": m[1], "username": "admin",
		"password": "a long container test password"}, &created); err != nil || created.Token == "" {
		t.Fatalf("setup with the code from the logs: %v", err)
	}
	a.token = created.Token

	t.Run("hardening", func(t *testing.T) { checkHardening(ctx, t, s) })
	t.Run("healthcheck", func(t *testing.T) { checkHealthy(ctx, t, s) })
	t.Run("privileges", func(t *testing.T) { checkPrivileges(ctx, t, s) })
	t.Run("airlock-ai", func(t *testing.T) { checkWorkerConfinement(ctx, t, s) })
	t.Run("socket", func(t *testing.T) { checkSocket(ctx, t, s) })
	t.Run("idle-rss", func(t *testing.T) { measureRSS(ctx, t, s) })
	t.Run("rss-after-login", func(t *testing.T) { measureLoginRSS(ctx, t, s, a) })
	// After idle-rss: its script run starts the warm sandbox children.
	// Before kernel-confinement: it approves a script granted localhost,
	// which doctor rightly warns about (scripts.hosts_egress).
	t.Run("doctor", func(t *testing.T) { checkDoctor(ctx, t, s) })
	t.Run("kernel-confinement", func(t *testing.T) { checkKernelConfinement(ctx, t, s, a) })
	var convID string
	t.Run("chat", func(t *testing.T) {
		id, reply, err := a.chat(ctx, "", "hello airlock")
		if err != nil || reply != "fake reply: hello airlock" {
			t.Fatalf("chat: reply %q, err %v", reply, err)
		}
		convID = id
	})
	t.Run("scripts", func(t *testing.T) { checkScripts(ctx, t, s, a) })
	t.Run("backup", func(t *testing.T) { checkBackup(ctx, t, s, a) }) // issue 18
	t.Run("worker-respawn", func(t *testing.T) { checkWorkerRespawn(ctx, t, s, a, convID) })
	t.Run("restart-keeps-data", func(t *testing.T) { checkRestart(ctx, t, s, a, convID) })
	t.Run("orchestrator-death", func(t *testing.T) { checkOrchestratorDeath(ctx, t, s, a, convID) })
	t.Run("graceful-stop", func(t *testing.T) { checkStop(ctx, t, s) })
	t.Run("doctor-weakened", func(t *testing.T) { checkDoctorWeakened(ctx, t, s, a) })
}

var setupCodeRE = regexp.MustCompile(`setup_code=([A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{5})`)

func (s *stack) imageSize(ctx context.Context, t *testing.T) int64 {
	t.Helper()
	out, err := run(ctx, nil, "docker", "image", "inspect", "-f", "{{.Size}}", testImage)
	n, perr := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
	if err != nil || perr != nil {
		t.Fatalf("image size: %v %v", err, perr)
	}
	return n
}

// checkHardening compares the container's configuration with compose.yaml's promises.
func checkHardening(ctx context.Context, t *testing.T, s *stack) {
	want := map[string]string{
		"{{.HostConfig.ReadonlyRootfs}}":     "true",
		"{{json .HostConfig.CapDrop}}":       `["ALL"]`,
		"{{json .HostConfig.SecurityOpt}}":   `["no-new-privileges:true"]`,
		"{{.HostConfig.Init}}":               "true",
		"{{.HostConfig.RestartPolicy.Name}}": "unless-stopped",
		"{{.HostConfig.IpcMode}}":            "none",
	}
	for format, v := range want {
		if got := s.inspect(ctx, t, format); got != v {
			t.Errorf("%s = %s, want %s", format, got, v)
		}
	}
	caps := strings.Fields(strings.Trim(s.inspect(ctx, t, "{{.HostConfig.CapAdd}}"), "[]"))
	for _, c := range caps {
		if !strings.Contains(" CHOWN SETUID SETGID SETPCAP KILL CAP_CHOWN CAP_SETUID CAP_SETGID CAP_SETPCAP CAP_KILL ", " "+c+" ") {
			t.Errorf("cap_add has %s, beyond CHOWN SETUID SETGID SETPCAP KILL", c)
		}
	}
	if s.inspect(ctx, t, "{{.HostConfig.Memory}}") == "0" || s.inspect(ctx, t, "{{.HostConfig.PidsLimit}}") == "<no value>" {
		t.Errorf("memory or pids limit missing")
	}
	if out := s.probe(ctx, t, "0", "write", "/", "/etc", "/usr/local/bin"); !allEqual(out, "EROFS") {
		t.Errorf("root filesystem is writable by root: %v", out)
	}
	ports, err := run(ctx, nil, "docker", "port", s.id)
	if err != nil || strings.TrimSpace(ports) == "" {
		t.Fatalf("docker port: %q %v", ports, err)
	}
	for _, line := range strings.Split(strings.TrimSpace(ports), "\n") {
		if _, hostPort, _ := strings.Cut(line, " -> "); !strings.HasPrefix(hostPort, "127.0.0.1:") {
			t.Errorf("published beyond loopback: %s", line)
		}
	}
}

// checkHealthy waits for Docker's own healthcheck (busybox wget on /readyz)
// to pass; Docker runs it every 5 s, so it flips after the first interval.
func checkHealthy(ctx context.Context, t *testing.T, s *stack) {
	for deadline := time.Now().Add(40 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		status := s.inspect(ctx, t, "{{.State.Health.Status}}")
		if status == "healthy" {
			t.Logf("PERF docker_health_healthy_after_start_ms=%d", time.Since(s.startedAt(ctx, t)).Milliseconds())
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Docker health status %q after 40 s", status)
		}
	}
}

func allEqual(m map[string]string, v string) bool {
	for _, got := range m {
		if got != v {
			return false
		}
	}
	return len(m) > 0
}

// checkPrivileges: the users, groups, capabilities and no_new_privs of both children.
func checkPrivileges(ctx context.Context, t *testing.T, s *stack) {
	orch, worker, err := s.children(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		p      proc
		uid    string
		groups string
	}{{orch, "10001 10001 10001 10001", ""}, {worker, "10002 10002 10002 10002", "10000"}} {
		f := c.p.fields
		if f["Uid"] != c.uid || f["Gid"] != c.uid || f["Groups"] != c.groups {
			t.Errorf("%s: Uid %q Gid %q Groups %q, want %q and groups %q", c.p.name, f["Uid"], f["Gid"], f["Groups"], c.uid, c.groups)
		}
		for _, k := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"} {
			if f[k] != "0000000000000000" {
				t.Errorf("%s: %s %s, want 0000000000000000", c.p.name, k, f[k])
			}
		}
		if f["NoNewPrivs"] != "1" {
			t.Errorf("%s: NoNewPrivs %q, want 1", c.p.name, f["NoNewPrivs"])
		}
	}
}
