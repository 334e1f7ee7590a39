package secrets

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/vault"
)

// OpenKey loads the master key at keyPath for the vault in st, at
// start-up. On a fresh vault (no key check) it loads the key or, if create
// is set and the key file is missing, creates one. Otherwise the key must
// match the database's key check; if it does not but keyPath+".new" does,
// a rotation was interrupted after its commit, and OpenKey finishes it.
// A missing key file for a vault that has a key check is an error, never a
// new key; a mismatch is an error matching vault.ErrWrongKey.
func OpenKey(ctx context.Context, st *store.Store, keyPath string, create bool) (*vault.Sealer, error) {
	return openKey(ctx, st, keyPath, create, false)
}

// openKey is OpenKey; locked says the caller holds the key file's lock.
func openKey(ctx context.Context, st *store.Store, keyPath string, create, locked bool) (*vault.Sealer, error) {
	check, err := st.KeyCheck(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return openFresh(ctx, st, keyPath, create)
	}
	if err != nil {
		return nil, fmt.Errorf("secrets: open master key: %w", err)
	}
	s, err := sealerIfMatches(keyPath, check)
	if err == nil {
		// Left over from a finished rotation; it opens nothing now.
		_ = os.Remove(keyPath + ".old")
		return s, nil
	}
	if !errors.Is(err, vault.ErrWrongKey) && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("secrets: open master key: %w", err)
	}
	if _, serr := os.Lstat(keyPath + ".new"); serr != nil {
		return nil, keyError(keyPath, err)
	}
	return finishRotation(ctx, st, keyPath, locked)
}

// openFresh loads or creates the key of a vault without a key check.
func openFresh(ctx context.Context, st *store.Store, keyPath string, create bool) (*vault.Sealer, error) {
	key, err := vault.LoadKey(keyPath)
	if create && errors.Is(err, fs.ErrNotExist) {
		blobs, berr := st.AllSecretBlobs(ctx)
		if berr != nil {
			return nil, fmt.Errorf("secrets: open master key: %w", berr)
		}
		if len(blobs) > 0 {
			return nil, keyError(keyPath, err)
		}
		key, _, err = vault.LoadOrCreateKey(keyPath)
	}
	if err != nil {
		return nil, fmt.Errorf("secrets: open master key: %w", err)
	}
	return vault.NewSealer(key)
}

// sealerIfMatches loads the key at path and checks it against check.
func sealerIfMatches(path string, check []byte) (*vault.Sealer, error) {
	key, err := vault.LoadKey(path)
	if err != nil {
		return nil, err
	}
	s, err := vault.NewSealer(key)
	if err != nil {
		return nil, err
	}
	if err := s.VerifyKeyCheck(check); err != nil {
		return nil, err
	}
	return s, nil
}

// keyError is the start-up error for a key file that is missing or does not
// open the database.
func keyError(keyPath string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("secrets: master key %s is missing, but the database holds secrets sealed with a master key;"+
			" restore that key file (or point AIRLOCK_MASTER_KEY_FILE at it): a new key would not open them: %w",
			keyPath, vault.ErrWrongKey)
	}
	return fmt.Errorf("secrets: master key %s: %w (wrong key file?)", keyPath, vault.ErrWrongKey)
}

// finishRotation completes a rotation whose database commit happened but
// whose key file was not moved into place: keyPath+".new" opens the
// database, so it becomes keyPath.
func finishRotation(ctx context.Context, st *store.Store, keyPath string, locked bool) (*vault.Sealer, error) {
	if !locked {
		unlock, err := vault.LockKeyFile(keyPath)
		if err != nil {
			return nil, fmt.Errorf("secrets: open master key: %w", err)
		}
		defer unlock()
	}
	// Under the lock, look again: a rotation may have just finished.
	check, err := st.KeyCheck(ctx)
	if err != nil {
		return nil, fmt.Errorf("secrets: open master key: %w", err)
	}
	if s, err := sealerIfMatches(keyPath, check); err == nil {
		return s, nil
	}
	s, err := sealerIfMatches(keyPath+".new", check)
	if err != nil {
		return nil, keyError(keyPath, vault.ErrWrongKey)
	}
	if err := vault.PromoteKeyFile(keyPath); err != nil {
		return nil, fmt.Errorf("secrets: finish interrupted key rotation: %w", err)
	}
	return s, nil
}
