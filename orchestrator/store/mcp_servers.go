package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// MCP server states.
const (
	MCPConnected    = "connected"
	MCPDisconnected = "disconnected"
	MCPError        = "error"
	// MCPNeedsAuth: an OAuth server without usable tokens (never authorized,
	// or its refresh token was refused): an admin must authorize it again.
	MCPNeedsAuth = "needs_authorization"
)

// MCP tool statuses. A tool is offered to the model only while approved and
// its current definition hashes to the approved one.
const (
	MCPToolPending  = "pending"
	MCPToolApproved = "approved"
	MCPToolDenied   = "denied"
)

// ErrExists is returned when a row with the same key already exists.
var ErrExists = errors.New("already exists")

// ErrCapReached is returned by CountMCPCall when a tool's daily cap is used.
var ErrCapReached = errors.New("daily call cap reached")

// ErrStale is returned when an approval names a definition that is no
// longer the tool's current one.
var ErrStale = errors.New("the definition changed since it was shown")

// MCPServer is an external MCP server. It holds no credential: SecretName
// names a vault secret.
type MCPServer struct {
	Name       string `json:"name"`
	URL        string `json:"url"`
	Transport  string `json:"transport"`
	AuthKind   string `json:"auth_kind"`
	HeaderName string `json:"header_name,omitempty"`
	// HeaderPrefix goes before the secret's value ("Bearer ").
	HeaderPrefix string    `json:"header_prefix,omitempty"`
	SecretName   string    `json:"secret_name,omitempty"`
	State        string    `json:"state"`
	LastError    string    `json:"last_error,omitempty"`
	ConnectedAt  time.Time `json:"connected_at"`
	CreatedAt    time.Time `json:"created_at"`
	CreatedBy    string    `json:"created_by"`
	// OAuth (auth_kind "oauth"): nothing here is secret. The tokens are
	// vault secrets; OAuthClientSecretName names the vault secret holding
	// the client's secret, if it has one.
	OAuthClientID         string `json:"oauth_client_id,omitempty"`
	OAuthClientSecretName string `json:"oauth_client_secret_name,omitempty"`
	OAuthScopes           string `json:"oauth_scopes,omitempty"`
	// OAuthRegisteredRedirect is the redirect URI a dynamically registered
	// client was registered with ("" when the admin gave the client id).
	OAuthRegisteredRedirect string `json:"-"`
	OAuthAuthMethod         string `json:"-"`
	// OAuthExpiresAt is when the access token expires (zero: unknown).
	OAuthExpiresAt time.Time `json:"oauth_expires_at,omitzero"`
	// OAuthIssuer is the authorization server the tokens come from,
	// pinned at authorization: a refresh goes to no other.
	OAuthIssuer string `json:"-"`
}

// MCPTool is a tool an external server listed.
type MCPTool struct {
	Server         string          `json:"server"`
	Name           string          `json:"name"`
	Exposed        string          `json:"exposed"` // <server>__<tool>; "" when it cannot be offered
	Description    string          `json:"description"`
	InputSchema    json.RawMessage `json:"input_schema"`
	SHA256         string          `json:"sha256"`
	ApprovedSHA256 string          `json:"approved_sha256,omitempty"`
	Status         string          `json:"status"`
	Findings       []string        `json:"findings"`
	Present        bool            `json:"present"`
	DailyCap       int             `json:"daily_cap"`
	CallsToday     int             `json:"calls_today"`
	FirstSeen      time.Time       `json:"first_seen"`
	UpdatedAt      time.Time       `json:"updated_at"`
	DecidedBy      string          `json:"decided_by,omitempty"`
}

// Offered reports whether the model may see and call t.
func (t MCPTool) Offered() bool {
	return t.Status == MCPToolApproved && t.Present && t.Exposed != "" && t.SHA256 == t.ApprovedSHA256
}

// MCPToolChange is what SyncMCPTools did to one tool.
type MCPToolChange struct {
	Tool      string
	New       bool // first listed now: arrives pending
	Withdrawn bool // was approved; its definition changed
}

// AddMCPServer stores a new server with the tools of its first listing,
// all pending, in one transaction: nothing is stored when any part fails.
func (s *Store) AddMCPServer(ctx context.Context, srv MCPServer, listed []MCPTool) error {
	now := s.now()
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM mcp_servers WHERE name = ?", srv.Name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return ErrExists
		}
		state := srv.State
		if state == "" {
			state = MCPConnected
		}
		if _, err := s.exec(ctx, tx, "INSERT INTO mcp_servers (name, url, transport, auth_kind, header_name,"+
			" header_prefix, secret_name, state, last_error, connected_at, created_at, created_by, oauth_client_id,"+
			" oauth_client_secret_name, oauth_scopes) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			srv.Name, srv.URL, srv.Transport, srv.AuthKind, srv.HeaderName, srv.HeaderPrefix, srv.SecretName, state, "",
			toDB(now), toDB(now), srv.CreatedBy, srv.OAuthClientID, srv.OAuthClientSecretName, srv.OAuthScopes); err != nil {
			return err
		}
		_, err := s.syncTools(ctx, tx, srv.Name, listed, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: add MCP server %q: %w", srv.Name, err)
	}
	return nil
}

// DeleteMCPServer removes a server and its tools.
func (s *Store) DeleteMCPServer(ctx context.Context, name string) error {
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, "DELETE FROM mcp_tools WHERE server = ?", name); err != nil {
			return err
		}
		res, err := s.exec(ctx, tx, "DELETE FROM mcp_servers WHERE name = ?", name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: delete MCP server %q: %w", name, err)
	}
	return nil
}

const mcpServerCols = "name, url, transport, auth_kind, header_name, header_prefix, secret_name, state, last_error," +
	" connected_at, created_at, created_by, oauth_client_id, oauth_client_secret_name, oauth_scopes," +
	" oauth_registered_redirect, oauth_auth_method, oauth_expires_at, oauth_issuer"

func scanMCPServer(sc scanner) (MCPServer, error) {
	var v MCPServer
	var conn, created, expires int64
	if err := sc.Scan(&v.Name, &v.URL, &v.Transport, &v.AuthKind, &v.HeaderName, &v.HeaderPrefix, &v.SecretName, &v.State,
		&v.LastError, &conn, &created, &v.CreatedBy, &v.OAuthClientID, &v.OAuthClientSecretName, &v.OAuthScopes,
		&v.OAuthRegisteredRedirect, &v.OAuthAuthMethod, &expires, &v.OAuthIssuer); err != nil {
		return MCPServer{}, err
	}
	v.ConnectedAt, v.CreatedAt = fromDB(conn), fromDB(created)
	if expires != 0 {
		v.OAuthExpiresAt = fromDB(expires)
	}
	return v, nil
}

// SetMCPOAuthClient records the client a dynamic registration obtained:
// its id, the name of the vault secret holding its secret ("" when it has
// none), the redirect URI it was registered with and its token endpoint
// auth method.
func (s *Store) SetMCPOAuthClient(ctx context.Context, name, clientID, secretName, redirect, method string) error {
	return s.updateMCPServer(ctx, name, "oauth_client_id = ?, oauth_client_secret_name = ?, oauth_registered_redirect = ?,"+
		" oauth_auth_method = ?", clientID, secretName, redirect, method)
}

// SetMCPOAuthExpiry records when a server's access token expires (zero:
// unknown, or no token).
func (s *Store) SetMCPOAuthExpiry(ctx context.Context, name string, at time.Time) error {
	var v int64
	if !at.IsZero() {
		v = toDB(at)
	}
	return s.updateMCPServer(ctx, name, "oauth_expires_at = ?", v)
}

// SetMCPOAuthIssuer pins the authorization server a server's tokens come
// from.
func (s *Store) SetMCPOAuthIssuer(ctx context.Context, name, issuer string) error {
	return s.updateMCPServer(ctx, name, "oauth_issuer = ?", issuer)
}

func (s *Store) updateMCPServer(ctx context.Context, name, set string, args ...any) error {
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, "UPDATE mcp_servers SET "+set+" WHERE name = ?", append(args, name)...)
		if err != nil {
			return err
		}
		return expectOneRow(res)
	})
	if err != nil {
		return fmt.Errorf("store: update MCP server %q: %w", name, err)
	}
	return nil
}

// ListMCPServers returns every server by name.
func (s *Store) ListMCPServers(ctx context.Context) ([]MCPServer, error) {
	rows, err := s.reader.QueryContext(ctx, "SELECT "+mcpServerCols+" FROM mcp_servers ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("store: list MCP servers: %w", err)
	}
	out, err := collect(rows, scanMCPServer)
	if err != nil {
		return nil, fmt.Errorf("store: list MCP servers: %w", err)
	}
	return out, nil
}

// GetMCPServer returns one server, or ErrNotFound.
func (s *Store) GetMCPServer(ctx context.Context, name string) (MCPServer, error) {
	v, err := scanMCPServer(s.reader.QueryRowContext(ctx, "SELECT "+mcpServerCols+" FROM mcp_servers WHERE name = ?", name))
	if errors.Is(err, sql.ErrNoRows) {
		return MCPServer{}, ErrNotFound
	}
	if err != nil {
		return MCPServer{}, fmt.Errorf("store: get MCP server %q: %w", name, err)
	}
	return v, nil
}

// SetMCPServerState records a server's connection state. lastErr is kept
// as given (the caller redacts it).
func (s *Store) SetMCPServerState(ctx context.Context, name, state, lastErr string) error {
	q := "UPDATE mcp_servers SET state = ?, last_error = ? WHERE name = ?"
	args := []any{state, lastErr, name}
	if state == MCPConnected {
		q = "UPDATE mcp_servers SET state = ?, last_error = ?, connected_at = ? WHERE name = ?"
		args = []any{state, lastErr, toDB(s.now()), name}
	}
	return s.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := s.exec(ctx, tx, q, args...)
		return err
	})
}

// SyncMCPTools records a new listing of a server's tools and returns what
// changed: new tools (pending) and approved tools whose definition changed
// (set back to pending, so withdrawn from the model). Tools missing from
// the listing are marked absent.
func (s *Store) SyncMCPTools(ctx context.Context, server string, listed []MCPTool) ([]MCPToolChange, error) {
	var changes []MCPToolChange
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		changes, err = s.syncTools(ctx, tx, server, listed, s.now())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: sync MCP tools of %q: %w", server, err)
	}
	return changes, nil
}

func (s *Store) syncTools(ctx context.Context, tx *sql.Tx, server string, listed []MCPTool, now time.Time) ([]MCPToolChange, error) {
	at := toDB(now)
	if _, err := s.exec(ctx, tx, "UPDATE mcp_tools SET present = 0 WHERE server = ?", server); err != nil {
		return nil, err
	}
	var changes []MCPToolChange
	for _, t := range listed {
		findings, err := json.Marshal(orEmpty(t.Findings))
		if err != nil {
			return nil, err
		}
		schema := string(t.InputSchema)
		if schema == "" {
			schema = "{}"
		}
		var sha, status string
		err = tx.QueryRowContext(ctx, "SELECT sha256, status FROM mcp_tools WHERE server = ? AND name = ?",
			server, t.Name).Scan(&sha, &status)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if _, err := s.exec(ctx, tx, "INSERT INTO mcp_tools (server, name, exposed, description, input_schema,"+
				" sha256, approved_sha256, status, findings, present, daily_cap, calls_day, calls_count, first_seen,"+
				" updated_at, decided_by) VALUES (?,?,?,?,?,?,'',?,?,1,0,'',0,?,?,'')",
				server, t.Name, t.Exposed, t.Description, schema, t.SHA256, MCPToolPending, string(findings), at, at); err != nil {
				return nil, err
			}
			changes = append(changes, MCPToolChange{Tool: t.Name, New: true})
			continue
		case err != nil:
			return nil, err
		}
		if sha == t.SHA256 {
			if _, err := s.exec(ctx, tx, "UPDATE mcp_tools SET present = 1, exposed = ? WHERE server = ? AND name = ?",
				t.Exposed, server, t.Name); err != nil {
				return nil, err
			}
			continue
		}
		next := status
		if status == MCPToolApproved {
			next = MCPToolPending
			changes = append(changes, MCPToolChange{Tool: t.Name, Withdrawn: true})
		}
		if _, err := s.exec(ctx, tx, "UPDATE mcp_tools SET present = 1, exposed = ?, description = ?, input_schema = ?,"+
			" sha256 = ?, status = ?, findings = ?, updated_at = ? WHERE server = ? AND name = ?",
			t.Exposed, t.Description, schema, t.SHA256, next, string(findings), at, server, t.Name); err != nil {
			return nil, err
		}
	}
	return changes, nil
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const mcpToolCols = "server, name, exposed, description, input_schema, sha256, approved_sha256, status, findings," +
	" present, daily_cap, calls_day, calls_count, first_seen, updated_at, decided_by"

func (s *Store) scanMCPTool(sc scanner) (MCPTool, error) {
	var t MCPTool
	var schema, findings, day string
	var present, first, updated int64
	var count int
	if err := sc.Scan(&t.Server, &t.Name, &t.Exposed, &t.Description, &schema, &t.SHA256, &t.ApprovedSHA256,
		&t.Status, &findings, &present, &t.DailyCap, &day, &count, &first, &updated, &t.DecidedBy); err != nil {
		return MCPTool{}, err
	}
	t.InputSchema = json.RawMessage(schema)
	if err := json.Unmarshal([]byte(findings), &t.Findings); err != nil {
		return MCPTool{}, err
	}
	t.Present = present == 1
	if day == dayOf(s.now()) {
		t.CallsToday = count
	}
	t.FirstSeen, t.UpdatedAt = fromDB(first), fromDB(updated)
	return t, nil
}

func dayOf(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// ListMCPTools returns the tools of server ("" for every server), by
// server and name.
func (s *Store) ListMCPTools(ctx context.Context, server string) ([]MCPTool, error) {
	q, args := "SELECT "+mcpToolCols+" FROM mcp_tools ORDER BY server, name", []any(nil)
	if server != "" {
		q, args = "SELECT "+mcpToolCols+" FROM mcp_tools WHERE server = ? ORDER BY name", []any{server}
	}
	rows, err := s.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list MCP tools: %w", err)
	}
	out, err := collect(rows, s.scanMCPTool)
	if err != nil {
		return nil, fmt.Errorf("store: list MCP tools: %w", err)
	}
	return out, nil
}

// GetMCPTool returns one tool, or ErrNotFound.
func (s *Store) GetMCPTool(ctx context.Context, server, name string) (MCPTool, error) {
	t, err := s.scanMCPTool(s.reader.QueryRowContext(ctx, "SELECT "+mcpToolCols+
		" FROM mcp_tools WHERE server = ? AND name = ?", server, name))
	if errors.Is(err, sql.ErrNoRows) {
		return MCPTool{}, ErrNotFound
	}
	if err != nil {
		return MCPTool{}, fmt.Errorf("store: get MCP tool %s/%s: %w", server, name, err)
	}
	return t, nil
}

// MCPToolByExposed returns the tool the model knows as exposed
// (<server>__<tool>), or ErrNotFound.
func (s *Store) MCPToolByExposed(ctx context.Context, exposed string) (MCPTool, error) {
	if exposed == "" {
		return MCPTool{}, ErrNotFound
	}
	t, err := s.scanMCPTool(s.reader.QueryRowContext(ctx, "SELECT "+mcpToolCols+
		" FROM mcp_tools WHERE exposed = ? ORDER BY present DESC LIMIT 1", exposed))
	if errors.Is(err, sql.ErrNoRows) {
		return MCPTool{}, ErrNotFound
	}
	if err != nil {
		return MCPTool{}, fmt.Errorf("store: get MCP tool %s: %w", exposed, err)
	}
	return t, nil
}

// DecideMCPTool approves or denies a tool. Approval pins sha256, which must
// be the tool's current definition (else ErrStale); deny needs no hash.
// dailyCap < 0 leaves the cap as it is.
func (s *Store) DecideMCPTool(ctx context.Context, server, name, status, sha256, by string, dailyCap int) error {
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		var cur string
		err := tx.QueryRowContext(ctx, "SELECT sha256 FROM mcp_tools WHERE server = ? AND name = ?", server, name).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		pinned := ""
		if status == MCPToolApproved {
			if sha256 != cur {
				return ErrStale
			}
			pinned = cur
		}
		q := "UPDATE mcp_tools SET status = ?, approved_sha256 = ?, decided_by = ?, updated_at = ?"
		args := []any{status, pinned, by, toDB(s.now())}
		if dailyCap >= 0 {
			q += ", daily_cap = ?"
			args = append(args, dailyCap)
		}
		_, err = s.exec(ctx, tx, q+" WHERE server = ? AND name = ?", append(args, server, name)...)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: decide MCP tool %s/%s: %w", server, name, err)
	}
	return nil
}

// CountMCPCall counts one call of a tool today, or returns ErrCapReached
// when its daily cap (0: none) is used up.
func (s *Store) CountMCPCall(ctx context.Context, server, name string) error {
	day := dayOf(s.now())
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, "UPDATE mcp_tools SET calls_count = CASE WHEN calls_day = ? THEN calls_count + 1 ELSE 1 END,"+
			" calls_day = ? WHERE server = ? AND name = ? AND (daily_cap = 0 OR calls_day != ? OR calls_count < daily_cap)",
			day, day, server, name, day)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrCapReached
		}
		return nil
	})
	if err != nil && !errors.Is(err, ErrCapReached) {
		return fmt.Errorf("store: count MCP call %s/%s: %w", server, name, err)
	}
	return err
}
