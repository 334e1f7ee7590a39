package settings

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// ActionUpdated is the audit action of a successful Update.
const ActionUpdated = "settings.updated"

// Service holds the effective settings and changes them. It is safe for
// concurrent use.
type Service struct {
	st       *store.Store
	auditFn  func(context.Context, audit.Event)
	defaults Settings
	locked   map[string]string
	ignored  []FieldError

	cur atomic.Pointer[Settings] // never modified once stored

	mu        sync.Mutex // serializes Update and guards listeners
	listeners []func(old, new Settings)
}

// New loads the stored settings over defaults (usually FromConfig of the
// loaded configuration). locked maps the dotted names of the fields set by
// environment variables to the variables' names (usually LockedByEnv);
// those fields keep their default. auditFn records every successful Update
// and is required.
//
// New fails when defaults (normalized) are invalid, naming each field and
// the variable that set it if any, and when locked names an unknown field.
// Stored fields that cannot be used are not an error: they are replaced by
// their defaults and reported by Ignored.
func New(ctx context.Context, st *store.Store, auditFn func(context.Context, audit.Event),
	defaults Settings, locked map[string]string) (*Service, error) {
	if st == nil || auditFn == nil {
		return nil, errors.New("settings: a store and an audit function are required")
	}
	for key := range locked {
		if fieldByKey(key) == nil {
			return nil, fmt.Errorf("settings: locked field %q is not a setting", key)
		}
	}
	s := &Service{st: st, auditFn: auditFn, defaults: defaults.Normalize(), locked: maps.Clone(locked)}
	if err := s.defaults.Validate(); err != nil {
		return nil, fmt.Errorf("settings: the configuration's values are not valid settings: %w", s.nameEnv(err))
	}
	row, err := st.Settings(ctx)
	if err != nil {
		return nil, fmt.Errorf("settings: load: %w", err)
	}
	doc, err := parseDocument(row.Doc)
	if err != nil {
		return nil, fmt.Errorf("settings: load: %w", err)
	}
	cur, ignored := effective(s.defaults, s.locked, doc)
	s.ignored = ignored
	s.cur.Store(&cur)
	return s, nil
}

// Get returns the current effective settings. It takes no lock.
func (s *Service) Get() Settings { return s.cur.Load().clone() }

// Locked returns a copy of the locked fields: dotted name to the name of
// the environment variable that sets it.
func (s *Service) Locked() map[string]string { return maps.Clone(s.locked) }

// Ignored reports the stored fields New could not use and replaced by their
// defaults (for a warning in the log); they are dropped from the document
// by the next Update.
func (s *Service) Ignored() []FieldError { return slices.Clone(s.ignored) }

// OnChange registers fn, called after each successful Update that changed
// something, with the settings before and after, in registration order. fn
// runs while Update holds the service's lock: it may call Get but must not
// call Update or OnChange.
func (s *Service) OnChange(fn func(old, new Settings)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listeners = append(s.listeners, fn)
}

// Update makes next (normalized) the effective settings and returns them.
// A value that is invalid, or changes a locked field, is refused with a
// *ValidationError listing every problem; nothing is then written. actor
// is who asks ("admin:alice"), for the audit log and the stored row.
func (s *Service) Update(ctx context.Context, actor string, next Settings) (Settings, error) {
	if actor == "" {
		return Settings{}, errors.New("settings: update: an actor is required")
	}
	next, err := s.check(next)
	if err != nil {
		return Settings{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(changed(s.cur.Load(), &next)) == 0 {
		return s.Get(), nil
	}
	var old Settings
	row, written, err := s.st.UpdateSettings(ctx, actor, func(row store.StoredSettings) (string, bool, error) {
		// The stored row, not the cache, is the truth inside the transaction.
		doc, err := parseDocument(row.Doc)
		if err != nil {
			return "", false, err
		}
		old, _ = effective(s.defaults, s.locked, doc)
		if len(changed(&old, &next)) == 0 {
			return "", false, nil
		}
		nd, err := doc.withUpdate(next, s.defaults, s.locked)
		if err != nil {
			return "", false, err
		}
		text, err := nd.marshal()
		return text, err == nil, err
	})
	if err != nil {
		return Settings{}, fmt.Errorf("settings: update: %w", err)
	}
	stored := next.clone()
	s.cur.Store(&stored)
	if !written {
		return next, nil
	}
	diff := make(map[string]any)
	for _, f := range changed(&old, &next) {
		diff[f.key()] = f.value(&next)
	}
	s.auditFn(context.WithoutCancel(ctx), audit.Event{Actor: actor, Action: ActionUpdated, Target: "settings",
		Outcome: audit.OutcomeOK, Details: map[string]any{"changed": diff, "version": row.Version}})
	for _, fn := range s.listeners {
		fn(old.clone(), next.clone())
	}
	return next, nil
}

// check normalizes next, refuses changes to locked fields, forces them to
// their defaults and validates the result.
func (s *Service) check(next Settings) (Settings, error) {
	next = next.Normalize()
	var v validator
	for _, f := range fields {
		env := s.locked[f.key()]
		if env == "" {
			continue
		}
		if !f.equal(&next, &s.defaults) {
			v.fail(f.key(), "is set by the environment variable %s and can only be changed there", env)
		}
		f.copyTo(&next, &s.defaults)
	}
	var ve *ValidationError
	if errors.As(next.Validate(), &ve) {
		v.problems = append(v.problems, ve.Problems...)
	}
	if err := v.err(); err != nil {
		sortProblems(err.(*ValidationError))
		return Settings{}, err
	}
	return next, nil
}

// nameEnv adds to each problem of a *ValidationError the environment
// variable that set the field, if one did.
func (s *Service) nameEnv(err error) error {
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	out := &ValidationError{Problems: slices.Clone(ve.Problems)}
	for i, p := range out.Problems {
		if env := s.locked[p.Field]; env != "" {
			out.Problems[i].Message += " (set by the environment variable " + env + ")"
		}
	}
	return out
}

// sortProblems orders problems by field, in document order, keeping the
// order of the problems of one field.
func sortProblems(ve *ValidationError) {
	order := make(map[string]int, len(fields))
	for i, f := range fields {
		order[f.key()] = i
	}
	slices.SortStableFunc(ve.Problems, func(a, b FieldError) int { return cmp.Compare(order[a.Field], order[b.Field]) })
}
