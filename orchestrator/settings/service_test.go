package settings

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator/audit"
)

func TestNewStartsFromDefaults(t *testing.T) {
	st := openStore(t, tempDB(t))
	s, rec := newService(t, st, defaults(), nil)
	if got := s.Get(); !reflect.DeepEqual(got, defaults()) {
		t.Errorf("Get = %+v, want the defaults", got)
	}
	if len(rec.all()) != 0 || stored(t, st).Version != 0 || len(s.Ignored()) != 0 {
		t.Error("New wrote, audited or ignored something")
	}
}

func TestUpdateRoundTripAndRestart(t *testing.T) {
	path := tempDB(t)
	st := openStore(t, path)
	alog := audit.New(st, nil, nil)
	var appendErr error
	s, err := New(t.Context(), st, func(ctx context.Context, ev audit.Event) {
		_, appendErr = alog.Append(ctx, ev)
	}, defaults(), nil)
	if err != nil {
		t.Fatal(err)
	}
	next := s.Get()
	next.LLM.Model = "gpt-4o"
	next.Agent.TaskTimeout = 5 * time.Minute
	next.Discord.Admins = []string{"12345678901234567"}
	next.EgressAllow = []string{"10.0.0.0/8"}
	got, err := s.Update(t.Context(), "admin:alice", next)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, next) || !reflect.DeepEqual(s.Get(), next) {
		t.Errorf("after Update: returned %+v, Get %+v, want %+v", got, s.Get(), next)
	}
	if appendErr != nil {
		t.Fatalf("audit append: %v", appendErr)
	}

	// Only the changed fields are stored.
	row := stored(t, st)
	if row.Version != 1 || row.UpdatedBy != "admin:alice" || row.UpdatedAt.IsZero() {
		t.Errorf("row = %+v", row)
	}
	want := `{"agent":{"task_timeout":"5m0s"},"discord":{"admins":["12345678901234567"]},"egress_allow":["10.0.0.0/8"],"llm":{"model":"gpt-4o"}}`
	if row.Doc != want {
		t.Errorf("stored doc\n%s\nwant\n%s", row.Doc, want)
	}

	// The audit entry names each changed field and its new value.
	entries, err := alog.List(t.Context(), audit.Filter{Action: ActionUpdated})
	if err != nil || len(entries) != 1 {
		t.Fatalf("audit entries = %v, %v", entries, err)
	}
	var details struct {
		Changed map[string]any `json:"changed"`
		Version int64          `json:"version"`
	}
	if err := json.Unmarshal(entries[0].Details, &details); err != nil {
		t.Fatal(err)
	}
	wantChanged := map[string]any{"llm.model": "gpt-4o", "agent.task_timeout": "5m0s",
		"discord.admins": []any{"12345678901234567"}, "egress_allow": []any{"10.0.0.0/8"}}
	if entries[0].Actor != "admin:alice" || details.Version != 1 || !reflect.DeepEqual(details.Changed, wantChanged) {
		t.Errorf("audit entry %+v details %s", entries[0], entries[0].Details)
	}

	// A second service on the same database, and one after reopening it,
	// see the update.
	s2, _ := newService(t, st, defaults(), nil)
	if !reflect.DeepEqual(s2.Get(), next) {
		t.Errorf("second service Get = %+v", s2.Get())
	}
	st.Close()
	s3, _ := newService(t, openStore(t, path), defaults(), nil)
	if !reflect.DeepEqual(s3.Get(), next) {
		t.Errorf("after reopen Get = %+v", s3.Get())
	}
}

func TestFieldBackToDefaultFollowsConfig(t *testing.T) {
	st := openStore(t, tempDB(t))
	s, _ := newService(t, st, defaults(), nil)
	next := s.Get()
	next.Agent.MaxRounds = 20
	next.LLM.Model = "m1"
	if _, err := s.Update(t.Context(), "admin:a", next); err != nil {
		t.Fatal(err)
	}
	next.Agent.MaxRounds = defaults().Agent.MaxRounds
	if _, err := s.Update(t.Context(), "admin:a", next); err != nil {
		t.Fatal(err)
	}
	if doc := stored(t, st).Doc; doc != `{"llm":{"model":"m1"}}` {
		t.Errorf("doc = %s, want only the model", doc)
	}
	// The config's default changed: the field set back to default follows
	// it, the stored one does not.
	d := defaults()
	d.Agent.MaxRounds = 12
	d.LLM.Model = "config-model"
	s2, _ := newService(t, st, d, nil)
	if got := s2.Get(); got.Agent.MaxRounds != 12 || got.LLM.Model != "m1" {
		t.Errorf("with new defaults: max_rounds %d model %q", got.Agent.MaxRounds, got.LLM.Model)
	}
}

func TestLockedFieldRefused(t *testing.T) {
	st := openStore(t, tempDB(t))
	d := defaults()
	d.LLM.Model = "env-model"
	locked := map[string]string{"llm.model": "AIRLOCK_LLM_MODEL"}
	s, rec := newService(t, st, d, locked)
	next := s.Get()
	next.LLM.Model = "other"
	next.Agent.MaxRounds = 0 // also invalid: both are reported
	_, err := s.Update(t.Context(), "admin:a", next)
	var ve *ValidationError
	if !errors.As(err, &ve) || !slices.Equal(ve.Fields(), []string{"llm.model", "agent.max_rounds"}) {
		t.Fatalf("Update = %v, want problems on llm.model and agent.max_rounds", err)
	}
	if !strings.Contains(ve.Problems[0].Message, "AIRLOCK_LLM_MODEL") {
		t.Errorf("message %q does not name the variable", ve.Problems[0].Message)
	}
	if stored(t, st).Version != 0 || len(rec.all()) != 0 || s.Get().LLM.Model != "env-model" {
		t.Error("a refused update wrote, audited or changed something")
	}

	// Sending the locked value back unchanged is fine.
	next = s.Get()
	next.Agent.MaxRounds = 9
	if _, err := s.Update(t.Context(), "admin:a", next); err != nil {
		t.Fatal(err)
	}
	if got := s.Locked(); !reflect.DeepEqual(got, locked) {
		t.Errorf("Locked = %v", got)
	}
	s.Locked()["llm.model"] = "X"
	if s.Locked()["llm.model"] != "AIRLOCK_LLM_MODEL" {
		t.Error("Locked returned the service's own map")
	}
}

func TestLockedFieldKeepsEnvValueOverStored(t *testing.T) {
	st := openStore(t, tempDB(t))
	s, _ := newService(t, st, defaults(), nil)
	next := s.Get()
	next.LLM.Model = "stored-model"
	if _, err := s.Update(t.Context(), "admin:a", next); err != nil {
		t.Fatal(err)
	}

	// Now the environment sets the model.
	d := defaults()
	d.LLM.Model = "env-model"
	locked := map[string]string{"llm.model": "AIRLOCK_LLM_MODEL"}
	s2, _ := newService(t, st, d, locked)
	if got := s2.Get().LLM.Model; got != "env-model" {
		t.Fatalf("locked model = %q, want the environment's", got)
	}
	// Updating another field leaves the stored model alone...
	next = s2.Get()
	next.LLM.MaxTokens = 1000
	if _, err := s2.Update(t.Context(), "admin:a", next); err != nil {
		t.Fatal(err)
	}
	if got := s2.Get(); got.LLM.Model != "env-model" || got.LLM.MaxTokens != 1000 {
		t.Errorf("after update: %+v", got.LLM)
	}
	// ...so it is back once the variable is gone.
	s3, _ := newService(t, st, defaults(), nil)
	if got := s3.Get().LLM; got.Model != "stored-model" || got.MaxTokens != 1000 {
		t.Errorf("without the variable: %+v", got)
	}
}

func TestNoOpUpdateWritesNothing(t *testing.T) {
	st := openStore(t, tempDB(t))
	s, rec := newService(t, st, defaults(), nil)
	called := false
	s.OnChange(func(_, _ Settings) { called = true })
	same := s.Get()
	same.LLM.Model = "  " // normalizes to "", the current value
	same.EgressAllow = []string{}
	same.Discord.Admins = nil
	got, err := s.Update(t.Context(), "admin:a", same)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, defaults()) {
		t.Errorf("no-op Update returned %+v", got)
	}
	if row := stored(t, st); row.Version != 0 || row.UpdatedBy != "" {
		t.Errorf("no-op Update wrote %+v", row)
	}
	if len(rec.all()) != 0 || called {
		t.Error("no-op Update audited or notified")
	}
}

func TestUpdateValidation(t *testing.T) {
	st := openStore(t, tempDB(t))
	s, rec := newService(t, st, defaults(), nil)
	bad := s.Get()
	bad.LLM.Provider = "gemini"
	bad.Discord.AllowedUsers = []string{"bob"}
	_, err := s.Update(t.Context(), "admin:a", bad)
	var ve *ValidationError
	if !errors.As(err, &ve) || !slices.Equal(ve.Fields(), []string{"llm.provider", "discord.allowed_users"}) {
		t.Errorf("Update = %v", err)
	}
	if _, err := s.Update(t.Context(), "", s.Get()); err == nil {
		t.Error("Update without an actor accepted")
	}
	if stored(t, st).Version != 0 || len(rec.all()) != 0 {
		t.Error("a refused update wrote or audited")
	}
}

func TestOnChangeOldAndNew(t *testing.T) {
	s, _ := newService(t, openStore(t, tempDB(t)), defaults(), nil)
	var calls []string
	var gotOld, gotNew Settings
	s.OnChange(func(old, new Settings) {
		calls = append(calls, "first")
		gotOld, gotNew = old, new
		if s.Get().LLM.Model != "m2" {
			t.Error("Get inside OnChange does not see the new settings")
		}
	})
	s.OnChange(func(_, _ Settings) { calls = append(calls, "second") })
	next := s.Get()
	next.LLM.Model = "m2"
	if _, err := s.Update(t.Context(), "admin:a", next); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(calls, []string{"first", "second"}) {
		t.Errorf("calls = %v", calls)
	}
	if !reflect.DeepEqual(gotOld, defaults()) || !reflect.DeepEqual(gotNew, next) {
		t.Errorf("OnChange got old %+v new %+v", gotOld, gotNew)
	}
}

func TestConcurrentUpdates(t *testing.T) {
	st := openStore(t, tempDB(t))
	s, rec := newService(t, st, defaults(), nil)
	var mu sync.Mutex
	var seen []int // new max_rounds, in OnChange order
	s.OnChange(func(old, new Settings) {
		mu.Lock()
		defer mu.Unlock()
		if len(seen) > 0 && old.Agent.MaxRounds != seen[len(seen)-1] {
			t.Errorf("OnChange old %d, previous new %d", old.Agent.MaxRounds, seen[len(seen)-1])
		}
		seen = append(seen, new.Agent.MaxRounds)
	})
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			next := s.Get()
			next.Agent.MaxRounds = 20 + i
			next.Discord.Admins = append(next.Discord.Admins, "12345678901234567")
			if _, err := s.Update(t.Context(), "admin:a", next); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			if r := s.Get().Agent.MaxRounds; r != 8 && (r < 20 || r >= 20+n) {
				t.Errorf("Get saw max_rounds %d", r)
			}
		})
	}
	wg.Wait()
	row := stored(t, st)
	if row.Version != n || len(rec.all()) != n || len(seen) != n {
		t.Errorf("version %d, %d audits, %d notifications after %d distinct updates", row.Version, len(rec.all()), len(seen), n)
	}
	final := s.Get().Agent.MaxRounds
	if seen[len(seen)-1] != final {
		t.Errorf("last notification %d, Get %d", seen[len(seen)-1], final)
	}
	s2, _ := newService(t, st, defaults(), nil)
	if !reflect.DeepEqual(s2.Get(), s.Get()) {
		t.Errorf("stored %+v, cached %+v", s2.Get(), s.Get())
	}
}

func TestBadStoredFieldsIgnored(t *testing.T) {
	st := openStore(t, tempDB(t))
	storeDoc(t, st, `{"llm":{"model":"ok-model","max_tokens":"many","base_url":null},`+
		`"agent":{"max_rounds":999,"task_timeout":"2m"},"egress_allow":["a.example","not a host"],"future":{"x":1}}`)
	s, _ := newService(t, st, defaults(), nil)
	got := s.Get()
	want := defaults()
	want.LLM.Model = "ok-model"
	want.Agent.TaskTimeout = 2 * time.Minute
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Get = %+v, want %+v", got, want)
	}
	var fieldsIgnored []string
	for _, p := range s.Ignored() {
		fieldsIgnored = append(fieldsIgnored, p.Field)
	}
	if !slices.Equal(fieldsIgnored, []string{"llm.max_tokens", "agent.max_rounds", "egress_allow"}) {
		t.Errorf("Ignored = %v", s.Ignored())
	}
	// The next update drops the bad fields and keeps what it does not know.
	got.Discord.RateLimitPerMinute = 30
	if _, err := s.Update(t.Context(), "admin:a", got); err != nil {
		t.Fatal(err)
	}
	want2 := `{"agent":{"task_timeout":"2m0s"},"discord":{"rate_limit_per_minute":30},"future":{"x":1},"llm":{"model":"ok-model"}}`
	if doc := stored(t, st).Doc; doc != want2 {
		t.Errorf("doc after update\n%s\nwant\n%s", doc, want2)
	}
}

func TestNewRefuses(t *testing.T) {
	st := openStore(t, tempDB(t))
	rec := &recorder{}
	bad := defaults()
	bad.Agent.MaxRounds = 100
	_, err := New(t.Context(), st, rec.record, bad, map[string]string{"agent.max_rounds": "AIRLOCK_AGENT_MAX_ROUNDS"})
	if err == nil || !strings.Contains(err.Error(), "agent.max_rounds") || !strings.Contains(err.Error(), "AIRLOCK_AGENT_MAX_ROUNDS") {
		t.Errorf("invalid defaults: %v", err)
	}
	if _, err := New(t.Context(), st, rec.record, defaults(), map[string]string{"llm.api_key": "AIRLOCK_LLM_API_KEY"}); err == nil {
		t.Error("unknown locked field accepted")
	}
	if _, err := New(t.Context(), st, nil, defaults(), nil); err == nil {
		t.Error("nil audit function accepted")
	}
}

func TestFieldsCoverSettings(t *testing.T) {
	// Every field of Settings is in the table: changing each one alone is
	// seen as exactly one change.
	b, err := json.Marshal(defaults())
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range doc {
		if m, ok := v.(map[string]any); ok {
			n += len(m)
		} else {
			n++
		}
	}
	if n != len(Fields()) {
		t.Errorf("JSON has %d leaves, the field table %d", n, len(Fields()))
	}
	for _, key := range Fields() {
		d, err := parseDocument(string(b))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := d[key]; !ok {
			t.Errorf("field %q is not a JSON path of Settings", key)
		}
	}
}
