-- Scheduled jobs (issue 14) and their runs. Times are UTC unix nanoseconds.
-- next_run is NULL while a job is not scheduled (proposed, rejected,
-- paused); the partial index jobs_due holds only scheduled jobs, so the
-- scheduler's tick reads the few due rows however many jobs exist.

CREATE TABLE jobs (
	id              TEXT PRIMARY KEY,
	name            TEXT NOT NULL UNIQUE,
	kind            TEXT NOT NULL,
	schedule        TEXT NOT NULL,
	prompt          TEXT NOT NULL,
	script          TEXT NOT NULL,
	phrase          INTEGER NOT NULL,
	targets         TEXT NOT NULL,
	conversation_id TEXT NOT NULL REFERENCES conversations (id),
	state           TEXT NOT NULL,
	state_reason    TEXT NOT NULL,
	max_tokens      INTEGER NOT NULL,
	max_calls       INTEGER NOT NULL,
	daily_tokens    INTEGER NOT NULL,
	grace_ms        INTEGER NOT NULL,
	next_run        INTEGER,
	failures        INTEGER NOT NULL,
	proposed_by     TEXT NOT NULL,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX jobs_due ON jobs (next_run) WHERE next_run IS NOT NULL;

CREATE TABLE job_runs (
	id           TEXT PRIMARY KEY,
	job_id       TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
	trigger      TEXT NOT NULL,
	scheduled_at INTEGER NOT NULL,
	started_at   INTEGER NOT NULL,
	ended_at     INTEGER NOT NULL,
	status       TEXT NOT NULL,
	tokens       INTEGER NOT NULL,
	calls        INTEGER NOT NULL,
	output       TEXT NOT NULL,
	error        TEXT NOT NULL
) STRICT;
CREATE INDEX job_runs_job ON job_runs (job_id, started_at);
CREATE INDEX job_runs_running ON job_runs (status) WHERE status = 'running';
