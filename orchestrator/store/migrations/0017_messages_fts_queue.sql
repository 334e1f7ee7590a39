-- The messages' full-text index is brought up to date in batches, off the
-- commits of a turn (issue 13): a message that belongs in the index (a user
-- message or a final answer, as in 0011) is queued here by its insert
-- trigger, and Store.indexQueued moves the queue into messages_fts, many
-- messages to one index segment. A search runs it first, so it never misses
-- a stored message; the store also runs it shortly after a write, and at
-- open. The queue is part of the database: a crash or a backup keeps it.
--
-- A queued message is not in the index yet: deleting it must not ask the
-- index to delete it (that would corrupt an external-content index), and
-- changing it needs nothing, since the indexer reads it as it is then.
CREATE TABLE messages_fts_queue (seq INTEGER PRIMARY KEY) STRICT;

DROP TRIGGER messages_fts_insert;
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
	WHEN new.role = 'user' OR (new.role = 'assistant' AND new.tool_calls IS NULL AND new.is_error = 0)
BEGIN
	INSERT OR IGNORE INTO messages_fts_queue (seq) VALUES (new.seq);
END;

DROP TRIGGER messages_fts_delete;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
	WHEN old.role = 'user' OR (old.role = 'assistant' AND old.tool_calls IS NULL AND old.is_error = 0)
BEGIN
	INSERT INTO messages_fts (messages_fts, rowid, content, aud, conv)
		SELECT 'delete', old.seq, old.content, (SELECT audience FROM conversations WHERE id = old.conversation_id),
			old.conversation_id
		WHERE NOT EXISTS (SELECT 1 FROM messages_fts_queue WHERE seq = old.seq);
	DELETE FROM messages_fts_queue WHERE seq = old.seq;
END;

-- An indexed message that changes leaves the index and is queued again (the
-- indexer leaves it out if it no longer belongs).
DROP TRIGGER messages_fts_update;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, role, tool_calls, is_error, conversation_id ON messages
BEGIN
	INSERT INTO messages_fts (messages_fts, rowid, content, aud, conv)
		SELECT 'delete', old.seq, old.content, (SELECT audience FROM conversations WHERE id = old.conversation_id),
			old.conversation_id
		WHERE (old.role = 'user' OR (old.role = 'assistant' AND old.tool_calls IS NULL AND old.is_error = 0))
			AND NOT EXISTS (SELECT 1 FROM messages_fts_queue WHERE seq = old.seq);
	INSERT OR IGNORE INTO messages_fts_queue (seq)
		SELECT new.seq WHERE new.role = 'user' OR (new.role = 'assistant' AND new.tool_calls IS NULL AND new.is_error = 0);
END;

-- A conversation's new audience: its indexed messages leave the index under
-- the old one and are queued to be indexed under the new one.
DROP TRIGGER messages_fts_audience;
CREATE TRIGGER messages_fts_audience AFTER UPDATE OF audience ON conversations
BEGIN
	INSERT INTO messages_fts (messages_fts, rowid, content, aud, conv)
		SELECT 'delete', seq, content, old.audience, conversation_id FROM messages
		WHERE conversation_id = old.id
			AND (role = 'user' OR (role = 'assistant' AND tool_calls IS NULL AND is_error = 0))
			AND seq NOT IN (SELECT seq FROM messages_fts_queue);
	INSERT OR IGNORE INTO messages_fts_queue (seq)
		SELECT seq FROM messages
		WHERE conversation_id = new.id
			AND (role = 'user' OR (role = 'assistant' AND tool_calls IS NULL AND is_error = 0));
END;
