-- LLM usage, one row per provider call. conversation_id and task_id carry no
-- foreign key: accounting must never fail because its context is gone.

CREATE TABLE usage (
	id              INTEGER PRIMARY KEY,
	conversation_id TEXT NOT NULL,
	task_id         TEXT NOT NULL,
	provider        TEXT NOT NULL,
	model           TEXT NOT NULL,
	input_tokens    INTEGER NOT NULL,
	output_tokens   INTEGER NOT NULL,
	created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX usage_created ON usage (created_at);
CREATE INDEX usage_conversation ON usage (conversation_id);
