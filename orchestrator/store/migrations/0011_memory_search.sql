-- Memory that scales and can be reviewed (issue 16, items 1 to 3).
--
-- conversations.audience is the memory audience of the conversation's
-- messages (store.CanRead): memory_search finds a past conversation only
-- for a reader who may read its audience. Web and API conversations are the
-- admin's; a Discord conversation's audience is set by its first message
-- after this migration ('' until then: only the admin finds it).
ALTER TABLE conversations ADD COLUMN audience TEXT NOT NULL DEFAULT '';
UPDATE conversations SET audience = 'admin' WHERE source IN ('web', 'api');
CREATE INDEX conversations_audience ON conversations (audience);

-- A pinned note is put in the system prompt first, whatever its age.
ALTER TABLE memory_notes ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1));

-- Full-text indexes (FTS5, bm25) over the user messages and final answers
-- (the rows messages_history covers) and over the memory notes. They are
-- external-content tables: the text stays in its table, the triggers keep
-- the index in step with every insert, update and delete.
--
-- The messages' index also holds, as columns of their own, the
-- conversation's audience (aud) and id (conv), so that a search limited to
-- one audience or one conversation is an FTS AND with a rare term rather
-- than a filter over every match. Its content is the view messages_search.
-- A query must confine the user's words to the content column.
CREATE VIEW messages_search AS
	SELECT m.seq AS seq, m.content AS content, c.audience AS aud, m.conversation_id AS conv
	FROM messages m JOIN conversations c ON c.id = m.conversation_id;
CREATE VIRTUAL TABLE messages_fts USING fts5 (content, aud, conv, content = 'messages_search', content_rowid = 'seq',
	tokenize = 'unicode61 remove_diacritics 2');
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
	WHEN new.role = 'user' OR (new.role = 'assistant' AND new.tool_calls IS NULL AND new.is_error = 0)
BEGIN
	INSERT INTO messages_fts (rowid, content, aud, conv) VALUES (new.seq, new.content,
		(SELECT audience FROM conversations WHERE id = new.conversation_id), new.conversation_id);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
	WHEN old.role = 'user' OR (old.role = 'assistant' AND old.tool_calls IS NULL AND old.is_error = 0)
BEGIN
	INSERT INTO messages_fts (messages_fts, rowid, content, aud, conv) VALUES ('delete', old.seq, old.content,
		(SELECT audience FROM conversations WHERE id = old.conversation_id), old.conversation_id);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, role, tool_calls, is_error, conversation_id ON messages
BEGIN
	INSERT INTO messages_fts (messages_fts, rowid, content, aud, conv)
		SELECT 'delete', old.seq, old.content, (SELECT audience FROM conversations WHERE id = old.conversation_id),
			old.conversation_id
		WHERE old.role = 'user' OR (old.role = 'assistant' AND old.tool_calls IS NULL AND old.is_error = 0);
	INSERT INTO messages_fts (rowid, content, aud, conv)
		SELECT new.seq, new.content, (SELECT audience FROM conversations WHERE id = new.conversation_id),
			new.conversation_id
		WHERE new.role = 'user' OR (new.role = 'assistant' AND new.tool_calls IS NULL AND new.is_error = 0);
END;
-- A conversation's audience is set once (by its first message after this
-- migration): its messages are indexed again under it.
CREATE TRIGGER messages_fts_audience AFTER UPDATE OF audience ON conversations
BEGIN
	INSERT INTO messages_fts (messages_fts, rowid, content, aud, conv)
		SELECT 'delete', seq, content, old.audience, conversation_id FROM messages
		WHERE conversation_id = old.id
			AND (role = 'user' OR (role = 'assistant' AND tool_calls IS NULL AND is_error = 0));
	INSERT INTO messages_fts (rowid, content, aud, conv)
		SELECT seq, content, new.audience, conversation_id FROM messages
		WHERE conversation_id = new.id
			AND (role = 'user' OR (role = 'assistant' AND tool_calls IS NULL AND is_error = 0));
END;
INSERT INTO messages_fts (rowid, content, aud, conv)
	SELECT m.seq, m.content, c.audience, m.conversation_id FROM messages m JOIN conversations c ON c.id = m.conversation_id
	WHERE m.role = 'user' OR (m.role = 'assistant' AND m.tool_calls IS NULL AND m.is_error = 0);

CREATE VIRTUAL TABLE memory_notes_fts USING fts5 (text, content = 'memory_notes', content_rowid = 'seq',
	tokenize = 'unicode61 remove_diacritics 2');
CREATE TRIGGER memory_notes_fts_insert AFTER INSERT ON memory_notes BEGIN
	INSERT INTO memory_notes_fts (rowid, text) VALUES (new.seq, new.text);
END;
CREATE TRIGGER memory_notes_fts_delete AFTER DELETE ON memory_notes BEGIN
	INSERT INTO memory_notes_fts (memory_notes_fts, rowid, text) VALUES ('delete', old.seq, old.text);
END;
CREATE TRIGGER memory_notes_fts_update AFTER UPDATE OF text ON memory_notes BEGIN
	INSERT INTO memory_notes_fts (memory_notes_fts, rowid, text) VALUES ('delete', old.seq, old.text);
	INSERT INTO memory_notes_fts (rowid, text) VALUES (new.seq, new.text);
END;
INSERT INTO memory_notes_fts (rowid, text) SELECT seq, text FROM memory_notes;

-- The workspace's text files as the model last wrote them (workspace_write),
-- for memory_search; every conversation reads the workspace.
CREATE TABLE workspace_texts (
	seq        INTEGER PRIMARY KEY,
	path       TEXT NOT NULL UNIQUE,
	text       TEXT NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;
CREATE VIRTUAL TABLE workspace_texts_fts USING fts5 (text, content = 'workspace_texts', content_rowid = 'seq',
	tokenize = 'unicode61 remove_diacritics 2');
CREATE TRIGGER workspace_texts_fts_insert AFTER INSERT ON workspace_texts BEGIN
	INSERT INTO workspace_texts_fts (rowid, text) VALUES (new.seq, new.text);
END;
CREATE TRIGGER workspace_texts_fts_delete AFTER DELETE ON workspace_texts BEGIN
	INSERT INTO workspace_texts_fts (workspace_texts_fts, rowid, text) VALUES ('delete', old.seq, old.text);
END;
CREATE TRIGGER workspace_texts_fts_update AFTER UPDATE OF text ON workspace_texts BEGIN
	INSERT INTO workspace_texts_fts (workspace_texts_fts, rowid, text) VALUES ('delete', old.seq, old.text);
	INSERT INTO workspace_texts_fts (rowid, text) VALUES (new.seq, new.text);
END;

-- Versions of the memory: after every change to an audience's notes (or to
-- a workspace file the model wrote), the whole of it as it then was.
-- subject is the audience, or 'workspace:<path>'. snapshot is, for an
-- audience, a JSON array of its notes ({id, text, created_at, pinned}); for
-- a file, its text. actor is 'model', 'system' or the admin's name.
CREATE TABLE memory_versions (
	seq             INTEGER PRIMARY KEY,
	id              TEXT NOT NULL UNIQUE,
	subject         TEXT NOT NULL,
	action          TEXT NOT NULL,
	actor           TEXT NOT NULL,
	conversation_id TEXT NOT NULL,
	task_id         TEXT NOT NULL,
	snapshot        TEXT NOT NULL,
	bytes           INTEGER NOT NULL, -- length of snapshot in bytes, for the caps
	created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX memory_versions_subject ON memory_versions (subject, seq);
INSERT INTO memory_versions (id, subject, action, actor, conversation_id, task_id, snapshot, bytes, created_at)
	SELECT 'v_' || lower(hex(randomblob(10))), audience, 'initial', 'system', '', '',
		json_group_array(json_object('id', id, 'text', text, 'created_at', created_at, 'pinned', json('false'),
			'conversation_id', conversation_id)),
		0, max(updated_at)
	FROM (SELECT * FROM memory_notes ORDER BY seq) GROUP BY audience;
UPDATE memory_versions SET bytes = length(CAST(snapshot AS BLOB));

-- Memory writes awaiting the admin's approval (setting
-- memory.require_approval): what memory_write asked for, applied only when
-- approved.
CREATE TABLE memory_pending (
	seq             INTEGER PRIMARY KEY,
	id              TEXT NOT NULL UNIQUE,
	audience        TEXT NOT NULL,
	mode            TEXT NOT NULL CHECK (mode IN ('append', 'replace')),
	text            TEXT NOT NULL CHECK (length(CAST(text AS BLOB)) <= 1048576),
	conversation_id TEXT NOT NULL,
	task_id         TEXT NOT NULL,
	status          TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
	decided_by      TEXT NOT NULL,
	created_at      INTEGER NOT NULL,
	decided_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX memory_pending_status ON memory_pending (status, seq);
