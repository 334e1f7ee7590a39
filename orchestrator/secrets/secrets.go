// Package secrets is the orchestrator's secrets vault: named secret values
// sealed by package secure/vault and kept in the store, plus values the
// environment provides (the LLM key, the Discord token), which take
// precedence. It also finds, checks and rotates the master key.
//
// Invariants:
//   - Values are stored only sealed (AES-256-GCM, the name as associated
//     data). Nothing in this package logs, and no error it returns contains
//     a value: errors name secrets, never quote them.
//   - List returns names, origins and times, never values. Get, Lookup and
//     Values are for the system side only (the LLM gateway, the Discord
//     adapter, the redactor); no API handler may return their results.
//   - Open refuses a master key that does not match the database's key
//     check (vault.ErrWrongKey); a wrong key never yields garbage values.
//   - Every successful Set, Delete, AddEnv and Rotate runs the OnChange
//     hooks before returning, one change at a time, so a redactor rebuilt by
//     a hook knows a new secret before the call that added it returns.
//   - A value is stored only if the database's key check is still the one
//     this Vault verified, so a process holding a rotated-away key cannot
//     write values nobody could read.
//   - Key rotation is crash-safe: at every point, either the key file or
//     its ".new" sibling opens the database, and OpenKey finishes an
//     interrupted rotation.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/vault"
)

// Names under which the orchestrator's own credentials live in the vault.
const (
	LLMAPIKey    = "LLM_API_KEY"
	DiscordToken = "DISCORD_TOKEN"
)

// SystemPrefix begins the names of the secrets Airlock keeps for itself:
// the OAuth tokens and registered clients of external MCP servers
// (orchestrator/integration). No script may be granted one, whatever its
// approval says: they are for the orchestrator's own connections only.
const SystemPrefix = "MCP_OAUTH_"

// IsSystem reports whether name is one of Airlock's own secrets
// (SystemPrefix).
func IsSystem(name string) bool { return strings.HasPrefix(name, SystemPrefix) }

// OriginVault is the origin of a value stored in the vault. Values from the
// environment have the origin "environment (<source>)".
const OriginVault = "vault"

// ErrNotFound is store.ErrNotFound: no secret of that name.
var ErrNotFound = store.ErrNotFound

// ErrFromEnvironment is returned by Delete for a secret that only the
// environment provides: it cannot be deleted through the vault.
var ErrFromEnvironment = errors.New("the secret is set by the environment")

// Info describes a secret without its value.
type Info struct {
	Name string `json:"name"`
	// Origin is OriginVault or "environment (<source>)"; the environment
	// wins when both have a value.
	Origin string `json:"origin"`
	// Stored reports whether the vault holds a value (possibly overridden
	// by the environment). The times are zero when it does not.
	Stored    bool      `json:"stored"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// NameValue is a secret's value, for building the redactor.
type NameValue struct {
	Name, Value string
}

// envSecret is a value the environment provides.
type envSecret struct {
	value, source, origin string
}

// Vault is the secrets vault. It is safe for concurrent use.
type Vault struct {
	st *store.Store

	// mu guards the fields below; Rotate holds it for writing.
	mu       sync.RWMutex
	sealer   *vault.Sealer
	keyCheck []byte
	env      map[string]envSecret
	hooks    []func()

	// notifyMu runs the hooks of one change at a time.
	notifyMu sync.Mutex
}

// Open returns the vault kept in st, sealed with sealer. On a fresh
// database it stores sealer's key check; otherwise it verifies it, and a
// mismatch is an error matching vault.ErrWrongKey (the caller names the
// key file).
func Open(ctx context.Context, st *store.Store, sealer *vault.Sealer) (*Vault, error) {
	check, err := st.KeyCheck(ctx)
	switch {
	case errors.Is(err, store.ErrNotFound):
		check, err = initKeyCheck(ctx, st, sealer)
	case err == nil:
		err = sealer.VerifyKeyCheck(check)
	}
	if err != nil {
		return nil, fmt.Errorf("secrets: open vault: %w", err)
	}
	return &Vault{st: st, sealer: sealer, keyCheck: check, env: make(map[string]envSecret)}, nil
}

// initKeyCheck stores sealer's key check in a vault that has none yet. A
// vault holding secrets but no key check gets one only if every secret
// opens with sealer.
func initKeyCheck(ctx context.Context, st *store.Store, sealer *vault.Sealer) ([]byte, error) {
	if err := openAll(ctx, st, sealer); err != nil {
		return nil, err
	}
	check, err := sealer.KeyCheck()
	if err != nil {
		return nil, err
	}
	err = st.SetKeyCheck(ctx, check)
	if errors.Is(err, store.ErrKeyCheckExists) {
		// Another process initialised it meanwhile: verify theirs.
		if check, err = st.KeyCheck(ctx); err == nil {
			err = sealer.VerifyKeyCheck(check)
		}
	}
	if err != nil {
		return nil, err
	}
	return check, nil
}

// openAll returns an error matching vault.ErrWrongKey unless every stored
// secret opens with sealer.
func openAll(ctx context.Context, st *store.Store, sealer *vault.Sealer) error {
	blobs, err := st.AllSecretBlobs(ctx)
	if err != nil {
		return err
	}
	for name, blob := range blobs {
		v, err := sealer.Open(name, blob)
		clear(v)
		if err != nil {
			return fmt.Errorf("secret %s does not open with this key: %w", name, vault.ErrWrongKey)
		}
	}
	return nil
}

// OnChange registers fn, called after every successful Set, Delete, AddEnv
// and Rotate, before that call returns. Calls are serialised; fn may call
// the Vault's read methods but not its write methods.
func (v *Vault) OnChange(fn func()) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.hooks = append(v.hooks, fn)
}

// notify runs the hooks. The caller must not hold mu.
func (v *Vault) notify() {
	v.notifyMu.Lock()
	defer v.notifyMu.Unlock()
	v.mu.RLock()
	hooks := v.hooks
	v.mu.RUnlock()
	for _, fn := range hooks {
		fn()
	}
}
