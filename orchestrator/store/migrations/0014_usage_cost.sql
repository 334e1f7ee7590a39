-- Prompt cache tokens and cost of each LLM call (issue 16).
-- input_tokens stays every input token, cached ones included;
-- cache_read_tokens and cache_write_tokens are the parts of it read from
-- and written to the provider's prompt cache. cost_nanos is the call's
-- cost in nano-units (10^-9) of the price table's currency at the prices
-- of the time, NULL when a price it needed was unknown. Rows from before
-- this migration have no cache counts and an unknown cost.

ALTER TABLE usage ADD COLUMN cache_read_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage ADD COLUMN cache_write_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage ADD COLUMN cost_nanos INTEGER;

-- The dashboard's sums (per day, per conversation, today, this month) and
-- the budget checks read only these columns from a time range: a covering
-- index answers them without touching the table. It starts with
-- created_at, so it replaces usage_created.
CREATE INDEX usage_created_sums ON usage (created_at, conversation_id, input_tokens, output_tokens,
	cache_read_tokens, cache_write_tokens, cost_nanos);
DROP INDEX usage_created;
