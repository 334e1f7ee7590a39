package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestSettingsSeededRow(t *testing.T) {
	s, _, _ := newTestStore(t)
	r, err := s.Settings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r != (StoredSettings{Doc: "{}"}) {
		t.Errorf("fresh settings = %+v, want an empty document at version 0", r)
	}
}

func TestUpdateSettingsWritesAndSurvivesReopen(t *testing.T) {
	s, clk, path := newTestStore(t)
	ctx := context.Background()
	r, written, err := s.UpdateSettings(ctx, "admin:alice", func(cur StoredSettings) (string, bool, error) {
		if cur.Version != 0 || cur.Doc != "{}" {
			t.Errorf("cur = %+v", cur)
		}
		return `{"llm":{"model":"m"}}`, true, nil
	})
	if err != nil || !written {
		t.Fatalf("UpdateSettings = %v, %v", written, err)
	}
	want := StoredSettings{Doc: `{"llm":{"model":"m"}}`, Version: 1, UpdatedAt: clk.Now(), UpdatedBy: "admin:alice"}
	if r != want {
		t.Errorf("returned %+v, want %+v", r, want)
	}
	s.Close()
	got, err := openAt(t, path).Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("after reopen %+v, want %+v", got, want)
	}
}

func TestUpdateSettingsNoWrite(t *testing.T) {
	s, _, path := newTestStore(t)
	ctx := context.Background()
	r, written, err := s.UpdateSettings(ctx, "admin:a", func(StoredSettings) (string, bool, error) {
		return `{"x":1}`, false, nil
	})
	if err != nil || written || r.Version != 0 || r.Doc != "{}" {
		t.Fatalf("no-write update = %+v, %v, %v", r, written, err)
	}
	boom := errors.New("boom")
	if _, _, err := s.UpdateSettings(ctx, "admin:a", func(StoredSettings) (string, bool, error) {
		return `{"x":1}`, true, boom
	}); !errors.Is(err, boom) {
		t.Errorf("error from next = %v, want %v", err, boom)
	}
	var doc string
	var version int64
	if err := rawDB(t, path).QueryRow("SELECT doc, version FROM settings WHERE id = 1").Scan(&doc, &version); err != nil {
		t.Fatal(err)
	}
	if doc != "{}" || version != 0 {
		t.Errorf("stored %q version %d after refused updates", doc, version)
	}
}

func TestUpdateSettingsRefusesBadInput(t *testing.T) {
	s, _, _ := newTestStore(t)
	ctx := context.Background()
	for _, doc := range []string{"", "[]", "null", `"x"`, "{", string(make([]byte, maxSettingsBytes+1))} {
		_, _, err := s.UpdateSettings(ctx, "admin:a", func(StoredSettings) (string, bool, error) { return doc, true, nil })
		if err == nil {
			t.Errorf("doc %.20q accepted", doc)
		}
	}
	for _, by := range []string{"", string(make([]byte, 257))} {
		_, _, err := s.UpdateSettings(ctx, by, func(StoredSettings) (string, bool, error) { return "{}", true, nil })
		if err == nil {
			t.Errorf("updatedBy of %d bytes accepted", len(by))
		}
	}
}

func TestSettingsTableChecks(t *testing.T) {
	_, _, path := newTestStore(t)
	db := rawDB(t, path)
	for _, q := range []string{
		"INSERT INTO settings (id, doc, version, updated_at, updated_by) VALUES (2, '{}', 0, 0, '')",
		"UPDATE settings SET doc = '[1]' WHERE id = 1",
		"UPDATE settings SET doc = 'nope' WHERE id = 1",
		"UPDATE settings SET version = -1 WHERE id = 1",
	} {
		if _, err := db.Exec(q); err == nil {
			t.Errorf("%s: accepted", q)
		}
	}
}

func TestUpdateSettingsConcurrent(t *testing.T) {
	s, clk, _ := newTestStore(t)
	ctx := context.Background()
	const n = 16
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			clk.Advance(time.Second)
			_, _, err := s.UpdateSettings(ctx, "admin:a", func(cur StoredSettings) (string, bool, error) {
				return cur.Doc, true, nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	r, err := s.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != n {
		t.Errorf("version = %d after %d writes", r.Version, n)
	}
}
