package secrets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/vault"
)

// Rotate replaces the master key at keyPath with a new random key and
// re-encrypts every secret and the key check under it, crash-safely:
//
//  1. under the key file's lock, the current key is checked against the
//     database (finishing an earlier interrupted rotation if need be);
//  2. the new key is written to keyPath+".new" (0600, atomic, synced);
//  3. all values and the new key check are written in one transaction,
//     made durable before going on;
//  4. keyPath+".new" is renamed over keyPath (the old key is kept as
//     keyPath+".old" until the rename is durable, then removed).
//
// A crash before 3 leaves the old key in force (the stale ".new" is removed
// by the next rotation); a crash after 3 is finished by OpenKey. Run it
// with the orchestrator stopped, or through (*Vault).Rotate in the running
// orchestrator: another process's Vault notices the change and refuses to
// store values until restarted.
func Rotate(ctx context.Context, st *store.Store, keyPath string) error {
	_, _, err := rotate(ctx, st, keyPath)
	return err
}

// Rotate is the package's Rotate for the running orchestrator: it blocks
// the vault's other calls meanwhile, then uses the new key and runs the
// OnChange hooks. keyPath must be the file the vault's key came from.
func (v *Vault) Rotate(ctx context.Context, keyPath string) error {
	v.mu.Lock()
	sealer, check, err := rotate(ctx, v.st, keyPath)
	if sealer != nil {
		// The database uses the new key, even if a later step failed.
		v.sealer, v.keyCheck = sealer, check
	}
	v.mu.Unlock()
	if sealer != nil {
		v.notify()
	}
	return err
}

func rotate(ctx context.Context, st *store.Store, keyPath string) (*vault.Sealer, []byte, error) {
	unlock, err := vault.LockKeyFile(keyPath)
	if err != nil {
		return nil, nil, fmt.Errorf("secrets: rotate master key: %w", err)
	}
	defer unlock()
	if _, err := st.KeyCheck(ctx); err != nil {
		return nil, nil, fmt.Errorf("secrets: rotate master key: no key check (start the orchestrator once first): %w", err)
	}
	old, err := openKey(ctx, st, keyPath, false, true)
	if err != nil {
		return nil, nil, err
	}
	// keyPath opens the database, so a ".new" is from a rotation that never
	// committed, and no rotation is running: we hold the lock.
	if err := os.Remove(keyPath + ".new"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("secrets: rotate master key: remove stale key: %w", err)
	}
	key, err := vault.GenerateKey()
	if err != nil {
		return nil, nil, err
	}
	sealer, err := vault.NewSealer(key)
	if err != nil {
		return nil, nil, err
	}
	if err := vault.WriteKeyFile(keyPath+".new", key); err != nil {
		return nil, nil, fmt.Errorf("secrets: rotate master key: %w", err)
	}
	check, err := reseal(ctx, st, old, sealer)
	if err != nil {
		if !committed(ctx, st, check) {
			return nil, nil, fmt.Errorf("secrets: rotate master key: %w", err)
		}
		return sealer, check, fmt.Errorf("secrets: rotate master key: %w (the database uses the new key in %s.new;"+
			" the next start moves it into place)", err, keyPath)
	}
	if err := vault.PromoteKeyFile(keyPath); err != nil {
		return sealer, check, fmt.Errorf("secrets: rotate master key: the database uses the new key in %s.new,"+
			" but moving it into place failed (the next start finishes it): %w", keyPath, err)
	}
	return sealer, check, nil
}

// committed reports whether the database's key check is check: a failed
// rotation may still have committed (only its checkpoint failed).
func committed(ctx context.Context, st *store.Store, check []byte) bool {
	cur, err := st.KeyCheck(ctx)
	return err == nil && check != nil && bytes.Equal(cur, check)
}

// reseal re-encrypts every secret from old to sealer and stores them with
// sealer's key check in one transaction, returning that key check (also
// with an error from ReplaceAllSecrets, which may follow a commit).
func reseal(ctx context.Context, st *store.Store, old, sealer *vault.Sealer) ([]byte, error) {
	blobs, err := st.AllSecretBlobs(ctx)
	if err != nil {
		return nil, err
	}
	for name, blob := range blobs {
		plain, err := old.Open(name, blob)
		if err != nil {
			return nil, fmt.Errorf("secret %s: %w", name, err)
		}
		blobs[name], err = sealer.Seal(name, plain)
		clear(plain)
		if err != nil {
			return nil, err
		}
	}
	check, err := sealer.KeyCheck()
	if err != nil {
		return nil, err
	}
	// On error check is still returned, to tell whether it was committed.
	return check, st.ReplaceAllSecrets(ctx, blobs, check)
}
