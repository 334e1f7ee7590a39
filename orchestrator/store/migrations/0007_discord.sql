-- Conversations continued from outside the web chat. A row binds an
-- external thread, named by its source and a key (for Discord, the channel
-- id), to the conversation that thread currently continues. Starting afresh
-- (/new in Discord) re-points the row at a new conversation; earlier
-- conversations stay, readable in the web UI.

CREATE TABLE external_conversations (
	source          TEXT NOT NULL,
	external_key    TEXT NOT NULL CHECK (length(external_key) BETWEEN 1 AND 256),
	conversation_id TEXT NOT NULL REFERENCES conversations (id),
	updated_at      INTEGER NOT NULL,
	PRIMARY KEY (source, external_key)
) STRICT;
