-- oldest-compatible: 1
-- How many indexed posts hold each stem, read from the full-text index itself (nothing to keep
-- in step): full-text search leaves out the question's stems that most posts hold, which weigh
-- almost nothing in BM25 and cost the most to match (retrieval/lexical.py). Older code
-- ignores it.
CREATE VIRTUAL TABLE post_search_terms USING fts5vocab(post_search, 'row');
