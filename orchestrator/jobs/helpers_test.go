package jobs

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/store"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type scripts map[string]bool

func (s scripts) IsApprovedName(_ context.Context, name string) (bool, error) { return s[name], nil }

// fakeRunner answers runs as told, counting them; with block set, each
// run waits until block is closed.
type fakeRunner struct {
	mu     sync.Mutex
	reqs   []RunRequest
	posted []string
	result RunResult
	err    error
	block  chan struct{}
}

func (f *fakeRunner) RunJob(ctx context.Context, r RunRequest) (RunResult, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, r)
	res, err, block := f.result, f.err, f.block
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return RunResult{}, ctx.Err()
		}
	}
	return res, err
}

func (f *fakeRunner) PostToConversation(_ context.Context, _, _, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.posted = append(f.posted, text)
	return nil
}

func (f *fakeRunner) calls() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.reqs) }

type fakeDiscord struct {
	mu    sync.Mutex
	sent  []string
	fails int // fail this many sends first
}

func (d *fakeDiscord) SendChannel(_ context.Context, id, text string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fails > 0 {
		d.fails--
		return errors.New("discord down")
	}
	d.sent = append(d.sent, "channel:"+id+":"+text)
	return nil
}

func (d *fakeDiscord) SendDM(_ context.Context, id, text string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sent = append(d.sent, "dm:"+id+":"+text)
	return nil
}

type env struct {
	svc     *Service
	st      *store.Store
	clk     *clock
	run     *fakeRunner
	discord *fakeDiscord
	notes   *[]string
	path    string
	scripts scripts
}

func newEnv(t *testing.T) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "airlock.db")
	return openEnv(t, path)
}

func openEnv(t *testing.T, path string) *env {
	t.Helper()
	st, err := store.Open(context.Background(), path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := &clock{t: time.Date(2026, 6, 1, 7, 59, 0, 0, time.UTC)}
	e := &env{st: st, clk: clk, run: &fakeRunner{result: RunResult{Text: "all good", Tokens: 10, Calls: 1}},
		discord: &fakeDiscord{}, notes: &[]string{}, path: path, scripts: scripts{"weather": true}}
	var mu sync.Mutex
	e.svc, err = New(Deps{Store: st, Audit: audit.New(st, clk.Now, nil), Scripts: e.scripts, Runner: e.run,
		Deliver: e.discord, Logger: slog.New(slog.DiscardHandler), Now: clk.Now,
		Notify: func(s string) { mu.Lock(); *e.notes = append(*e.notes, s); mu.Unlock() },
		Env: func() Env {
			return Env{Location: time.UTC, Floor: time.Minute, MaxFailures: 3, Channels: []string{"111"}, Admins: []string{"222"}, LinkBase: "https://airlock.example/"}
		},
		Backoff:   func(n int) time.Duration { return time.Duration(n) * 10 * time.Minute },
		RetryWait: func(int) time.Duration { return time.Millisecond }})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func promptSpec(name string) Spec {
	return Spec{Name: name, Kind: store.JobPrompt, Schedule: "0 8 * * *", Prompt: "summarise my feeds",
		Targets: []store.JobTarget{{Kind: TargetWeb}, {Kind: TargetDiscordChannel, ID: "111"}}}
}

func (e *env) runs(t *testing.T, id string) []store.JobRun {
	t.Helper()
	rs, err := e.st.JobRuns(context.Background(), id, 100)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func (e *env) job(t *testing.T, id string) store.Job {
	t.Helper()
	j, err := e.st.GetJob(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// tick runs one scheduler tick at the clock's time and waits for the runs.
func (e *env) tick(t *testing.T) {
	t.Helper()
	if err := e.svc.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.svc.Wait()
}
