-- The rows a task's history is built from: user messages and final
-- assistant answers (no tool calls, not an error), newest first by seq.
-- Store.History reads this index backwards and stops at its token budget,
-- so a turn reads the same few rows however old the conversation is.

CREATE INDEX messages_history ON messages (conversation_id, seq)
	WHERE role = 'user' OR (role = 'assistant' AND tool_calls IS NULL AND is_error = 0);
