package backup

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/airlockhq/airlock/orchestrator/store"
)

// Errors of Verify and Restore, for errors.Is.
var (
	ErrDecrypt  = errors.New("backup cannot be decrypted")
	ErrCorrupt  = errors.New("backup is damaged or incomplete")
	ErrTooNew   = errors.New("backup is from a newer Airlock")
	ErrCheck    = errors.New("backup failed a check")
	ErrNotEmpty = errors.New("data directory is not empty")
)

// Source is the data a backup is made of.
type Source struct {
	// DataDir is the data directory; its database is DataDir/secure/airlock.db
	// and its workspace DataDir/workspace.
	DataDir string
	// KeyPath is the vault master key file.
	KeyPath string
	// ConfigFile is the configuration file to include; "" for none.
	ConfigFile string
	// Scratch is a private directory (on the same machine, mode 0700) for
	// the database snapshot while the backup is written, and for checking
	// it; "" means DataDir/secure.
	Scratch string
	// DB is the database file; "" means DataDir/secure/airlock.db.
	DB string
}

func (s Source) dbPath() string {
	if s.DB != "" {
		return s.DB
	}
	return filepath.Join(s.DataDir, "secure", "airlock.db")
}

func (s Source) scratch() string {
	if s.Scratch != "" {
		return s.Scratch
	}
	return filepath.Join(s.DataDir, "secure")
}

// Create writes a backup of src to the file out: into a temporary file
// beside it, synced and then renamed, so out appears only complete. It
// refuses to overwrite an existing out. now stamps the manifest.
func Create(ctx context.Context, src Source, out string, enc Encryption, now time.Time) (Manifest, error) {
	if enc.recipient == nil {
		return Manifest{}, errors.New("backup: no passphrase or recipient given")
	}
	if _, err := os.Lstat(out); err == nil {
		return Manifest{}, fmt.Errorf("backup: %s already exists; choose another name", out)
	}
	tmpDir, err := os.MkdirTemp(src.scratch(), ".airlock-backup-snap-")
	if err != nil {
		return Manifest{}, fmt.Errorf("backup: scratch directory: %w", err)
	}
	defer os.RemoveAll(tmpDir)
	snap := filepath.Join(tmpDir, "airlock.db")
	schema, err := store.Snapshot(ctx, src.dbPath(), snap)
	if err != nil {
		return Manifest{}, fmt.Errorf("backup: database snapshot: %w", err)
	}
	m := Manifest{Format: FormatVersion, Schema: schema, Created: now.UTC(), Encryption: enc.kind,
		MasterKeyIncluded: enc.includeKey}
	err = writeAtomic(out, func(w io.Writer) error { return writeArchive(ctx, w, src, snap, enc, &m) })
	if err != nil {
		return Manifest{}, err
	}
	return m, nil
}

// writeAtomic writes a file through write into a temporary file in the
// destination's directory, syncs it and renames it into place.
func writeAtomic(out string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(out)
	f, err := os.CreateTemp(dir, "."+filepath.Base(out)+".*.tmp")
	if err != nil {
		return fmt.Errorf("backup: create in %s: %w", dir, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err = write(f); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("backup: sync: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("backup: close: %w", err)
	}
	if err = os.Rename(tmp, out); err != nil {
		return fmt.Errorf("backup: rename into place: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("backup: sync directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("backup: sync directory: %w", err)
	}
	return nil
}

// writeArchive encrypts the tar stream of the backup to w, filling m.Files.
func writeArchive(ctx context.Context, w io.Writer, src Source, snap string, enc Encryption, m *Manifest) error {
	aw, err := age.Encrypt(w, enc.recipient)
	if err != nil {
		return fmt.Errorf("backup: encrypt: %w", err)
	}
	tw := tar.NewWriter(aw)
	a := &archiver{tw: tw, m: m, mtime: m.Created}
	if err := a.file(dbName, snap, true); err != nil {
		return err
	}
	if enc.includeKey {
		if err := a.file(keyName, src.KeyPath, true); err != nil {
			return fmt.Errorf("%w (the master key is needed for a backup that includes it)", err)
		}
	}
	if src.ConfigFile != "" {
		if err := a.file(configName, src.ConfigFile, false); err != nil {
			return err
		}
	}
	if err := a.tree(ctx, filepath.Join(src.DataDir, "workspace"), workspaceRoot); err != nil {
		return err
	}
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("backup: manifest: %w", err)
	}
	if err := a.bytes(manifestName, body); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("backup: write: %w", err)
	}
	if err := aw.Close(); err != nil {
		return fmt.Errorf("backup: write: %w", err)
	}
	return nil
}

// workspaceTempPrefix starts the names of the workspace's files being
// written (orchestrator/workspace).
const workspaceTempPrefix = ".airlock-tmp-"

// archiver writes files to the tar stream and records them in the manifest.
type archiver struct {
	tw    *tar.Writer
	m     *Manifest
	mtime time.Time
}

// file adds the file at path as name. A missing file is an error only if
// required.
func (a *archiver) file(name, path string, required bool) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && !required {
		return nil
	}
	if err != nil {
		return fmt.Errorf("backup: read %s: %w", name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("backup: read %s: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("backup: %s is not a regular file", name)
	}
	hdr := &tar.Header{Name: name, Mode: 0o600, Size: fi.Size(), ModTime: a.mtime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := a.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("backup: write %s: %w", name, err)
	}
	h := sha256.New()
	n, err := io.Copy(a.tw, io.TeeReader(io.LimitReader(f, fi.Size()), h))
	if err != nil {
		return fmt.Errorf("backup: write %s: %w", name, err)
	}
	if n != fi.Size() {
		return fmt.Errorf("backup: %s shrank while it was read; try again", name)
	}
	a.m.Files = append(a.m.Files, File{Path: name, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))})
	return nil
}

// bytes adds body as name, outside the manifest's file list.
func (a *archiver) bytes(name string, body []byte) error {
	hdr := &tar.Header{Name: name, Mode: 0o600, Size: int64(len(body)), ModTime: a.mtime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := a.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("backup: write %s: %w", name, err)
	}
	if _, err := a.tw.Write(body); err != nil {
		return fmt.Errorf("backup: write %s: %w", name, err)
	}
	return nil
}

// tree adds the regular files under dir as prefix/<relative path>. Other
// kinds of files (symbolic links and so on, which the workspace never
// makes) are left out. Files that disappear while the tree is walked are
// skipped; the workspace replaces files by renaming, so each file read is
// one whole version of it.
func (a *archiver) tree(ctx context.Context, dir, prefix string) error {
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		name := prefix + "/" + filepath.ToSlash(rel)
		if strings.HasPrefix(filepath.Base(path), workspaceTempPrefix) {
			return nil // a write in progress (workspace's atomicWrite)
		}
		err = a.file(name, path, false)
		return err
	})
	if err != nil {
		return fmt.Errorf("backup: workspace: %w", err)
	}
	return nil
}
