package admin

import (
	"context"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/orchestrator/store"
)

// TestMemoryPageShowsAudiencesSharesAndDeletes: the Memory page lists
// every note with who reads it; Share widens a note to everyone and Delete
// removes it, each audited without the note's text; the API does the same.
func TestMemoryPageShowsAudiencesSharesAndDeletes(t *testing.T) {
	e := newEnv(t)
	e.setup()
	b := e.login()
	ctx := context.Background()
	conv, err := e.store.CreateConversation(ctx, store.SourceDiscord, "Discord DM with bob")
	if err != nil {
		t.Fatal(err)
	}
	add := func(audience, text, convID string) store.MemoryNote {
		n, _, err := e.store.WriteMemory(ctx, store.MemoryNote{Audience: audience, Text: text, ConversationID: convID}, false, 0)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	dm := add(store.DiscordUserAudience("100000000000000003"), "bob's <b>PIN</b> 4321", conv.ID)
	ch := add(store.DiscordChannelAudience("500000000000000001"), "standup at nine", "")

	code, body := b.get("/memory")
	if code != http.StatusOK {
		t.Fatalf("GET /memory: %d", code)
	}
	for _, want := range []string{"discord-user:100000000000000003", "Discord user 100000000000000003 in DMs",
		"discord-channel:500000000000000001", html.EscapeString("bob's <b>PIN</b> 4321"), "Discord DM with bob",
		"/memory/" + dm.ID + "/share", "/memory/" + ch.ID + "/delete", `aria-current="page">Memory`} {
		if !strings.Contains(body, want) {
			t.Errorf("GET /memory lacks %q", want)
		}
	}
	if strings.Contains(body, "<b>PIN</b>") {
		t.Error("the note's text is not escaped")
	}

	if code, loc, _ := b.post("/memory/"+dm.ID+"/share", nil); code != http.StatusSeeOther || loc != "/memory" {
		t.Fatalf("share: %d %q", code, loc)
	}
	if got, _ := e.store.MemoryNotes(ctx, store.DiscordChannelAudience("1")); len(got) != 1 || got[0].ID != dm.ID {
		t.Errorf("after share another channel reads %+v", got)
	}
	if _, body = b.get("/memory"); !strings.Contains(body, "shared with every conversation") ||
		strings.Contains(body, "/memory/"+dm.ID+"/share") {
		t.Errorf("the page after share lacks the flash or still offers Share")
	}
	if code, _, _ := b.post("/memory/"+ch.ID+"/delete", nil); code != http.StatusSeeOther {
		t.Fatalf("delete: %d", code)
	}
	if code, _, _ := b.post("/memory/"+ch.ID+"/delete", nil); code != http.StatusNotFound {
		t.Errorf("delete again: %d; want 404", code)
	}
	for action, target := range map[string]string{"memory.shared": dm.ID, "memory.deleted": ch.ID} {
		ents := e.auditActions(action)
		if len(ents) != 1 || ents[0].Target != target || ents[0].Actor != "admin:alice" ||
			strings.Contains(string(ents[0].Details), "PIN") || strings.Contains(string(ents[0].Details), "standup") {
			t.Errorf("%s audit = %+v", action, ents)
		}
	}

	// The API.
	tok := e.apiToken()
	var list struct {
		Notes []struct {
			ID, Audience, Text, Readers string
			Shared                      bool
		} `json:"notes"`
	}
	if code := e.api(tok, "GET", "/api/v1/memory", nil, &list); code != http.StatusOK || len(list.Notes) != 1 ||
		list.Notes[0].Audience != store.AudienceEveryone || !list.Notes[0].Shared || list.Notes[0].Readers == "" {
		t.Fatalf("GET /api/v1/memory: %d %+v", code, list)
	}
	other := add(store.AudienceAdmin, "admin only", "")
	if code := e.api(tok, "POST", "/api/v1/memory/"+other.ID+"/share", nil, nil); code != http.StatusOK {
		t.Errorf("API share: %d", code)
	}
	if code := e.api(tok, "DELETE", "/api/v1/memory/"+other.ID, nil, nil); code != http.StatusNoContent {
		t.Errorf("API delete: %d", code)
	}
	if code := e.api(tok, "POST", "/api/v1/memory/m_nope/share", nil, nil); code != http.StatusNotFound {
		t.Errorf("API share of an unknown note: %d", code)
	}
}
