-- The secrets vault. Values are sealed by package secure/vault (AES-256-GCM,
-- the name as associated data); this table never holds a value in clear.
-- vault_meta's one row holds the key check, a marker sealed under the master
-- key, so that a wrong key is refused at start-up; rotated_at is 0 until the
-- first key rotation.

CREATE TABLE secrets (
	name       TEXT PRIMARY KEY,
	value      BLOB NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE vault_meta (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	key_check  BLOB NOT NULL,
	created_at INTEGER NOT NULL,
	rotated_at INTEGER NOT NULL
) STRICT;
