-- oldest-compatible: 1
-- Posts and comments translated for readers (GET /api/v1/posts/{id}?language=), so a text is
-- sent to the model once per language and model. The key holds the SHA-256 of the text that
-- was translated: an edited post no longer matches and is translated again. Older code
-- ignores the table.
CREATE TABLE translations (
    expert_id TEXT NOT NULL REFERENCES experts (id) ON DELETE CASCADE,
    -- 'post' or 'comment'; telegram_message_id is unique per expert within each kind
    kind TEXT NOT NULL CHECK (kind IN ('post', 'comment')),
    telegram_message_id INTEGER NOT NULL,
    language TEXT NOT NULL,
    model TEXT NOT NULL,
    -- hex SHA-256 of the source text, UTF-8
    source_sha256 TEXT NOT NULL,
    text TEXT NOT NULL,
    -- what the translation cost, for the record (the budget counts it in token_usage)
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (expert_id, kind, telegram_message_id, language, model, source_sha256)
) STRICT, WITHOUT ROWID;
