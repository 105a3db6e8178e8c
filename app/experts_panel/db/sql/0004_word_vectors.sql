-- oldest-compatible: 1
-- The words each expert wrote, and one sentence-encoder vector per word, shared by every
-- expert: with them a question in one language is searched with the expert's own words in the
-- other (retrieval/bridge.py). Rebuilt by `experts-panel index`; older code ignores both.
CREATE TABLE expert_words (
    expert_id TEXT NOT NULL REFERENCES experts (id) ON DELETE CASCADE,
    word TEXT NOT NULL,
    -- how many of the expert's posts contain the word
    posts INTEGER NOT NULL,
    PRIMARY KEY (expert_id, word)
) STRICT, WITHOUT ROWID;

CREATE TABLE word_vectors (
    model TEXT NOT NULL,
    word TEXT NOT NULL,
    -- little-endian float32, L2-normalised, as post_embeddings.vector
    vector BLOB NOT NULL,
    PRIMARY KEY (model, word)
) STRICT, WITHOUT ROWID;
