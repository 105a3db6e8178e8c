-- oldest-compatible: 1
-- The first schema. Every expert-owned row carries expert_id, and every link or comment points
-- at its post through (expert_id, telegram_message_id), so no row can join two experts.

CREATE TABLE experts (
    id TEXT PRIMARY KEY
        CHECK (length(id) BETWEEN 1 AND 64 AND id NOT GLOB '*[^a-z0-9_-]*'),
    display_name TEXT NOT NULL,
    channel_username TEXT,
    channel_id INTEGER,
    chat_type TEXT,
    discussion_chat_id INTEGER,
    discussion_chat_name TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE posts (
    id INTEGER PRIMARY KEY,
    expert_id TEXT NOT NULL REFERENCES experts (id) ON DELETE CASCADE,
    telegram_message_id INTEGER NOT NULL,
    date TEXT NOT NULL,
    edited_at TEXT,
    text TEXT NOT NULL DEFAULT '',
    author_name TEXT,
    author_id TEXT,
    views INTEGER,
    forwards INTEGER,
    reply_to_message_id INTEGER,
    forwarded_from TEXT,
    forwarded_from_id TEXT,
    media TEXT,
    external_mentions TEXT,
    reactions TEXT,
    content_hash TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (expert_id, telegram_message_id)
) STRICT;

CREATE INDEX posts_expert_date ON posts (expert_id, date);

CREATE TABLE links (
    id INTEGER PRIMARY KEY,
    expert_id TEXT NOT NULL,
    source_message_id INTEGER NOT NULL,
    target_message_id INTEGER NOT NULL,
    link_type TEXT NOT NULL CHECK (link_type IN ('reply', 'forward', 'mention')),
    UNIQUE (expert_id, source_message_id, target_message_id, link_type),
    FOREIGN KEY (expert_id, source_message_id)
        REFERENCES posts (expert_id, telegram_message_id) ON DELETE CASCADE,
    FOREIGN KEY (expert_id, target_message_id)
        REFERENCES posts (expert_id, telegram_message_id) ON DELETE CASCADE
) STRICT;

CREATE INDEX links_target ON links (expert_id, target_message_id);

CREATE TABLE comments (
    id INTEGER PRIMARY KEY,
    expert_id TEXT NOT NULL,
    post_telegram_message_id INTEGER NOT NULL,
    telegram_message_id INTEGER NOT NULL,
    parent_comment_id INTEGER,
    date TEXT NOT NULL,
    edited_at TEXT,
    text TEXT NOT NULL DEFAULT '',
    author_name TEXT,
    author_id TEXT,
    is_channel_author INTEGER NOT NULL DEFAULT 0 CHECK (is_channel_author IN (0, 1)),
    media TEXT,
    content_hash TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (expert_id, telegram_message_id),
    FOREIGN KEY (expert_id, post_telegram_message_id)
        REFERENCES posts (expert_id, telegram_message_id) ON DELETE CASCADE
) STRICT;

CREATE INDEX comments_post ON comments (expert_id, post_telegram_message_id, date);

CREATE TABLE comment_group_drift (
    id INTEGER PRIMARY KEY,
    expert_id TEXT NOT NULL,
    post_telegram_message_id INTEGER NOT NULL,
    has_drift INTEGER NOT NULL CHECK (has_drift IN (0, 1)),
    -- JSON: [{"topic": ..., "keywords": [...], "key_phrases": [...], "context": ...}]
    drift_topics TEXT NOT NULL DEFAULT '[]',
    analyzed_at TEXT NOT NULL,
    analyzed_by TEXT NOT NULL,
    UNIQUE (expert_id, post_telegram_message_id),
    FOREIGN KEY (expert_id, post_telegram_message_id)
        REFERENCES posts (expert_id, telegram_message_id) ON DELETE CASCADE
) STRICT;

-- What each import did, for the operator: which file, when, and the counts it reported.
CREATE TABLE import_runs (
    id INTEGER PRIMARY KEY,
    expert_id TEXT NOT NULL REFERENCES experts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('posts', 'comments')),
    source_name TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    summary TEXT NOT NULL
) STRICT;
