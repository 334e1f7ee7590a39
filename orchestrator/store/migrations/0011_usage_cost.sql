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
