-- oldest-compatible: 1
-- Tokens spent on the model API per UTC day, for the daily budget that keeps a public panel
-- from draining the operator's key. Shared by every process using the database.
CREATE TABLE token_usage (
    day TEXT PRIMARY KEY,
    model_calls INTEGER NOT NULL DEFAULT 0,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0
) STRICT;
