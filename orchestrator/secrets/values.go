package secrets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/vault"
)

// Set stores value under name, sealed, and reports whether the name is
// new to the vault. Name and value are checked with vault.ValidName and
// vault.ValidValue (errors matching vault.ErrInvalidName or
// vault.ErrInvalidValue). An environment value of the same name still
// takes precedence.
func (v *Vault) Set(ctx context.Context, name, value string) (created bool, err error) {
	if err := vault.ValidName(name); err != nil {
		return false, fmt.Errorf("secrets: set: %w", err)
	}
	if err := vault.ValidValue(value); err != nil {
		return false, fmt.Errorf("secrets: set %s: %w", name, err)
	}
	created, err = v.put(ctx, name, value)
	if err != nil {
		return false, fmt.Errorf("secrets: set %s: %w", name, err)
	}
	v.notify()
	return created, nil
}

func (v *Vault) put(ctx context.Context, name, value string) (bool, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	blob, err := v.sealer.Seal(name, []byte(value))
	if err != nil {
		return false, err
	}
	created, err := v.st.PutSecretChecked(ctx, name, blob, v.keyCheck)
	if errors.Is(err, store.ErrKeyCheckChanged) {
		return false, fmt.Errorf("the master key was rotated by another process; restart the orchestrator: %w", err)
	}
	return created, err
}

// Delete removes a secret from the vault: an error matching ErrNotFound if
// it holds none, or ErrFromEnvironment if only the environment sets it.
func (v *Vault) Delete(ctx context.Context, name string) error {
	if err := vault.ValidName(name); err != nil {
		return fmt.Errorf("secrets: delete: %w", err)
	}
	err := v.st.DeleteSecret(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		if e, ok := v.envSecret(name); ok {
			return fmt.Errorf("secrets: delete %s: %w (%s); unset it there to remove it", name, ErrFromEnvironment, e.source)
		}
	}
	if err != nil {
		return fmt.Errorf("secrets: delete %s: %w", name, err)
	}
	v.notify()
	return nil
}

// Get returns the value of a secret, the environment's if it provides one,
// or an error matching ErrNotFound. System side only.
func (v *Vault) Get(ctx context.Context, name string) (string, error) {
	value, _, err := v.Lookup(ctx, name)
	return value, err
}

// Lookup is Get, and also reports where the value comes from: OriginVault
// or "environment (<source>)".
func (v *Vault) Lookup(ctx context.Context, name string) (value, origin string, err error) {
	if e, ok := v.envSecret(name); ok {
		return e.value, e.origin, nil
	}
	if err := vault.ValidName(name); err != nil {
		return "", "", fmt.Errorf("secrets: get: %w", ErrNotFound)
	}
	blob, err := v.st.SecretBlob(ctx, name)
	if err != nil {
		return "", "", fmt.Errorf("secrets: get %s: %w", name, err)
	}
	plain, err := v.open(ctx, name, blob)
	if err != nil {
		return "", "", fmt.Errorf("secrets: get %s: %w", name, err)
	}
	return string(plain), OriginVault, nil
}

// open decrypts a blob. On failure it tells a key rotated by another
// process apart from a damaged value.
func (v *Vault) open(ctx context.Context, name string, blob []byte) ([]byte, error) {
	v.mu.RLock()
	sealer, mine := v.sealer, v.keyCheck
	v.mu.RUnlock()
	plain, err := sealer.Open(name, blob)
	if err == nil {
		return plain, nil
	}
	if cur, kerr := v.st.KeyCheck(ctx); kerr == nil && !bytes.Equal(cur, mine) {
		return nil, fmt.Errorf("the master key was rotated by another process; restart the orchestrator: %w", err)
	}
	return nil, fmt.Errorf("stored value is damaged or was moved from another name: %w", err)
}

// List returns every secret's name, origin and times, by name: those in
// the vault and those the environment provides. Never values.
func (v *Vault) List(ctx context.Context) ([]Info, error) {
	stored, err := v.st.ListSecrets(ctx)
	if err != nil {
		return nil, fmt.Errorf("secrets: list: %w", err)
	}
	byName := make(map[string]Info, len(stored))
	for _, s := range stored {
		byName[s.Name] = Info{Name: s.Name, Origin: OriginVault, Stored: true, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
	}
	v.mu.RLock()
	for name, e := range v.env {
		in := byName[name]
		in.Name, in.Origin = name, e.origin
		byName[name] = in
	}
	v.mu.RUnlock()
	out := make([]Info, 0, len(byName))
	for _, in := range byName {
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Values returns every secret value, for the redactor: the vault's and the
// environment's, by name. A name both provide appears twice when the values
// differ, since both are secret. System side only.
func (v *Vault) Values(ctx context.Context) ([]NameValue, error) {
	blobs, err := v.st.AllSecretBlobs(ctx)
	if err != nil {
		return nil, fmt.Errorf("secrets: values: %w", err)
	}
	out := make([]NameValue, 0, len(blobs))
	for name, blob := range blobs {
		plain, err := v.open(ctx, name, blob)
		if err != nil {
			return nil, fmt.Errorf("secrets: values: %s: %w", name, err)
		}
		out = append(out, NameValue{Name: name, Value: string(plain)})
	}
	v.mu.RLock()
	for name, e := range v.env {
		out = append(out, NameValue{Name: name, Value: e.value})
	}
	v.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return dedup(out), nil
}

// dedup drops repeated identical entries from a sorted list.
func dedup(nv []NameValue) []NameValue {
	out := nv[:0]
	for _, x := range nv {
		dup := false
		for i := len(out) - 1; i >= 0 && out[i].Name == x.Name; i-- {
			dup = dup || out[i].Value == x.Value
		}
		if !dup {
			out = append(out, x)
		}
	}
	return out
}
