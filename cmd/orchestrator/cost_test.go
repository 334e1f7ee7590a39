package main

import (
	"testing"

	"github.com/airlockhq/airlock/orchestrator/config"
	"github.com/airlockhq/airlock/orchestrator/llm"
	"github.com/airlockhq/airlock/orchestrator/settings"
)

func fp(f float64) *float64 { return &f }

// TestLLMSettingsReachTheGateway: the price table, the money budget and
// the prompt cache switch of the settings are what the gateway and the
// client get.
func TestLLMSettingsReachTheGateway(t *testing.T) {
	a := &app{cfg: config.Defaults(false)}
	conf := settings.FromConfig(a.cfg).LLM
	if a.llmConfig("k", conf).NoPromptCache {
		t.Error("prompt caching is off by default")
	}
	conf.PromptCache = false
	if !a.llmConfig("k", conf).NoPromptCache {
		t.Error("llm.prompt_cache off does not reach the client")
	}
	conf.MoneyPerDay, conf.TokensPerDay = 2.35, 7
	if b := llmBudget(conf); b.MoneyPerDay != 2_350_000_000 || b.TokensPerDay != 7 {
		t.Errorf("budget %+v", b)
	}
	ps := llmPrices([]settings.ModelPrice{{Model: "m", Input: fp(3), Output: fp(15), CacheRead: fp(0.3)}})
	if n, ok := ps.Cost("m", llm.Usage{InputTokens: 1_000_000, CacheReadTokens: 1_000_000}); !ok || n != 300_000_000 {
		t.Errorf("cost through the converted table = %d, %v", n, ok)
	}
	if _, ok := ps.Cost("m", llm.Usage{InputTokens: 10, CacheWriteTokens: 10}); ok {
		t.Error("an empty cache write price became known")
	}
}
