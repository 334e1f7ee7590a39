-- The cost of each job run (issue 14): a run records the task its model
-- calls were made for, and its cost is the sum of cost_nanos of that
-- task's usage rows. usage_task finds them without reading the job's
-- whole conversation. Runs from before this migration have no task, so
-- no cost is shown for them.

ALTER TABLE job_runs ADD COLUMN task_id TEXT NOT NULL DEFAULT '';
CREATE INDEX usage_task ON usage (task_id);
