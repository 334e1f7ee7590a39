package backup

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator/audit"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestSchedulerMakesVerifiesAndPrunes(t *testing.T) {
	ctx := context.Background()
	l := seed(t)
	clk := &clock{t: time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)}
	var mu sync.Mutex
	var events []audit.Event
	dec := passDec(t, testPass)
	s, err := NewScheduler(SchedulerConfig{Dir: filepath.Join(l.dir, "backups"), Source: l.src(), Encryption: passEnc(t),
		Decryption: &dec, Now: clk.now, Audit: func(_ context.Context, e audit.Event) {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, e)
		}})
	if err != nil {
		t.Fatal(err)
	}
	s.SetPolicy(24*time.Hour, 2)
	if !s.due() {
		t.Fatal("no backup yet, but not due")
	}
	var names []string
	for range 3 {
		i, err := s.Create(ctx, "admin:alice")
		if err != nil {
			t.Fatal(err)
		}
		if !i.Good() || i.Verified.Secrets != 1 || !i.Verified.MasterKeyIncluded {
			t.Fatalf("new backup not verified good: %+v", i.Verified)
		}
		names = append(names, i.Name)
		if s.due() {
			t.Error("due right after a backup")
		}
		clk.add(25 * time.Hour)
		if !s.due() {
			t.Error("not due 25h after a backup")
		}
	}
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != names[2] || list[1].Name != names[1] {
		t.Fatalf("list = %+v, want the two newest of %v", list, names)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), names[0])); !errors.Is(err, os.ErrNotExist) {
		t.Error("the oldest backup was not removed")
	}
	if g, ok := s.LastGood(); !ok || g.Name != names[2] {
		t.Errorf("LastGood = %+v %v", g, ok)
	}
	mu.Lock()
	var created, removed int
	for _, e := range events {
		switch e.Action {
		case "backup.created":
			created++
		case "backup.removed":
			removed++
		}
	}
	mu.Unlock()
	if created != 3 || removed != 1 {
		t.Errorf("audited %d created, %d removed; want 3, 1", created, removed)
	}
	for _, bad := range []string{"../secure/master.key", names[0], "airlock-x.age", names[2] + ".verify.json"} {
		if f, _, err := s.Open(bad); !errors.Is(err, ErrUnknownBackup) {
			if f != nil {
				f.Close()
			}
			t.Errorf("Open(%q) = %v, want ErrUnknownBackup", bad, err)
		}
	}
	f, info, err := s.Open(names[2])
	if err != nil || info.Bytes == 0 {
		t.Fatalf("Open newest: %v", err)
	}
	f.Close()
	s.SetPolicy(0, 2)
	clk.add(100 * 24 * time.Hour)
	if s.due() {
		t.Error("due with the schedule off")
	}
}

// A backup the Scheduler cannot verify is listed as not verified, and the
// stale files of an interrupted backup are cleaned at start.
func TestSchedulerStaleAndUnverified(t *testing.T) {
	l := seed(t)
	dir := filepath.Join(l.dir, "backups")
	s, err := NewScheduler(SchedulerConfig{Dir: dir, Source: l.src(), Encryption: passEnc(t)})
	if err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, ".airlock-20261201T000000Z.age.123.tmp")
	writeFile(t, stale, "partial")
	snap := filepath.Join(l.dir, "secure", ".airlock-backup-snap-1")
	if err := os.Mkdir(snap, 0o700); err != nil {
		t.Fatal(err)
	}
	s.cleanStale()
	for _, p := range []string{stale, snap} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s not cleaned", p)
		}
	}
	i, err := s.Create(context.Background(), "system")
	if err != nil {
		t.Fatal(err)
	}
	if i.Good() || i.Verified == nil || i.Verified.Problem == "" {
		t.Errorf("verdict = %+v, want not verified with a reason", i.Verified)
	}
	if _, ok := s.LastGood(); ok {
		t.Error("an unverified backup counts as good")
	}
}

func TestGeneratedPassphrase(t *testing.T) {
	p := filepath.Join(t.TempDir(), "backup.passphrase")
	a, err := GeneratedPassphrase(p)
	if err != nil || len(a) < MinPassphraseLen {
		t.Fatalf("generated %d chars, %v", len(a), err)
	}
	b, err := GeneratedPassphrase(p)
	if err != nil || a != b {
		t.Fatal("a second call does not return the same passphrase")
	}
	fi, _ := os.Stat(p)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
}

// Run makes a backup once one is due, not before its first tick, and
// stops with its context.
func TestSchedulerRun(t *testing.T) {
	l := seed(t)
	s, err := NewScheduler(SchedulerConfig{Dir: filepath.Join(l.dir, "backups"), Source: l.src(), Encryption: passEnc(t)})
	if err != nil {
		t.Fatal(err)
	}
	s.SetPolicy(time.Hour, 3)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx, 20*time.Millisecond) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		list, _ := s.List()
		if len(list) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run made no backup")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // several ticks: nothing more is due
	cancel()
	<-done
	if list, _ := s.List(); len(list) != 1 {
		t.Errorf("%d backups, want 1 (the next is due in an hour)", len(list))
	}
}
