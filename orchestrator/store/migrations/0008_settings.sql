-- Settings an admin changes at run time (package orchestrator/settings).
--
-- One row, id 1, seeded here: doc is a JSON object holding only the fields
-- an admin set (a missing field means "use the default from the config
-- file and environment"); version counts the writes, 0 until the first;
-- updated_at (UTC unix nanoseconds, 0 until the first write) and updated_by
-- (the actor, '' until the first write) describe the last one.

CREATE TABLE settings (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	doc        TEXT NOT NULL CHECK (json_valid(doc) AND json_type(doc) = 'object'),
	version    INTEGER NOT NULL CHECK (version >= 0),
	updated_at INTEGER NOT NULL,
	updated_by TEXT NOT NULL CHECK (length(updated_by) <= 256)
) STRICT;
INSERT INTO settings (id, doc, version, updated_at, updated_by) VALUES (1, '{}', 0, 0, '');
