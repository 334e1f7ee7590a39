-- The authorization server an OAuth MCP server was authorized with (its
-- RFC 8414 issuer), pinned: a refresh token is only ever sent to that
-- server's token endpoint, even if the MCP server later names another
-- authorization server in its metadata ('' until the next authorization
-- or refresh of a server authorized before this migration).
ALTER TABLE mcp_servers ADD COLUMN oauth_issuer TEXT NOT NULL DEFAULT '';
