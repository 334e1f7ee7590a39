package backup

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/airlockhq/airlock/orchestrator/audit"
)

// ErrBusy is returned by Scheduler.Create while another backup runs.
var ErrBusy = errors.New("a backup is already being made")

// ErrUnknownBackup is returned for a name that is not a backup in the
// directory.
var ErrUnknownBackup = errors.New("no such backup")

// nameRE matches the names of the backups a Scheduler makes.
var nameRE = regexp.MustCompile(`^airlock-[0-9]{8}T[0-9]{6}Z\.age$`)

// Info describes one backup in a Scheduler's directory.
type Info struct {
	Name    string    `json:"name"`
	Bytes   int64     `json:"bytes"`
	Created time.Time `json:"created"`
	// Verified is the result of checking the backup after it was made;
	// nil when it has not been checked.
	Verified *Verdict `json:"verified,omitempty"`
}

// Verdict is a stored verification result.
type Verdict struct {
	OK                bool      `json:"ok"`
	At                time.Time `json:"at"`
	Problem           string    `json:"problem,omitempty"`
	AuditEntries      int       `json:"audit_entries"`
	Secrets           int       `json:"secrets"`
	MasterKeyIncluded bool      `json:"master_key_included"`
}

// Good reports whether the backup was verified good.
func (i Info) Good() bool { return i.Verified != nil && i.Verified.OK }

// SchedulerConfig configures a Scheduler.
type SchedulerConfig struct {
	Dir    string // where backups go; created 0700 if missing
	Source Source
	// Encryption encrypts scheduled backups; Decryption, when it can open
	// them (passphrase backups), verifies each one after it is made.
	Encryption Encryption
	Decryption *Decryption
	Audit      func(context.Context, audit.Event)
	Logger     *slog.Logger
	Now        func() time.Time
}

// Scheduler makes backups into one directory: on a schedule, and on
// demand; it verifies each, keeps the newest ones and lists them.
type Scheduler struct {
	c SchedulerConfig

	running sync.Mutex // held while a backup is made
	busy    atomic.Bool
	mu      sync.Mutex // guards the policy below
	every   time.Duration
	keep    int
}

// NewScheduler returns a Scheduler; it creates the directory.
func NewScheduler(c SchedulerConfig) (*Scheduler, error) {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Audit == nil {
		c.Audit = func(context.Context, audit.Event) {}
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("backup: directory %s: %w", c.Dir, err)
	}
	return &Scheduler{c: c, keep: 7}, nil
}

// SetPolicy sets the time between scheduled backups (0: none) and how many
// backups to keep.
func (s *Scheduler) SetPolicy(every time.Duration, keep int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.every, s.keep = every, max(keep, 1)
}

func (s *Scheduler) policy() (time.Duration, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.every, s.keep
}

// Running reports whether a backup is being made.
func (s *Scheduler) Running() bool { return s.busy.Load() }

// Policy returns the time between scheduled backups and how many are kept.
func (s *Scheduler) Policy() (every time.Duration, keep int) { return s.policy() }

// Dir is the backups directory.
func (s *Scheduler) Dir() string { return s.c.Dir }

// Run makes a backup whenever the newest one is older than the interval,
// checking every tick (the first check one tick after the start, so a
// starting orchestrator is not slowed), until ctx ends. It first removes
// what a crash may have left (temporary files and scratch directories).
func (s *Scheduler) Run(ctx context.Context, tick time.Duration) {
	s.cleanStale()
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if s.due() {
			if _, err := s.Create(ctx, "system"); err != nil && !errors.Is(err, ErrBusy) && ctx.Err() == nil {
				s.c.Logger.Error("scheduled backup failed", "err", err)
			}
		}
	}
}

// due reports whether a scheduled backup should be made now.
func (s *Scheduler) due() bool {
	every, _ := s.policy()
	if every <= 0 {
		return false
	}
	list, err := s.List()
	if err != nil {
		s.c.Logger.Error("listing backups failed", "err", err)
		return false
	}
	return len(list) == 0 || s.c.Now().Sub(list[0].Created) >= every
}

// Create makes a backup now, verifies it when it can, records the verdict,
// removes the oldest beyond the policy's count and audits it as actor.
func (s *Scheduler) Create(ctx context.Context, actor string) (Info, error) {
	if !s.running.TryLock() {
		return Info{}, ErrBusy
	}
	defer s.running.Unlock()
	s.busy.Store(true)
	defer s.busy.Store(false)
	now := s.c.Now().UTC()
	name := "airlock-" + now.Format("20060102T150405Z") + ".age"
	out := filepath.Join(s.c.Dir, name)
	m, err := Create(ctx, s.c.Source, out, s.c.Encryption, now)
	if err != nil {
		s.c.Audit(ctx, audit.Event{Actor: actor, Action: "backup.created", Target: name, Outcome: audit.OutcomeError,
			Details: map[string]any{"error": err.Error()}})
		return Info{}, err
	}
	v := s.verify(ctx, out, m)
	if err := s.writeVerdict(name, v); err != nil {
		s.c.Logger.Error("recording a backup's verification failed", "backup", name, "err", err)
	}
	info, err := s.info(name)
	if err != nil {
		return Info{}, err
	}
	s.c.Audit(ctx, audit.Event{Actor: actor, Action: "backup.created", Target: name, Outcome: audit.OutcomeOK,
		Details: map[string]any{"bytes": info.Bytes, "schema": m.Schema, "verified": v.OK, "problem": v.Problem,
			"master_key_included": m.MasterKeyIncluded}})
	s.prune(ctx, actor)
	return info, nil
}

// verify checks a new backup when the Scheduler can decrypt it.
func (s *Scheduler) verify(ctx context.Context, file string, m Manifest) Verdict {
	v := Verdict{At: s.c.Now().UTC(), MasterKeyIncluded: m.MasterKeyIncluded}
	if s.c.Decryption == nil {
		v.Problem = "not verified: a recipient backup is verified only with its identity (orchestrator backup --verify)"
		return v
	}
	rep, err := Verify(ctx, file, s.c.Source.scratch(), *s.c.Decryption,
		CheckOptions{KeyPath: s.c.Source.KeyPath, Logger: s.c.Logger})
	if err != nil {
		v.Problem = err.Error()
		return v
	}
	v.OK, v.AuditEntries, v.Secrets = true, rep.AuditEntries, rep.Secrets
	return v
}

func verdictPath(dir, name string) string { return filepath.Join(dir, name+".verify.json") }

func (s *Scheduler) writeVerdict(name string, v Verdict) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	p := verdictPath(s.c.Dir, name)
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// List returns the backups in the directory, newest first.
func (s *Scheduler) List() ([]Info, error) {
	ents, err := os.ReadDir(s.c.Dir)
	if err != nil {
		return nil, fmt.Errorf("backup: list: %w", err)
	}
	var out []Info
	for _, e := range ents {
		if !e.Type().IsRegular() || !nameRE.MatchString(e.Name()) {
			continue
		}
		i, err := s.info(e.Name())
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, i)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Created.After(out[b].Created) })
	return out, nil
}

// info describes the backup name; its time comes from its name.
func (s *Scheduler) info(name string) (Info, error) {
	fi, err := os.Stat(filepath.Join(s.c.Dir, name))
	if err != nil {
		return Info{}, err
	}
	created, err := time.Parse("20060102T150405Z", strings.TrimSuffix(strings.TrimPrefix(name, "airlock-"), ".age"))
	if err != nil {
		return Info{}, err
	}
	i := Info{Name: name, Bytes: fi.Size(), Created: created}
	if b, err := os.ReadFile(verdictPath(s.c.Dir, name)); err == nil {
		var v Verdict
		if json.Unmarshal(b, &v) == nil {
			i.Verified = &v
		}
	}
	return i, nil
}

// LastGood returns the newest backup verified good.
func (s *Scheduler) LastGood() (Info, bool) {
	list, err := s.List()
	if err != nil {
		return Info{}, false
	}
	for _, i := range list {
		if i.Good() {
			return i, true
		}
	}
	return Info{}, false
}

// Open opens the backup name for reading (a download). Only names of the
// Scheduler's own backups are accepted, so no other file can be reached.
func (s *Scheduler) Open(name string) (*os.File, Info, error) {
	if !nameRE.MatchString(name) {
		return nil, Info{}, ErrUnknownBackup
	}
	i, err := s.info(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Info{}, ErrUnknownBackup
	}
	if err != nil {
		return nil, Info{}, err
	}
	f, err := os.Open(filepath.Join(s.c.Dir, name))
	if err != nil {
		return nil, Info{}, err
	}
	return f, i, nil
}

// prune removes the oldest backups beyond the policy's count; it never
// removes the newest good one.
func (s *Scheduler) prune(ctx context.Context, actor string) {
	_, keep := s.policy()
	list, err := s.List()
	if err != nil || len(list) <= keep {
		return
	}
	good, hasGood := s.LastGood()
	for _, i := range list[keep:] {
		if hasGood && i.Name == good.Name {
			continue
		}
		err := os.Remove(filepath.Join(s.c.Dir, i.Name))
		_ = os.Remove(verdictPath(s.c.Dir, i.Name))
		outcome := audit.OutcomeOK
		if err != nil {
			outcome = audit.OutcomeError
		}
		s.c.Audit(ctx, audit.Event{Actor: actor, Action: "backup.removed", Target: i.Name, Outcome: outcome,
			Details: map[string]any{"keep": keep}})
	}
}

// cleanStale removes temporary files of interrupted backups in the
// directory and scratch directories in the secure directory.
func (s *Scheduler) cleanStale() {
	tmps, _ := filepath.Glob(filepath.Join(s.c.Dir, ".airlock-*.age.*.tmp"))
	scratch, _ := filepath.Glob(filepath.Join(s.c.Source.scratch(), ".airlock-backup-*"))
	for _, p := range append(tmps, scratch...) {
		if err := os.RemoveAll(p); err == nil {
			s.c.Logger.Info("removed what an interrupted backup left", "path", p)
		}
	}
}

// GeneratedPassphrase returns the passphrase in path, creating the file
// (mode 0600) with a random 32-character passphrase if it is missing.
func GeneratedPassphrase(path string) (string, error) {
	if p, err := ReadPassphraseFile(path); err == nil {
		return p, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	p := rand.Text()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("backup: create passphrase file: %w", err)
	}
	if _, err := f.WriteString(p + "\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("backup: write passphrase file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", fmt.Errorf("backup: write passphrase file: %w", err)
	}
	return p, f.Close()
}
