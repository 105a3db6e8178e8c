-- oldest-compatible: 1
-- The search index: full-text (stemmed words) and sentence embeddings, one row per post,
-- each remembering the content_hash it was made from so `experts-panel index` redoes only
-- what changed. Older code ignores these tables; the trigger keeps them clean even when
-- older code deletes posts.

-- rowid = posts.id. `stems` holds the post's words folded (ё -> е), lower-cased and stemmed
-- (Russian or English by script), so "ставку" finds "ставка" and "backups" finds "backup".
CREATE VIRTUAL TABLE post_search USING fts5(
    stems,
    expert_id UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TABLE post_search_state (
    post_id INTEGER PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    content_hash TEXT NOT NULL
) STRICT;

CREATE TABLE post_embeddings (
    post_id INTEGER PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    expert_id TEXT NOT NULL,
    model TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    -- little-endian float32, `dimensions` of them, L2-normalised
    dimensions INTEGER NOT NULL,
    vector BLOB NOT NULL
) STRICT;

CREATE INDEX post_embeddings_expert ON post_embeddings (expert_id, model);

-- FTS5 tables take no foreign keys; without this a deleted post's row would linger and,
-- once SQLite reuses its rowid, be found as another post.
CREATE TRIGGER posts_delete_search AFTER DELETE ON posts BEGIN
    DELETE FROM post_search WHERE rowid = old.id;
END;

-- Bumped by each index run that changed something, so a server's in-memory copy of an
-- expert's vectors knows when to reload.
CREATE TABLE search_generation (
    expert_id TEXT PRIMARY KEY REFERENCES experts (id) ON DELETE CASCADE,
    generation INTEGER NOT NULL
) STRICT;
