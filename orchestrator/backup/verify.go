package backup

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/secrets"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/redact"
)

// Report is what Verify found in a good backup.
type Report struct {
	Manifest Manifest
	// Migrated says the database was from an older Airlock and was
	// migrated to this binary's schema (in the check copy or the restore).
	Migrated bool
	// AuditEntries is the number of audit entries whose chain verified.
	AuditEntries int
	// Secrets is the number of vault secrets that opened with the key.
	Secrets int
}

// CheckOptions tune the checks.
type CheckOptions struct {
	// KeyPath is the master key to use when the backup does not include
	// one (the original key file); ignored when it does.
	KeyPath string
	// Logger receives the store's messages (migrations); nil discards them.
	Logger *slog.Logger
}

// Verify decrypts the backup at file with dec into a private directory
// made under scratch, runs every check and removes the directory again.
func Verify(ctx context.Context, file, scratch string, dec Decryption, opts CheckOptions) (Report, error) {
	dir, err := os.MkdirTemp(scratch, ".airlock-backup-verify-")
	if err != nil {
		return Report{}, fmt.Errorf("backup: verify: scratch directory: %w", err)
	}
	defer os.RemoveAll(dir)
	m, err := extractFile(ctx, file, dec, dir)
	if err != nil {
		return Report{}, err
	}
	return check(ctx, dir, m, opts, nil)
}

// extractFile decrypts and unpacks file into dir (which must be empty) and
// checks every file against the manifest.
func extractFile(ctx context.Context, file string, dec Decryption, dir string) (Manifest, error) {
	f, err := os.Open(file)
	if err != nil {
		return Manifest{}, fmt.Errorf("backup: open: %w", err)
	}
	defer f.Close()
	return extract(ctx, f, dec, dir)
}

func extract(ctx context.Context, src io.Reader, dec Decryption, dir string) (Manifest, error) {
	r, err := dec.decrypt(src)
	if err != nil {
		return Manifest{}, err
	}
	tr := tar.NewReader(r)
	got := map[string]File{}
	var m *Manifest
	for {
		if ctx.Err() != nil {
			return Manifest{}, ctx.Err()
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Manifest{}, streamErr(err)
		}
		if m != nil {
			return Manifest{}, fmt.Errorf("%w: an entry follows the manifest", ErrCorrupt)
		}
		if hdr.Name == manifestName {
			body, err := io.ReadAll(io.LimitReader(tr, maxManifestBytes+1))
			if err != nil {
				return Manifest{}, streamErr(err)
			}
			if len(body) > maxManifestBytes {
				return Manifest{}, fmt.Errorf("%w: manifest too large", ErrCorrupt)
			}
			mm, err := parseManifest(body)
			if err != nil {
				return Manifest{}, err
			}
			m = &mm
			continue
		}
		fl, err := extractEntry(tr, hdr, dir)
		if err != nil {
			return Manifest{}, err
		}
		if _, dup := got[fl.Path]; dup {
			return Manifest{}, fmt.Errorf("%w: %s appears twice", ErrCorrupt, fl.Path)
		}
		got[fl.Path] = fl
	}
	// Read to the end: age authenticates the end of the stream only there.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return Manifest{}, streamErr(err)
	}
	if m == nil {
		return Manifest{}, fmt.Errorf("%w: no manifest (the backup is incomplete)", ErrCorrupt)
	}
	return *m, matchManifest(*m, got)
}

// streamErr is the error for a stream that fails to decrypt or unpack.
func streamErr(err error) error {
	return fmt.Errorf("%w: the encrypted data is truncated or altered (%v)", ErrCorrupt, scrub(err))
}

// scrub keeps the kind of a low-level error without paths or content.
func scrub(err error) string {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end"
	case errors.Is(err, tar.ErrHeader):
		return "bad archive header"
	}
	s := err.Error()
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

// validName reports whether name is a file the backup layout may hold.
func validName(name string) bool {
	if name == "" || strings.Contains(name, "\\") || path.Clean(name) != name || path.IsAbs(name) ||
		strings.HasPrefix(name, "../") || name == ".." {
		return false
	}
	switch name {
	case dbName, keyName, configName:
		return true
	}
	return strings.HasPrefix(name, workspaceRoot+"/")
}

// extractEntry writes one tar entry under dir, hashing it.
func extractEntry(tr *tar.Reader, hdr *tar.Header, dir string) (File, error) {
	if hdr.Typeflag != tar.TypeReg || !validName(hdr.Name) || hdr.Size < 0 {
		return File{}, fmt.Errorf("%w: unexpected entry %q", ErrCorrupt, hdr.Name)
	}
	dst := filepath.Join(dir, filepath.FromSlash(hdr.Name))
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return File{}, fmt.Errorf("backup: unpack: %w", err)
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return File{}, fmt.Errorf("%w: %s appears twice", ErrCorrupt, hdr.Name)
	}
	if err != nil {
		return File{}, fmt.Errorf("backup: unpack %s: %w", hdr.Name, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), tr)
	if cerr := f.Close(); err == nil && cerr != nil {
		return File{}, fmt.Errorf("backup: unpack %s: %w", hdr.Name, cerr)
	}
	if err != nil {
		return File{}, streamErr(err)
	}
	return File{Path: hdr.Name, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// matchManifest checks that the files unpacked are exactly the manifest's.
func matchManifest(m Manifest, got map[string]File) error {
	if len(m.Files) != len(got) {
		return fmt.Errorf("%w: the manifest lists %d files, the backup holds %d", ErrCorrupt, len(m.Files), len(got))
	}
	for _, want := range m.Files {
		g, ok := got[want.Path]
		switch {
		case !ok:
			return fmt.Errorf("%w: %s is listed in the manifest but missing", ErrCorrupt, want.Path)
		case g.Size != want.Size || g.SHA256 != want.SHA256:
			return fmt.Errorf("%w: %s does not match its SHA-256 in the manifest", ErrCorrupt, want.Path)
		}
	}
	if _, ok := got[dbName]; !ok {
		return fmt.Errorf("%w: no database in the backup", ErrCorrupt)
	}
	if _, ok := got[keyName]; ok != m.MasterKeyIncluded {
		return fmt.Errorf("%w: master_key_included does not match the files", ErrCorrupt)
	}
	return nil
}

// check runs the database, audit and vault checks on an unpacked backup in
// dir. The database is migrated in place when it is older. before, if not
// nil, runs on the opened store after every check passed (Restore audits
// there).
func check(ctx context.Context, dir string, m Manifest, opts CheckOptions, before func(*store.Store) error) (Report, error) {
	rep := Report{Manifest: m}
	known, err := store.SchemaVersion()
	if err != nil {
		return rep, err
	}
	db := filepath.Join(dir, filepath.FromSlash(dbName))
	v, err := store.FileSchemaVersion(ctx, db)
	if err != nil {
		return rep, fmt.Errorf("%w: the database does not open: %v", ErrCheck, scrub(err))
	}
	if v > known || m.Schema > known {
		return rep, fmt.Errorf("%w: its database schema is version %d, this Airlock knows up to %d; upgrade Airlock, then restore",
			ErrTooNew, max(v, m.Schema), known)
	}
	if v != m.Schema {
		return rep, fmt.Errorf("%w: the database's schema version %d differs from the manifest's %d", ErrCorrupt, v, m.Schema)
	}
	if err := store.IntegrityCheck(ctx, db); err != nil {
		return rep, fmt.Errorf("%w: %v", ErrCheck, err)
	}
	rep.Migrated = v < known
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	st, err := store.Open(ctx, db, logger)
	if err != nil {
		return rep, fmt.Errorf("%w: the database does not open: %v", ErrCheck, err)
	}
	defer st.Close()
	if err := checkAudit(ctx, st, &rep); err != nil {
		return rep, err
	}
	keyPath := opts.KeyPath
	if m.MasterKeyIncluded {
		keyPath = filepath.Join(dir, filepath.FromSlash(keyName))
	}
	if err := checkVault(ctx, st, keyPath, &rep); err != nil {
		return rep, err
	}
	if before != nil {
		return rep, before(st)
	}
	return rep, nil
}

func checkAudit(ctx context.Context, st *store.Store, rep *Report) error {
	ar, err := audit.New(st, time.Now, &redact.Holder{}).Verify(ctx)
	if err != nil {
		return fmt.Errorf("%w: audit chain: %v", ErrCheck, err)
	}
	if !ar.OK {
		return fmt.Errorf("%w: the audit chain does not verify: %s", ErrCheck, ar.Reason)
	}
	rep.AuditEntries = ar.Checked
	return nil
}

// checkVault opens every secret with the master key at keyPath.
func checkVault(ctx context.Context, st *store.Store, keyPath string, rep *Report) error {
	if keyPath == "" {
		return fmt.Errorf("%w: the backup does not include the master key; give the original key file", ErrCheck)
	}
	sealer, err := secrets.OpenKey(ctx, st, keyPath, false)
	if err != nil {
		return fmt.Errorf("%w: vault key check: the master key does not open this vault", ErrCheck)
	}
	v, err := secrets.Open(ctx, st, sealer)
	if err != nil {
		return fmt.Errorf("%w: vault key check: the master key does not open this vault", ErrCheck)
	}
	vals, err := v.Values(ctx)
	if err != nil {
		return fmt.Errorf("%w: vault: a secret does not decrypt", ErrCheck)
	}
	rep.Secrets = len(vals)
	for i := range vals {
		vals[i].Value = ""
	}
	return nil
}
