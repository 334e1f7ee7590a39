package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// proc is the part of /proc/PID/status the test looks at.
type proc struct {
	pid, ppid int
	name      string
	fields    map[string]string // "Uid", "Groups", "CapEff", "NoNewPrivs", "VmRSS"...
}

// procs reads every process's status in the container (status is world-readable).
func (s *stack) procs(ctx context.Context) (map[int]proc, error) {
	out, err := s.exec(ctx, "0", "sh", "-c",
		`for p in /proc/[0-9]*; do echo "== ${p#/proc/}"; cat "$p/status" 2>/dev/null; done; exit 0`)
	if err != nil {
		return nil, err
	}
	all := map[int]proc{}
	var cur *proc
	flush := func() {
		if cur != nil {
			cur.name = cur.fields["Name"]
			cur.ppid, _ = strconv.Atoi(cur.fields["PPid"])
			all[cur.pid] = *cur
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "== "); ok {
			flush()
			pid, _ := strconv.Atoi(rest)
			cur = &proc{pid: pid, fields: map[string]string{}}
		} else if k, v, ok := strings.Cut(line, ":"); ok && cur != nil {
			cur.fields[k] = strings.Join(strings.Fields(v), " ")
		}
	}
	flush()
	return all, nil
}

// children finds the orchestrator and the worker the entrypoint started.
func (s *stack) children(ctx context.Context) (orch, worker proc, err error) {
	all, err := s.procs(ctx)
	if err != nil {
		return proc{}, proc{}, err
	}
	entry := 0
	for _, p := range all {
		if p.name == "entrypoint.sh" {
			entry = p.pid
		}
	}
	for _, p := range all {
		switch {
		case p.ppid != entry || entry == 0:
		case p.name == "orchestrator":
			orch = p
		case p.name == "aiworker":
			worker = p
		}
	}
	if orch.pid == 0 || worker.pid == 0 {
		return orch, worker, fmt.Errorf("entrypoint (pid %d) has no orchestrator and worker children yet", entry)
	}
	return orch, worker, nil
}

// probe runs the probe program as user and returns target → result.
func (s *stack) probe(ctx context.Context, t *testing.T, user, check string, targets ...string) map[string]string {
	t.Helper()
	out, err := s.exec(ctx, user, append([]string{"/probe/probe", check}, targets...)...)
	if err != nil {
		t.Fatalf("probe %s as %s: %v", check, user, err)
	}
	res := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if k, v, ok := strings.Cut(line, "\t"); ok {
			res[k] = v
		}
	}
	return res
}

// denied reports whether a probe result is a refusal by the kernel.
func denied(result string) bool {
	return result == "EACCES" || result == "EPERM" || result == "EROFS"
}

// api is a client of the admin JSON API on the published port.
type api struct {
	base, token string
}

func (a api) do(ctx context.Context, method, path string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(raw))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode %q: %w", method, path, raw, err)
		}
	}
	return resp.StatusCode, nil
}

// ready reports whether /readyz answers 200.
func (a api) ready(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.base+"/readyz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// waitReady polls /readyz every 10 ms. With afterOutage it first waits for
// /readyz to fail, so that a restarting instance's last answers do not count.
func (a api) waitReady(ctx context.Context, afterOutage bool, limit time.Duration) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	down := !afterOutage
	for {
		ok := a.ready(ctx)
		switch {
		case ok && down:
			return time.Now(), nil
		case !ok:
			down = true
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("not ready within %s (outage seen: %v)", limit, down)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// chat creates a conversation if id is empty, sends text, and returns the
// conversation id and the reply.
func (a api) chat(ctx context.Context, id, text string) (string, string, error) {
	if id == "" {
		var conv struct {
			ID string `json:"id"`
		}
		if _, err := a.do(ctx, http.MethodPost, "/api/v1/conversations", map[string]string{"title": "e2e"}, &conv); err != nil {
			return "", "", err
		}
		id = conv.ID
	}
	var out struct {
		Reply string `json:"reply"`
	}
	_, err := a.do(ctx, http.MethodPost, "/api/v1/conversations/"+id+"/messages", map[string]string{"text": text}, &out)
	return id, out.Reply, err
}
