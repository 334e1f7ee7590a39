package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func mcpTool(name, sha string) MCPTool {
	return MCPTool{Name: name, Exposed: "gh__" + name, Description: "d " + name,
		InputSchema: []byte(`{"type":"object"}`), SHA256: strings.Repeat(sha, 64)}
}

func TestMCPServerLifecycle(t *testing.T) {
	s, clock, path := newTestStore(t)
	ctx := context.Background()
	srv := MCPServer{Name: "gh", URL: "https://mcp.example/mcp", Transport: "streamable", AuthKind: "header",
		HeaderName: "Authorization", SecretName: "GITHUB_TOKEN", CreatedBy: "admin:a"}
	if err := s.AddMCPServer(ctx, srv, []MCPTool{mcpTool("search", "a"), mcpTool("create", "b")}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddMCPServer(ctx, srv, nil); !errors.Is(err, ErrExists) {
		t.Fatalf("second add: %v, want ErrExists", err)
	}
	ts, err := s.ListMCPTools(ctx, "gh")
	if err != nil || len(ts) != 2 {
		t.Fatalf("tools %v %v", ts, err)
	}
	for _, tl := range ts {
		if tl.Status != MCPToolPending || tl.Offered() {
			t.Errorf("new tool %s: status %s offered %v; want pending, not offered", tl.Name, tl.Status, tl.Offered())
		}
	}
	// Approval pins the current hash only.
	if err := s.DecideMCPTool(ctx, "gh", "search", MCPToolApproved, strings.Repeat("z", 64), "admin:a", 2); !errors.Is(err, ErrStale) {
		t.Fatalf("approving a stale hash: %v", err)
	}
	if err := s.DecideMCPTool(ctx, "gh", "search", MCPToolApproved, strings.Repeat("a", 64), "admin:a", 2); err != nil {
		t.Fatal(err)
	}
	tl, _ := s.GetMCPTool(ctx, "gh", "search")
	if !tl.Offered() || tl.DailyCap != 2 {
		t.Fatalf("approved tool %+v", tl)
	}
	// Daily cap.
	for i := range 2 {
		if err := s.CountMCPCall(ctx, "gh", "search"); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if err := s.CountMCPCall(ctx, "gh", "search"); !errors.Is(err, ErrCapReached) {
		t.Fatalf("third call: %v, want ErrCapReached", err)
	}
	clock.Advance(24 * time.Hour)
	if err := s.CountMCPCall(ctx, "gh", "search"); err != nil {
		t.Fatalf("next day: %v", err)
	}
	// Rug pull: a changed definition of an approved tool is withdrawn; a
	// new tool arrives pending; a tool gone is absent.
	changed := mcpTool("search", "c")
	changes, err := s.SyncMCPTools(ctx, "gh", []MCPTool{changed, mcpTool("fresh", "d")})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 || !changes[0].Withdrawn || changes[0].Tool != "search" || !changes[1].New {
		t.Fatalf("changes %+v", changes)
	}
	tl, _ = s.GetMCPTool(ctx, "gh", "search")
	if tl.Offered() || tl.Status != MCPToolPending || tl.ApprovedSHA256 != strings.Repeat("a", 64) {
		t.Fatalf("after rug pull %+v", tl)
	}
	gone, _ := s.GetMCPTool(ctx, "gh", "create")
	if gone.Present {
		t.Error("a tool missing from the listing is still present")
	}
	if err := s.SetMCPServerState(ctx, "gh", MCPError, "boom"); err != nil {
		t.Fatal(err)
	}
	got, _ := s.GetMCPServer(ctx, "gh")
	if got.State != MCPError || got.LastError != "boom" || got.SecretName != "GITHUB_TOKEN" {
		t.Fatalf("server %+v", got)
	}
	if err := s.DeleteMCPServer(ctx, "gh"); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	if n := countRows(t, db, "mcp_tools"); n != 0 {
		t.Errorf("%d tools left after delete", n)
	}
	if err := s.DeleteMCPServer(ctx, "gh"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting twice: %v", err)
	}
}

// A listing the database refuses stores no server either.
func TestAddMCPServerAtomic(t *testing.T) {
	s, _, _ := newTestStore(t)
	ctx := context.Background()
	bad := mcpTool("x", "a")
	bad.SHA256 = "short"
	err := s.AddMCPServer(ctx, MCPServer{Name: "n", URL: "u", Transport: "sse", AuthKind: "none"}, []MCPTool{bad})
	if err == nil {
		t.Fatal("a tool with a bad hash was stored")
	}
	if _, err := s.GetMCPServer(ctx, "n"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("server half stored: %v", err)
	}
}

// Migration 0016 rebuilds both MCP tables to allow auth_kind 'oauth' and
// the state 'needs_authorization': servers and tools of a version-15
// database, approvals included, come through unchanged.
func TestMCPOAuthMigrationKeepsRows(t *testing.T) {
	path := t.TempDir() + "/airlock.db"
	db := rawDB(t, path)
	if _, err := db.Exec("PRAGMA foreign_keys = ON"); err != nil {
		t.Fatal(err)
	}
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:15] {
		if _, err := db.Exec(m.sql); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
	}
	sha := strings.Repeat("a", 64)
	for _, q := range []string{
		"PRAGMA user_version = 15",
		"INSERT INTO mcp_servers VALUES ('gh', 'https://mcp.example/mcp', 'streamable', 'header', 'Authorization', 'Bearer ', 'GITHUB_TOKEN', 'connected', '', 1, 2, 'admin:a')",
		"INSERT INTO mcp_tools VALUES ('gh', 'search', 'gh__search', 'd', '{}', '" + sha + "', '" + sha + "', 'approved', '[]', 1, 5, '', 0, 1, 1, 'admin:a')",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	s := openAt(t, path)
	ctx := context.Background()
	srv, err := s.GetMCPServer(ctx, "gh")
	if err != nil || srv.SecretName != "GITHUB_TOKEN" || srv.HeaderPrefix != "Bearer " || srv.State != MCPConnected || srv.OAuthClientID != "" {
		t.Fatalf("server after the migration: %+v %v", srv, err)
	}
	tl, err := s.GetMCPTool(ctx, "gh", "search")
	if err != nil || !tl.Offered() || tl.DailyCap != 5 {
		t.Fatalf("tool after the migration: %+v %v", tl, err)
	}
	// An OAuth server awaiting authorization, its registered client and expiry.
	o := MCPServer{Name: "cal", URL: "https://cal.example/mcp", Transport: "streamable", AuthKind: "oauth",
		State: MCPNeedsAuth, OAuthScopes: "read", CreatedBy: "admin:a"}
	if err := s.AddMCPServer(ctx, o, nil); err != nil {
		t.Fatal(err)
	}
	exp := time.Unix(1_900_000_000, 0).UTC()
	if err := s.SetMCPOAuthClient(ctx, "cal", "client-1", "MCP_OAUTH_CAL_CLIENT", "https://a.example/cb", "none"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMCPOAuthExpiry(ctx, "cal", exp); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetMCPServer(ctx, "cal")
	if err != nil || got.State != MCPNeedsAuth || got.OAuthClientID != "client-1" || got.OAuthClientSecretName != "MCP_OAUTH_CAL_CLIENT" ||
		got.OAuthRegisteredRedirect != "https://a.example/cb" || got.OAuthAuthMethod != "none" || !got.OAuthExpiresAt.Equal(exp) {
		t.Fatalf("OAuth server: %+v %v", got, err)
	}
	if err := s.SetMCPOAuthExpiry(ctx, "nope", exp); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expiry of an unknown server: %v", err)
	}
}
