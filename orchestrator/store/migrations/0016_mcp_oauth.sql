-- OAuth 2.1 for external MCP servers (issue 15): auth_kind 'oauth' and the
-- state 'needs_authorization'. SQLite cannot change a CHECK constraint in
-- place, so both tables are rebuilt; mcp_tools goes first so that dropping
-- mcp_servers cascades to nothing.
--
-- No token is stored here. The access and refresh tokens, and a client
-- secret the authorization server issued at dynamic registration, are vault
-- secrets named MCP_OAUTH_<NAME>_ACCESS, _REFRESH and _CLIENT. These columns
-- hold what is not secret: the client id (given by the admin or obtained by
-- dynamic registration), the name of a vault secret holding the client's
-- secret (given by the admin), the scopes, the redirect URI a dynamically
-- registered client was registered with, its token endpoint auth method,
-- and when the access token expires.

CREATE TABLE mcp_tools_0016 AS SELECT * FROM mcp_tools;
CREATE TABLE mcp_servers_0016 AS SELECT * FROM mcp_servers;
DROP INDEX mcp_tools_exposed;
DROP TABLE mcp_tools;
DROP TABLE mcp_servers;

CREATE TABLE mcp_servers (
	name         TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 24),
	url          TEXT NOT NULL,
	transport    TEXT NOT NULL CHECK (transport IN ('streamable', 'sse')),
	auth_kind    TEXT NOT NULL CHECK (auth_kind IN ('none', 'header', 'oauth')),
	header_name  TEXT NOT NULL,
	header_prefix TEXT NOT NULL,
	secret_name  TEXT NOT NULL,
	state        TEXT NOT NULL CHECK (state IN ('connected', 'disconnected', 'error', 'needs_authorization')),
	last_error   TEXT NOT NULL,
	connected_at INTEGER NOT NULL,
	created_at   INTEGER NOT NULL,
	created_by   TEXT NOT NULL,
	oauth_client_id          TEXT NOT NULL DEFAULT '',
	oauth_client_secret_name TEXT NOT NULL DEFAULT '',
	oauth_scopes             TEXT NOT NULL DEFAULT '',
	oauth_registered_redirect TEXT NOT NULL DEFAULT '',
	oauth_auth_method        TEXT NOT NULL DEFAULT '',
	oauth_expires_at         INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE mcp_tools (
	server          TEXT NOT NULL REFERENCES mcp_servers (name) ON DELETE CASCADE,
	name            TEXT NOT NULL,
	exposed         TEXT NOT NULL,
	description     TEXT NOT NULL,
	input_schema    TEXT NOT NULL CHECK (json_valid(input_schema)),
	sha256          TEXT NOT NULL CHECK (length(sha256) = 64),
	approved_sha256 TEXT NOT NULL,
	status          TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied')),
	findings        TEXT NOT NULL CHECK (json_valid(findings)),
	present         INTEGER NOT NULL,
	daily_cap       INTEGER NOT NULL CHECK (daily_cap >= 0),
	calls_day       TEXT NOT NULL,
	calls_count     INTEGER NOT NULL,
	first_seen      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL,
	decided_by      TEXT NOT NULL,
	PRIMARY KEY (server, name)
) STRICT;
CREATE INDEX mcp_tools_exposed ON mcp_tools (exposed);

INSERT INTO mcp_servers (name, url, transport, auth_kind, header_name, header_prefix, secret_name, state, last_error,
	connected_at, created_at, created_by)
	SELECT name, url, transport, auth_kind, header_name, header_prefix, secret_name, state, last_error,
	connected_at, created_at, created_by FROM mcp_servers_0016;
INSERT INTO mcp_tools (server, name, exposed, description, input_schema, sha256, approved_sha256, status, findings,
	present, daily_cap, calls_day, calls_count, first_seen, updated_at, decided_by)
	SELECT server, name, exposed, description, input_schema, sha256, approved_sha256, status, findings,
	present, daily_cap, calls_day, calls_count, first_seen, updated_at, decided_by FROM mcp_tools_0016;
DROP TABLE mcp_tools_0016;
DROP TABLE mcp_servers_0016;
