package backup

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/redact"
)

// Names in a data directory that Restore leaves where they are and does not
// count as data: the default backups directory, and its own staging and
// set-aside directories.
const (
	backupsDirName = "backups"
	stagingPrefix  = ".airlock-restore-"
	asidePrefix    = ".airlock-before-restore-"
)

// RestoreOptions tune Restore.
type RestoreOptions struct {
	// Force allows restoring into a data directory that holds data; it is
	// moved aside into DataDir/.airlock-before-restore-<time>, not deleted.
	Force bool
	// Now stamps the set-aside directory and the audit entry.
	Now time.Time
	CheckOptions
}

// RestoreResult says what Restore did.
type RestoreResult struct {
	Report
	// Aside is the directory the previous data was moved into; "" if the
	// data directory was empty.
	Aside string
}

// Restore restores the backup at file into dataDir. It unpacks and checks
// everything in a staging directory inside dataDir first; only when every
// check passed does it move the previous contents (with Force) aside and
// the restored ones into place. On error nothing in dataDir has changed
// (the staging directory is removed). The orchestrator must not be running
// on dataDir.
func Restore(ctx context.Context, file, dataDir string, dec Decryption, opts RestoreOptions) (RestoreResult, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return RestoreResult{}, fmt.Errorf("backup: restore: %w", err)
	}
	present, err := dataEntries(dataDir)
	if err != nil {
		return RestoreResult{}, err
	}
	if len(present) > 0 && !opts.Force {
		return RestoreResult{}, fmt.Errorf("backup: restore: %w: %s holds %s; restore with --force to move them aside"+
			" (into %s<time>, nothing is deleted)", ErrNotEmpty, dataDir, strings.Join(present, ", "), asidePrefix)
	}
	staging, err := os.MkdirTemp(dataDir, stagingPrefix)
	if err != nil {
		return RestoreResult{}, fmt.Errorf("backup: restore: staging directory: %w", err)
	}
	defer os.RemoveAll(staging) // empty once the restore succeeded
	m, err := extractFile(ctx, file, dec, staging)
	if err != nil {
		return RestoreResult{}, err
	}
	rep, err := check(ctx, staging, m, opts.CheckOptions, func(st *store.Store) error {
		_, err := audit.New(st, func() time.Time { return opts.Now }, &redact.Holder{}).Append(ctx, audit.Event{
			Actor: "system", Action: "backup.restored", Target: filepath.Base(file), Outcome: audit.OutcomeOK,
			Details: map[string]any{"created": m.Created.Format(time.RFC3339), "schema": m.Schema,
				"master_key_included": m.MasterKeyIncluded, "forced": len(present) > 0}})
		return err
	})
	if err != nil {
		return RestoreResult{}, err
	}
	res := RestoreResult{Report: rep}
	if len(present) > 0 {
		if res.Aside, err = moveAside(dataDir, present, opts.Now); err != nil {
			return RestoreResult{}, err
		}
	}
	if err := moveInto(staging, dataDir); err != nil {
		return res, err
	}
	return res, syncDir(dataDir)
}

// dataEntries lists what dataDir holds besides the names Restore ignores.
func dataEntries(dataDir string) ([]string, error) {
	ents, err := os.ReadDir(dataDir)
	if err != nil {
		return nil, fmt.Errorf("backup: restore: %w", err)
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if n == backupsDirName || strings.HasPrefix(n, stagingPrefix) || strings.HasPrefix(n, asidePrefix) {
			continue
		}
		out = append(out, n)
	}
	return out, nil
}

// moveAside moves names out of dataDir into a new set-aside directory
// inside it (dataDir may be a mount point, which cannot itself be renamed).
func moveAside(dataDir string, names []string, now time.Time) (string, error) {
	aside := filepath.Join(dataDir, asidePrefix+now.UTC().Format("20060102T150405Z"))
	if err := os.Mkdir(aside, 0o700); err != nil {
		return "", fmt.Errorf("backup: restore: set the old data aside: %w", err)
	}
	for _, n := range names {
		if err := os.Rename(filepath.Join(dataDir, n), filepath.Join(aside, n)); err != nil {
			return aside, fmt.Errorf("backup: restore: move %s aside into %s: %w", n, aside, err)
		}
	}
	return aside, nil
}

// moveInto moves every entry of staging into dataDir.
func moveInto(staging, dataDir string) error {
	ents, err := os.ReadDir(staging)
	if err != nil {
		return fmt.Errorf("backup: restore: %w", err)
	}
	for _, e := range ents {
		dst := filepath.Join(dataDir, e.Name())
		if _, err := os.Lstat(dst); !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("backup: restore: %s appeared while restoring; nothing was overwritten", dst)
		}
		if err := os.Rename(filepath.Join(staging, e.Name()), dst); err != nil {
			return fmt.Errorf("backup: restore: move %s into place: %w", e.Name(), err)
		}
	}
	return nil
}
