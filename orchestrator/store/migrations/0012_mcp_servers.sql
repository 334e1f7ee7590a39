-- External MCP servers the orchestrator connects to on the AI's behalf
-- (issue 15), and the tools they list. The credential is never stored here:
-- auth_kind 'header' names a vault secret (secret_name) whose value is sent
-- in header_name after header_prefix ("Bearer "), only to the server's own host.
--
-- A tool is offered to the model only while status is 'approved' and the
-- SHA-256 of its current definition (sha256) equals the one the admin
-- approved (approved_sha256) and it was in the last listing (present = 1).
-- A new tool arrives 'pending' (denied until approved); a changed
-- definition of an approved tool sets it back to 'pending' (withdrawn).

CREATE TABLE mcp_servers (
	name         TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 24),
	url          TEXT NOT NULL,
	transport    TEXT NOT NULL CHECK (transport IN ('streamable', 'sse')),
	auth_kind    TEXT NOT NULL CHECK (auth_kind IN ('none', 'header')),
	header_name  TEXT NOT NULL,
	header_prefix TEXT NOT NULL,
	secret_name  TEXT NOT NULL,
	state        TEXT NOT NULL CHECK (state IN ('connected', 'disconnected', 'error')),
	last_error   TEXT NOT NULL,
	connected_at INTEGER NOT NULL,
	created_at   INTEGER NOT NULL,
	created_by   TEXT NOT NULL
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
