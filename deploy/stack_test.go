package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Image tags the test builds; the compose files read them from the environment.
const (
	testImage    = "airlock:e2e"
	fakeLLMImage = "airlock-fakellm:e2e"
)

// stack is one compose project: deploy/compose.yaml plus compose.test.yaml.
type stack struct {
	t       *testing.T
	root    string   // repository root
	compose []string // "docker compose" or "docker-compose"
	project string
	env     []string // variables for compose's interpolation
	canary  string   // the fake LLM key that must never reach the worker
	port    int      // the published loopback port
	id      string   // the airlock container
}

// skipOrFail skips loudly, or fails when AIRLOCK_REQUIRE_E2E=1.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("AIRLOCK_REQUIRE_E2E") == "1" {
		t.Fatalf("%s is required (AIRLOCK_REQUIRE_E2E=1) but: %s", t.Name(), msg)
	}
	t.Skipf("SKIPPING %s: %s (AIRLOCK_REQUIRE_E2E=1 turns this into a failure)", t.Name(), msg)
}

// composeCommand finds Compose v2 (docker compose) or v1 (docker-compose).
func composeCommand(ctx context.Context) ([]string, error) {
	if _, err := run(ctx, nil, "docker", "compose", "version"); err == nil {
		return []string{"docker", "compose"}, nil
	}
	if _, err := exec.LookPath("docker-compose"); err == nil {
		return []string{"docker-compose"}, nil
	}
	return nil, fmt.Errorf("neither `docker compose` nor `docker-compose` is available")
}

// run runs argv and returns its stdout; the error carries the tail of both outputs.
func run(ctx context.Context, env []string, argv ...string) (string, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s: %w\n%s", strings.Join(argv[:min(4, len(argv))], " "), err,
			tail(stderr.String()+stdout.String(), 60))
	}
	return stdout.String(), nil
}

func tail(s string, lines int) string {
	all := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// baseImages runs .ci/images.sh (quick when its images exist; making them
// needs root) and returns the build args it prints.
func baseImages(ctx context.Context, t *testing.T, root string) (goImage, baseImage string) {
	t.Helper()
	script := filepath.Join(root, ".ci", "images.sh")
	if os.Geteuid() != 0 {
		if _, err := run(ctx, nil, script, "--check"); err != nil {
			skipOrFail(t, "the local base images are missing and making them needs root: run `sudo .ci/images.sh` once")
		}
	}
	out, err := run(ctx, nil, script)
	if err != nil {
		t.Fatalf("make the local base images: %v", err)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			switch k {
			case "GO_IMAGE":
				goImage = v
			case "BASE_IMAGE":
				baseImage = v
			}
		}
	}
	if goImage == "" || baseImage == "" {
		t.Fatalf(".ci/images.sh printed no GO_IMAGE/BASE_IMAGE:\n%s", out)
	}
	return goImage, baseImage
}

// buildProbe compiles testdata/probe into a directory the container mounts.
func buildProbe(ctx context.Context, t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := run(ctx, []string{"CGO_ENABLED=0"}, "go", "build", "-o", filepath.Join(dir, "probe"), "./testdata/probe/main.go")
	if err != nil {
		t.Fatalf("build the probe: %v", err)
	}
	return dir
}

// newStack builds the images and brings the stack up; cleanup takes it down
// with its volume, after dumping the logs if the test failed.
func newStack(ctx context.Context, t *testing.T) *stack {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	compose, err := composeCommand(ctx)
	if err != nil {
		skipOrFail(t, "%v", err)
	}
	goImage, baseImage := baseImages(ctx, t, root)
	s := &stack{t: t, root: root, compose: compose, project: "airlock-e2e-" + randomHex(4),
		canary: "sk-e2e-canary-" + randomHex(12), port: freePort(t)}
	s.env = []string{
		"AIRLOCK_IMAGE=" + testImage, "AIRLOCK_FAKELLM_IMAGE=" + fakeLLMImage,
		"AIRLOCK_GO_IMAGE=" + goImage, "AIRLOCK_BASE_IMAGE=" + baseImage,
		"AIRLOCK_PORT=" + strconv.Itoa(s.port), "AIRLOCK_E2E_PROBE_DIR=" + buildProbe(ctx, t),
		"AIRLOCK_E2E_CANARY=" + s.canary,
	}
	start := time.Now()
	if _, err := s.composeRun(ctx, "build"); err != nil {
		t.Fatalf("build the images: %v", err)
	}
	t.Logf("images built in %s", time.Since(start).Round(time.Second))
	t.Cleanup(s.down)
	return s
}

func (s *stack) composeRun(ctx context.Context, args ...string) (string, error) {
	argv := append([]string{}, s.compose...)
	argv = append(argv, "-p", s.project, "-f", filepath.Join(s.root, "deploy", "compose.yaml"),
		"-f", filepath.Join(s.root, "deploy", "compose.test.yaml"))
	return run(ctx, s.env, append(argv, args...)...)
}

func (s *stack) down() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if s.t.Failed() {
		logs, _ := s.composeRun(ctx, "logs", "--no-color", "--tail", "200")
		s.t.Logf("compose logs:\n%s", logs)
	}
	if _, err := s.composeRun(ctx, "down", "-v", "--remove-orphans", "-t", "15"); err != nil {
		s.t.Errorf("compose down: %v", err)
	}
}

// up starts the stack and records the airlock container id.
func (s *stack) up(ctx context.Context, t *testing.T) {
	t.Helper()
	if _, err := s.composeRun(ctx, "up", "-d", "--no-build"); err != nil {
		t.Fatalf("compose up: %v", err)
	}
	out, err := s.composeRun(ctx, "ps", "-q", "airlock")
	if s.id = strings.TrimSpace(out); err != nil || s.id == "" {
		t.Fatalf("find the airlock container: %q %v", out, err)
	}
}

// exec runs argv in the airlock container as user ("uid" or "uid:gid").
func (s *stack) exec(ctx context.Context, user string, argv ...string) (string, error) {
	return run(ctx, nil, append([]string{"docker", "exec", "-u", user, s.id}, argv...)...)
}

// inspect evaluates a Go template against the airlock container.
func (s *stack) inspect(ctx context.Context, t *testing.T, format string) string {
	t.Helper()
	out, err := run(ctx, nil, "docker", "inspect", "-f", format, s.id)
	if err != nil {
		t.Fatalf("docker inspect: %v", err)
	}
	return strings.TrimSpace(out)
}

// startedAt is when the container's current run began.
func (s *stack) startedAt(ctx context.Context, t *testing.T) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, s.inspect(ctx, t, "{{.State.StartedAt}}"))
	if err != nil {
		t.Fatalf("parse StartedAt: %v", err)
	}
	return at
}
