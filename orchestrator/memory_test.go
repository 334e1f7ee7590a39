package orchestrator_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/llm"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/orchestrator/workspace"
)

// ask runs one message through the core and returns its reply.
func ask(t *testing.T, h *harness, m orchestrator.Message) orchestrator.Reply {
	t.Helper()
	r, err := h.core.HandleMessage(context.Background(), m)
	if err != nil {
		t.Fatalf("HandleMessage(%q): %v", m.Text, err)
	}
	return r
}

// TestMemoryWriteRecordsTheConversationsAudience (issue 20, item 2): a
// note takes the audience of the task's conversation, never one the
// model names; a web or API message is the admin's whatever it claims; a
// Discord message without an audience is refused.
func TestMemoryWriteRecordsTheConversationsAudience(t *testing.T) {
	h := newHarness(t, orchestrator.Config{}, llm.Budget{})
	h.runAgent(t)
	ctx := context.Background()
	dc, err := h.store.CreateConversation(ctx, store.SourceDiscord, "Discord DM with alice")
	if err != nil {
		t.Fatal(err)
	}
	alice := store.DiscordUserAudience("100000000000000001")

	if _, err := h.core.HandleMessage(ctx, orchestrator.Message{ConversationID: dc.ID, Source: store.SourceDiscord,
		Text: "hi"}); err == nil || !strings.Contains(err.Error(), "no valid memory audience") {
		t.Errorf("a Discord message without an audience: %v", err)
	}
	for _, bad := range []string{store.AudienceAdmin, store.AudienceEveryone, "discord-user:x"} {
		if _, err := h.core.HandleMessage(ctx, orchestrator.Message{ConversationID: dc.ID, Source: store.SourceDiscord,
			Text: "hi", Audience: bad}); err == nil {
			t.Errorf("a Discord message with audience %q was taken", bad)
		}
	}

	// The model asks for a wider audience: refused by the tool's schema.
	h.llm.Enqueue(llmtestToolCall(tools.MemoryWrite, map[string]any{"content": "x", "audience": "everyone"}))
	r := ask(t, h, orchestrator.Message{ConversationID: dc.ID, Source: store.SourceDiscord, Text: "a", Audience: alice})
	if !strings.Contains(r.Text, "audience") {
		t.Errorf("memory_write with an audience argument: %q", r.Text)
	}
	h.llm.Enqueue(llmtestToolCall(tools.MemoryWrite, map[string]any{"content": "alice's PIN 4321"}))
	ask(t, h, orchestrator.Message{ConversationID: dc.ID, Source: store.SourceDiscord, Text: "b", Audience: alice})

	web := h.conversation(t)
	h.llm.Enqueue(llmtestToolCall(tools.MemoryWrite, map[string]any{"content": "the admin's own"}))
	ask(t, h, orchestrator.Message{ConversationID: web, Source: store.SourceAPI, Text: "c", Audience: store.AudienceEveryone})

	notes, err := h.store.MemoryNotes(ctx, store.AudienceAdmin)
	if err != nil || len(notes) != 2 {
		t.Fatalf("notes = %+v (%v)", notes, err)
	}
	if notes[0].Audience != alice || notes[0].ConversationID != dc.ID || notes[0].TaskID == "" {
		t.Errorf("the DM's note = %+v", notes[0])
	}
	if notes[1].Audience != store.AudienceAdmin || notes[1].ConversationID != web {
		t.Errorf("the API's note = %+v", notes[1])
	}
	entries, _ := h.audit.List(ctx, audit.Filter{Action: "memory.write"})
	if len(entries) != 2 || !strings.Contains(string(entries[0].Details)+string(entries[1].Details), `"audience":"`+alice+`"`) {
		t.Errorf("memory.write audit entries = %+v", entries)
	}

	// The DM's prompt holds its note inside the data markers, not the
	// admin's note.
	h.llm.Reset()
	ask(t, h, orchestrator.Message{ConversationID: dc.ID, Source: store.SourceDiscord, Text: "d", Audience: alice})
	system := h.llm.Requests()[0].System
	if !insideMarkers(system, "alice's PIN 4321") || strings.Contains(system, "the admin's own") {
		t.Errorf("the DM's system prompt:\n%s", system)
	}

	// Replace drops only this audience's notes.
	h.llm.Enqueue(llmtestToolCall(tools.MemoryWrite, map[string]any{"content": "summary", "mode": "replace"}))
	ask(t, h, orchestrator.Message{ConversationID: dc.ID, Source: store.SourceDiscord, Text: "e", Audience: alice})
	notes, _ = h.store.MemoryNotes(ctx, store.AudienceAdmin)
	if len(notes) != 2 || notes[0].Text != "the admin's own" || notes[1].Text != "summary" {
		t.Errorf("after replace: %+v", notes)
	}
}

// TestMemoryFullSaysSo: past the audience's cap, memory_write tells the
// model to summarise, and nothing is stored.
func TestMemoryFullSaysSo(t *testing.T) {
	h := newHarness(t, orchestrator.Config{MemoryBytes: 20}, llm.Budget{})
	h.runAgent(t)
	conv := h.conversation(t)
	h.llm.Enqueue(llmtestToolCall(tools.MemoryWrite, map[string]any{"content": strings.Repeat("a", 21)}))
	r := <-h.submit(t, conv, "save it")
	if !strings.Contains(r.Text, "the limit is 20 bytes") {
		t.Errorf("reply = %q", r.Text)
	}
	if notes, _ := h.store.MemoryNotes(context.Background(), store.AudienceAdmin); len(notes) != 0 {
		t.Errorf("stored %+v", notes)
	}
}

// TestLegacyMemoryImportedAsAdminOnly: MEMORY.md's text becomes an
// admin-only note, the file is emptied, and workspace_read cannot read it.
func TestLegacyMemoryImportedAsAdminOnly(t *testing.T) {
	h := newHarness(t, orchestrator.Config{}, llm.Budget{})
	ctx := context.Background()
	if err := h.ws.WriteMemory(ctx, "door PIN 4321", workspace.ModeReplace); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := h.core.ImportLegacyMemory(ctx); err != nil {
			t.Fatal(err)
		}
	}
	notes, _ := h.store.MemoryNotes(ctx, store.AudienceAdmin)
	if len(notes) != 1 || notes[0].Audience != store.AudienceAdmin || notes[0].Text != "door PIN 4321" {
		t.Fatalf("notes = %+v", notes)
	}
	if shared, _ := h.store.MemoryNotes(ctx, store.DiscordChannelAudience("1")); len(shared) != 0 {
		t.Errorf("a channel reads %+v", shared)
	}
	if text, _ := h.ws.ReadMemory(ctx); text != "" {
		t.Errorf("MEMORY.md still holds %q", text)
	}
	if _, err := h.ws.Read(ctx, "memory.MD"); !errors.Is(err, workspace.ErrReserved) {
		t.Errorf("workspace read of MEMORY.md: %v", err)
	}
	entries, _ := h.audit.List(ctx, audit.Filter{Action: "memory.imported"})
	if len(entries) != 1 {
		t.Errorf("memory.imported entries = %d", len(entries))
	}
}

// TestLegacyMemoryTooLongIsKept: a MEMORY.md longer than one import takes
// (possible when workspace.max_memory_bytes was raised) is imported in
// part and kept on disk, not emptied: nothing is lost.
func TestLegacyMemoryTooLongIsKept(t *testing.T) {
	h := newHarness(t, orchestrator.Config{}, llm.Budget{})
	ctx := context.Background()
	dir := t.TempDir()
	big := strings.Repeat("remember this. ", store.MaxImportBytes/15+100)
	if err := os.WriteFile(filepath.Join(dir, workspace.MemoryFile), []byte(big), 0o600); err != nil {
		t.Fatal(err)
	}
	ws, err := workspace.Open(dir, workspace.Limits{MaxMemoryBytes: 2 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	core, err := orchestrator.New(orchestrator.Config{}, orchestrator.Deps{Store: h.store, Audit: h.audit,
		Queue: h.queue, Workspace: ws, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if err := core.ImportLegacyMemory(ctx); err != nil {
		t.Fatal(err)
	}
	notes, _ := h.store.MemoryNotes(ctx, store.AudienceAdmin)
	if len(notes) != 1 || len(notes[0].Text) == 0 || len(notes[0].Text) > store.MaxImportBytes {
		t.Fatalf("imported %d notes", len(notes))
	}
	if text, err := ws.ReadMemory(ctx); err != nil || text != big {
		t.Errorf("MEMORY.md after the import: %d bytes (%v); want the whole %d kept", len(text), err, len(big))
	}
}
