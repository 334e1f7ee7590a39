-- Core tables: a heartbeat row for readiness checks, conversations, their
-- messages and the tasks that answer them. Times are UTC unix nanoseconds.

CREATE TABLE heartbeat (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	at INTEGER NOT NULL
) STRICT;
INSERT INTO heartbeat (id, at) VALUES (1, 0);

CREATE TABLE conversations (
	id         TEXT PRIMARY KEY,
	source     TEXT NOT NULL,
	title      TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX conversations_updated ON conversations (updated_at DESC);

CREATE TABLE messages (
	seq             INTEGER PRIMARY KEY,
	id              TEXT NOT NULL UNIQUE,
	conversation_id TEXT NOT NULL REFERENCES conversations (id),
	task_id         TEXT NOT NULL,
	role            TEXT NOT NULL,
	content         TEXT NOT NULL,
	tool_calls      TEXT,
	tool_call_id    TEXT NOT NULL,
	tool_name       TEXT NOT NULL,
	is_error        INTEGER NOT NULL,
	created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX messages_conversation ON messages (conversation_id, seq);

CREATE TABLE tasks (
	id              TEXT PRIMARY KEY,
	conversation_id TEXT NOT NULL REFERENCES conversations (id),
	status          TEXT NOT NULL,
	error           TEXT NOT NULL,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX tasks_conversation ON tasks (conversation_id);
CREATE INDEX tasks_status ON tasks (status);
