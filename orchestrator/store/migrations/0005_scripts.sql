-- Script versions proposed by the assistant and the admins' decisions on
-- them. A version is identified by its name and the sha256 of its exact
-- source. grants and findings are JSON (tools.Grants, []tools.Finding).
-- decided_at is 0 and decided_by and reason are empty until a decision.
-- The partial unique index makes "at most one approved version per name" a
-- property of the database, not only of the code.

CREATE TABLE script_versions (
	name        TEXT NOT NULL,
	sha256      TEXT NOT NULL CHECK (length(sha256) = 64),
	source      TEXT NOT NULL,
	description TEXT NOT NULL,
	grants      TEXT NOT NULL CHECK (json_valid(grants)),
	findings    TEXT NOT NULL CHECK (json_valid(findings)),
	status      TEXT NOT NULL
		CHECK (status IN ('pending', 'approved', 'rejected', 'superseded', 'revoked')),
	proposer    TEXT NOT NULL,
	created_at  INTEGER NOT NULL,
	decided_at  INTEGER NOT NULL,
	decided_by  TEXT NOT NULL,
	reason      TEXT NOT NULL,
	PRIMARY KEY (name, sha256)
) STRICT;
CREATE UNIQUE INDEX script_versions_one_approved ON script_versions (name) WHERE status = 'approved';
CREATE INDEX script_versions_name_created ON script_versions (name, created_at DESC);
