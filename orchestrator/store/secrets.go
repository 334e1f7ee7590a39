package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors of the vault tables.
var (
	// ErrKeyCheckExists is returned by SetKeyCheck when the vault already
	// has a key check: only a rotation (ReplaceAllSecrets) may change it.
	ErrKeyCheckExists = errors.New("the vault already has a key check")
	// ErrKeyCheckChanged is returned by PutSecretChecked when the stored key
	// check is not the expected one: the master key was rotated meanwhile.
	ErrKeyCheckChanged = errors.New("the vault's master key has changed")
	// ErrSecretsChanged is returned by ReplaceAllSecrets when the names given
	// are not exactly the names stored.
	ErrSecretsChanged = errors.New("the stored secrets changed meanwhile")
)

// SecretInfo describes a stored secret, without its value.
type SecretInfo struct {
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// PutSecret stores a sealed value under name, replacing any previous one,
// and reports whether the name is new. The store neither reads nor checks
// sealed: it is ciphertext from package secure/vault.
func (s *Store) PutSecret(ctx context.Context, name string, sealed []byte) (created bool, err error) {
	return s.putSecret(ctx, name, sealed, nil)
}

// PutSecretChecked is PutSecret, done only if the stored key check equals
// keyCheck (else ErrKeyCheckChanged), in the same transaction: a process
// still holding a rotated-away key cannot store a value under it.
func (s *Store) PutSecretChecked(ctx context.Context, name string, sealed, keyCheck []byte) (created bool, err error) {
	if len(keyCheck) == 0 {
		return false, fmt.Errorf("store: put secret %q: empty key check", name)
	}
	return s.putSecret(ctx, name, sealed, keyCheck)
}

func (s *Store) putSecret(ctx context.Context, name string, sealed, keyCheck []byte) (created bool, err error) {
	if name == "" || len(sealed) == 0 {
		return false, fmt.Errorf("store: put secret %q: empty name or value", name)
	}
	now := toDB(s.now())
	err = s.WriteTx(ctx, func(tx *sql.Tx) error {
		if keyCheck != nil {
			if err := sameKeyCheck(ctx, tx, keyCheck); err != nil {
				return err
			}
		}
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM secrets WHERE name = ?", name).Scan(&one)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		created = errors.Is(err, sql.ErrNoRows)
		_, err = s.exec(ctx, tx,
			"INSERT INTO secrets (name, value, created_at, updated_at) VALUES (?, ?, ?, ?)"+
				" ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
			name, sealed, now, now)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: put secret %q: %w", name, err)
	}
	return created, nil
}

// DeleteSecret removes a secret, or returns an error matching ErrNotFound.
func (s *Store) DeleteSecret(ctx context.Context, name string) error {
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, "DELETE FROM secrets WHERE name = ?", name)
		if err != nil {
			return err
		}
		return expectOneRow(res)
	})
	if err != nil {
		return fmt.Errorf("store: delete secret %q: %w", name, err)
	}
	return nil
}

// SecretBlob returns the sealed value of a secret, or an error matching
// ErrNotFound.
func (s *Store) SecretBlob(ctx context.Context, name string) ([]byte, error) {
	var blob []byte
	err := s.reader.QueryRowContext(ctx, "SELECT value FROM secrets WHERE name = ?", name).Scan(&blob)
	if err != nil {
		return nil, fmt.Errorf("store: get secret %q: %w", name, errNoRows(err))
	}
	return blob, nil
}

// ListSecrets returns every stored secret's name and times, by name.
func (s *Store) ListSecrets(ctx context.Context) ([]SecretInfo, error) {
	rows, err := s.reader.QueryContext(ctx, "SELECT name, created_at, updated_at FROM secrets ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("store: list secrets: %w", err)
	}
	defer rows.Close()
	var out []SecretInfo
	for rows.Next() {
		var si SecretInfo
		var created, updated int64
		if err := rows.Scan(&si.Name, &created, &updated); err != nil {
			return nil, fmt.Errorf("store: list secrets: %w", err)
		}
		si.CreatedAt, si.UpdatedAt = fromDB(created), fromDB(updated)
		out = append(out, si)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list secrets: %w", err)
	}
	return out, nil
}

// AllSecretBlobs returns every secret's sealed value, by name.
func (s *Store) AllSecretBlobs(ctx context.Context) (map[string][]byte, error) {
	var out map[string][]byte
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = allSecretBlobs(ctx, tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: all secrets: %w", err)
	}
	return out, nil
}

func allSecretBlobs(ctx context.Context, tx *sql.Tx) (map[string][]byte, error) {
	rows, err := tx.QueryContext(ctx, "SELECT name, value FROM secrets")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string][]byte)
	for rows.Next() {
		var name string
		var blob []byte
		if err := rows.Scan(&name, &blob); err != nil {
			return nil, err
		}
		out[name] = blob
	}
	return out, rows.Err()
}

// KeyCheck returns the vault's key check, or an error matching ErrNotFound
// when none has been stored yet (a fresh vault).
func (s *Store) KeyCheck(ctx context.Context) ([]byte, error) {
	var blob []byte
	err := s.reader.QueryRowContext(ctx, "SELECT key_check FROM vault_meta WHERE id = 1").Scan(&blob)
	if err != nil {
		return nil, fmt.Errorf("store: key check: %w", errNoRows(err))
	}
	return blob, nil
}

// sameKeyCheck returns ErrKeyCheckChanged unless the stored key check is
// want.
func sameKeyCheck(ctx context.Context, tx *sql.Tx, want []byte) error {
	var cur []byte
	err := tx.QueryRowContext(ctx, "SELECT key_check FROM vault_meta WHERE id = 1").Scan(&cur)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !bytes.Equal(cur, want) {
		return ErrKeyCheckChanged
	}
	return err
}

// SetKeyCheck stores the vault's first key check. It never replaces one
// (ErrKeyCheckExists): a key check changes only together with every
// secret, in ReplaceAllSecrets.
func (s *Store) SetKeyCheck(ctx context.Context, blob []byte) error {
	if len(blob) == 0 {
		return fmt.Errorf("store: set key check: empty key check")
	}
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx,
			"INSERT INTO vault_meta (id, key_check, created_at, rotated_at) VALUES (1, ?, ?, 0)"+
				" ON CONFLICT (id) DO NOTHING", blob, toDB(s.now()))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err == nil && n == 0 {
			err = ErrKeyCheckExists
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("store: set key check: %w", err)
	}
	return nil
}

// ReplaceAllSecrets writes re-encrypted values of every secret and the new
// key check in one transaction: all of it or nothing. blobs must name
// exactly the secrets stored (else ErrSecretsChanged, nothing written), and
// a key check must exist (else ErrNotFound). Creation and update times are
// kept: the values themselves do not change. When it returns nil the new
// state is durable on disk (the WAL has been checkpointed and synced); an
// error may still follow a commit, if that checkpoint failed.
func (s *Store) ReplaceAllSecrets(ctx context.Context, blobs map[string][]byte, keyCheck []byte) error {
	if len(keyCheck) == 0 {
		return fmt.Errorf("store: replace secrets: empty key check")
	}
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		cur, err := allSecretBlobs(ctx, tx)
		if err != nil {
			return err
		}
		if len(cur) != len(blobs) {
			return ErrSecretsChanged
		}
		for name, blob := range blobs {
			if _, ok := cur[name]; !ok || len(blob) == 0 {
				return ErrSecretsChanged
			}
			if _, err := s.exec(ctx, tx, "UPDATE secrets SET value = ? WHERE name = ?", blob, name); err != nil {
				return err
			}
		}
		res, err := s.exec(ctx, tx, "UPDATE vault_meta SET key_check = ?, rotated_at = ? WHERE id = 1",
			keyCheck, toDB(s.now()))
		if err != nil {
			return err
		}
		return expectOneRow(res)
	})
	if err != nil {
		return fmt.Errorf("store: replace secrets: %w", err)
	}
	return s.checkpoint(ctx)
}

// checkpoint copies the WAL into the database file and syncs it. With
// synchronous=NORMAL a commit survives a process crash but not a power
// loss until the next checkpoint; a key rotation must not retire the old
// key before its commit is on disk.
func (s *Store) checkpoint(ctx context.Context) error {
	var busy, logFrames, done int
	err := s.writer.QueryRowContext(ctx, "PRAGMA wal_checkpoint(FULL)").Scan(&busy, &logFrames, &done)
	if err == nil && busy != 0 {
		err = errors.New("the database stayed busy")
	}
	if err != nil {
		return fmt.Errorf("store: replace secrets: committed, but not yet made durable: checkpoint: %w", err)
	}
	return nil
}
