-- The assistant's memory, one row per note (memory_write, memory_read, the
-- admin's Memory page). A note's audience says which conversations read
-- it: 'admin' (the admin's web chat and API only), 'everyone' (every
-- conversation), 'discord-user:<id>' (that user's Discord DMs) or
-- 'discord-channel:<id>' (that Discord channel). The admin's conversations
-- read every note. conversation_id and task_id name the task that wrote the
-- note ('' for a note imported from MEMORY.md). Times are UTC unix
-- nanoseconds.

CREATE TABLE memory_notes (
	seq             INTEGER PRIMARY KEY,
	id              TEXT NOT NULL UNIQUE,
	audience        TEXT NOT NULL CHECK (audience IN ('admin', 'everyone')
		OR audience GLOB 'discord-user:[0-9]*' OR audience GLOB 'discord-channel:[0-9]*'),
	text            TEXT NOT NULL CHECK (length(CAST(text AS BLOB)) BETWEEN 1 AND 1048576),
	conversation_id TEXT NOT NULL,
	task_id         TEXT NOT NULL,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX memory_notes_audience ON memory_notes (audience, seq);
