package settings

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func f(v float64) *float64 { return &v }

func TestPricesValidate(t *testing.T) {
	good := defaults()
	good.LLM.Model = "claude-sonnet"
	good.LLM.MoneyPerDay = 5
	good.LLM.Prices = []ModelPrice{
		{Model: "claude-sonnet", Input: f(3), Output: f(15), CacheRead: f(0.3), CacheWrite: f(3.75)},
		{Model: "llama3.1", Input: f(0), Output: f(0), CacheRead: f(0), CacheWrite: f(0)},
		{Model: "gpt-4o", Input: f(2.5), Output: f(10)}, // cache prices unknown
	}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, want string // want: a piece of the message
		set        func(*Settings)
	}{
		{"negative", `entry 1 (model "claude-sonnet"): input must be empty (unknown) or between 0 and 10000`,
			func(s *Settings) { s.LLM.Prices[0].Input = f(-1) }},
		{"huge", `entry 3 (model "gpt-4o"): output must be`, func(s *Settings) { s.LLM.Prices[2].Output = f(1e9) }},
		{"cache write", `cache_write must be`, func(s *Settings) { s.LLM.Prices[1].CacheWrite = f(-0.1) }},
		{"no model", `entry 2: model must be`, func(s *Settings) { s.LLM.Prices[1].Model = "" }},
		{"spaces", `entry 2: model must be`, func(s *Settings) { s.LLM.Prices[1].Model = "a b" }},
		{"twice", `entry 3: model "claude-sonnet" is listed twice`, func(s *Settings) { s.LLM.Prices[2].Model = "claude-sonnet" }},
		{"too many", `has 101 entries`, func(s *Settings) {
			s.LLM.Prices = nil
			for i := range MaxListEntries + 1 {
				s.LLM.Prices = append(s.LLM.Prices, ModelPrice{Model: "m" + strings.Repeat("x", i)})
			}
			s.LLM.MoneyPerDay = 0
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := good.clone()
			tc.set(&s)
			assertProblem(t, s.Validate(), "llm.prices", tc.want)
		})
	}
	money := []struct {
		name, want string
		set        func(*Settings)
	}{
		{"negative", "must be between 0 (unlimited) and 1e+06, got -1", func(s *Settings) { s.LLM.MoneyPerDay = -1 }},
		{"no price for the model", `no input and output price for the model "other"`, func(s *Settings) { s.LLM.Model = "other" }},
		{"output unknown", `no input and output price for the model "claude-sonnet"`, func(s *Settings) { s.LLM.Prices[0].Output = nil }},
	}
	for _, tc := range money {
		t.Run("money "+tc.name, func(t *testing.T) {
			s := good.clone()
			tc.set(&s)
			assertProblem(t, s.Validate(), "llm.money_per_day", tc.want)
		})
	}
}

func assertProblem(t *testing.T, err error, field, want string) {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a validation error", err)
	}
	for _, p := range ve.Problems {
		if p.Field == field && strings.Contains(p.Message, want) {
			return
		}
	}
	t.Errorf("problems %+v: none on %s containing %q", ve.Problems, field, want)
}

func TestParsePrices(t *testing.T) {
	got, err := ParsePrices("# model input output cache_read cache_write\n claude-sonnet 3 15 0.30 3.75\n\nllama3.1, 0, 0, 0, 0\ngpt-4o $2.5 10\nx - 1 - 2\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []ModelPrice{
		{Model: "claude-sonnet", Input: f(3), Output: f(15), CacheRead: f(0.3), CacheWrite: f(3.75)},
		{Model: "llama3.1", Input: f(0), Output: f(0), CacheRead: f(0), CacheWrite: f(0)},
		{Model: "gpt-4o", Input: f(2.5), Output: f(10)},
		{Model: "x", Output: f(1), CacheWrite: f(2)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
	back, err := ParsePrices(FormatPrices(want))
	if err != nil || !reflect.DeepEqual(back, want) {
		t.Errorf("round trip: %+v, %v", back, err)
	}
	for text, msg := range map[string]string{
		"m 3":           "line 1: want a model name then 2 to 4 prices",
		"ok 1 2\nm 3 x": `line 2 (model "m"): output: "x" is not a number`,
		"m 1 2 3 4 5":   "got 6 fields",
		"m 1 2 cheap":   `cache_read: "cheap" is not a number`,
	} {
		if _, err := ParsePrices(text); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParsePrices(%q) = %v, want %q", text, err, msg)
		}
	}
}

func TestPricesStoredAndUpdated(t *testing.T) {
	st := openStore(t, tempDB(t))
	svc, rec := newService(t, st, defaults(), nil)
	next := svc.Get()
	next.LLM.Model = "claude-sonnet"
	next.LLM.Prices = []ModelPrice{{Model: " claude-sonnet ", Input: f(3), Output: f(15)}}
	next.LLM.MoneyPerDay = 2.5
	got, err := svc.Update(context.Background(), "admin:a", next)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := got.LLM.PriceOf("claude-sonnet"); !ok || *p.Input != 3 || p.CacheRead != nil || got.LLM.MoneyPerDay != 2.5 {
		t.Errorf("after update: %+v", got.LLM)
	}
	// A fresh service reads the same table back from the store.
	again, _ := newService(t, st, defaults(), nil)
	if !reflect.DeepEqual(again.Get().LLM.Prices, got.LLM.Prices) || again.Get().LLM.MoneyPerDay != 2.5 {
		t.Errorf("reloaded %+v", again.Get().LLM)
	}
	// Values handed out share no memory with the service.
	g := svc.Get()
	*g.LLM.Prices[0].Input = 99
	if *svc.Get().LLM.Prices[0].Input != 3 {
		t.Error("Get shares the price table")
	}
	// A refused update stores nothing.
	bad := svc.Get()
	bad.LLM.Prices[0].Output = f(-5)
	before := stored(t, st)
	if _, err := svc.Update(context.Background(), "admin:a", bad); err == nil {
		t.Fatal("negative price accepted")
	}
	if stored(t, st) != before {
		t.Error("a refused update changed the stored settings")
	}
	evs := rec.all()
	if len(evs) != 1 {
		t.Fatalf("%d audit events", len(evs))
	}
	b, _ := json.Marshal(evs[0].Details)
	if !strings.Contains(string(b), `"llm.prices"`) || !strings.Contains(string(b), `"llm.money_per_day":2.5`) {
		t.Errorf("audit details %s", b)
	}
}
