package settings

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/config"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// recorder collects audit events.
type recorder struct {
	mu     sync.Mutex
	events []audit.Event
}

func (r *recorder) record(_ context.Context, ev audit.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

func (r *recorder) all() []audit.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]audit.Event(nil), r.events...)
}

// openStore opens (creating it) the database at path, closed at the end of
// the test.
func openStore(t *testing.T, path string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func tempDB(t *testing.T) string { return filepath.Join(t.TempDir(), "airlock.db") }

// defaults are the settings of a fresh container install.
func defaults() Settings { return FromConfig(config.Defaults(false)) }

// newService opens a Service on st with defaults d, failing the test on
// error.
func newService(t *testing.T, st *store.Store, d Settings, locked map[string]string) (*Service, *recorder) {
	t.Helper()
	rec := &recorder{}
	s, err := New(context.Background(), st, rec.record, d, locked)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, rec
}

// stored returns the stored settings row.
func stored(t *testing.T, st *store.Store) store.StoredSettings {
	t.Helper()
	r, err := st.Settings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// storeDoc writes doc as the stored document, as a previous binary might
// have.
func storeDoc(t *testing.T, st *store.Store, doc string) {
	t.Helper()
	_, _, err := st.UpdateSettings(context.Background(), "test", func(store.StoredSettings) (string, bool, error) {
		return doc, true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
