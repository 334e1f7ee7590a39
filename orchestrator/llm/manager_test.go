package llm

import (
	"context"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/orchestrator/llm/llmtest"
)

// TestManagerApply: no model unconfigures the gateway; a configuration is
// applied once (the same one again keeps the client), a changed one
// rebuilds it, and an invalid one leaves the previous client in place.
func TestManagerApply(t *testing.T) {
	s := newFake(t)
	m := NewManager(NewGateway(nil, Budget{}, nil, nil), nil, nil)
	conf := Config{Provider: ProviderOpenAI, BaseURL: baseURL(ProviderOpenAI, s), Model: "m1", APIKey: "k1"}
	if err := m.Apply(Config{Provider: ProviderOpenAI}, Budget{}); err != nil || m.Gateway().Client() != nil {
		t.Fatalf("no model: client %v, err %v", m.Gateway().Client(), err)
	}
	if err := m.Apply(conf, Budget{}); err != nil || m.Gateway().Client() == nil {
		t.Fatalf("first apply: client %v, err %v", m.Gateway().Client(), err)
	}
	first := m.Gateway().Client()
	if err := m.Apply(conf, Budget{RequestsPerDay: 5}); err != nil || m.Gateway().Client() != first {
		t.Errorf("the same configuration rebuilt the client (err %v)", err)
	}
	conf.Model = "m2"
	if err := m.Apply(conf, Budget{}); err != nil || m.Gateway().Client() == first || m.Gateway().Client().Model() != "m2" {
		t.Errorf("a new model was not applied (err %v)", err)
	}
	applied := m.Gateway().Client()
	if err := m.Apply(Config{Provider: "nonesuch", Model: "m3"}, Budget{}); err == nil || m.Gateway().Client() != applied {
		t.Errorf("an invalid configuration: err %v, client replaced %v", err, m.Gateway().Client() != applied)
	}
}

// TestManagerTestUsesAppliedKey: a connection test without a key uses the
// key last applied, and one with a key uses that.
func TestManagerTestUsesAppliedKey(t *testing.T) {
	s := newFake(t)
	m := NewManager(NewGateway(nil, Budget{}, nil, nil), nil, nil)
	conf := Config{Provider: ProviderOpenAI, BaseURL: baseURL(ProviderOpenAI, s), Model: "m", APIKey: "applied-key-1"}
	if err := m.Apply(conf, Budget{}); err != nil {
		t.Fatal(err)
	}
	conf.APIKey = ""
	if err := m.Test(context.Background(), conf); err != nil {
		t.Fatal(err)
	}
	conf.APIKey = "typed-key-2"
	if err := m.Test(context.Background(), conf); err != nil {
		t.Fatal(err)
	}
	reqs := s.Requests()
	if len(reqs) != 2 || !strings.Contains(reqs[0].Header.Get("Authorization"), "applied-key-1") ||
		!strings.Contains(reqs[1].Header.Get("Authorization"), "typed-key-2") {
		t.Errorf("requests: %d, auth %q", len(reqs), authHeaders(reqs))
	}
	if err := m.Test(context.Background(), Config{Provider: ProviderOpenAI}); err == nil {
		t.Error("a test without a model passed")
	}
}

func authHeaders(reqs []llmtest.RecordedRequest) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.Header.Get("Authorization"))
	}
	return out
}
