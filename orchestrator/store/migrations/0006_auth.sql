-- Admin accounts, their sessions, and the first-run setup code.
--
-- admins.password_hash is an argon2id PHC string (package orchestrator/auth);
-- token_key is 32 random bytes mixed into the key that signs the admin's
-- tokens, replaced on every password change so that all earlier tokens stop
-- verifying. created_by is 'setup' for the admin made by first-run setup;
-- the partial unique index makes "setup creates at most one admin, ever" a
-- property of the database, not only of the code.
--
-- sessions back every token: a token is accepted only while its row exists,
-- is not revoked (revoked_at 0) and has not expired. type is the token type.
--
-- setup has at most one row: the hash (sha256) of the current one-time setup
-- code; used_at is 0 and admin_id empty until the code is redeemed.

CREATE TABLE admins (
	id            TEXT PRIMARY KEY,
	username      TEXT NOT NULL UNIQUE CHECK (length(username) BETWEEN 1 AND 64),
	password_hash TEXT NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
	token_key     BLOB NOT NULL CHECK (length(token_key) = 32),
	created_by    TEXT NOT NULL CHECK (created_by IN ('setup', 'admin')),
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX admins_one_from_setup ON admins (created_by) WHERE created_by = 'setup';

CREATE TABLE sessions (
	id           TEXT PRIMARY KEY,
	admin_id     TEXT NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
	type         TEXT NOT NULL CHECK (type IN ('session', 'api')),
	created_at   INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	revoked_at   INTEGER NOT NULL,
	user_agent   TEXT NOT NULL,
	ip           TEXT NOT NULL
) STRICT;
CREATE INDEX sessions_admin ON sessions (admin_id, revoked_at, expires_at);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE setup (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	code_hash  BLOB NOT NULL CHECK (length(code_hash) = 32),
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at    INTEGER NOT NULL,
	admin_id   TEXT NOT NULL
) STRICT;
