"""SQLAlchemy Core view of the tables that `sql/*.sql` create.

The SQL files are the truth; a test compares these definitions with a migrated database.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, Text

metadata = MetaData()

experts = Table(
    "experts",
    metadata,
    Column("id", Text, primary_key=True),
    Column("display_name", Text, nullable=False),
    Column("channel_username", Text),
    Column("channel_id", Integer),
    Column("chat_type", Text),
    Column("discussion_chat_id", Integer),
    Column("discussion_chat_name", Text),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)

posts = Table(
    "posts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("expert_id", Text, nullable=False),
    Column("telegram_message_id", Integer, nullable=False),
    Column("date", Text, nullable=False),
    Column("edited_at", Text),
    Column("text", Text, nullable=False),
    Column("author_name", Text),
    Column("author_id", Text),
    Column("views", Integer),
    Column("forwards", Integer),
    Column("reply_to_message_id", Integer),
    Column("forwarded_from", Text),
    Column("forwarded_from_id", Text),
    Column("media", Text),
    Column("external_mentions", Text),
    Column("reactions", Text),
    Column("content_hash", Text, nullable=False),
    Column("imported_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)

links = Table(
    "links",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("expert_id", Text, nullable=False),
    Column("source_message_id", Integer, nullable=False),
    Column("target_message_id", Integer, nullable=False),
    Column("link_type", Text, nullable=False),
)

comments = Table(
    "comments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("expert_id", Text, nullable=False),
    Column("post_telegram_message_id", Integer, nullable=False),
    Column("telegram_message_id", Integer, nullable=False),
    Column("parent_comment_id", Integer),
    Column("date", Text, nullable=False),
    Column("edited_at", Text),
    Column("text", Text, nullable=False),
    Column("author_name", Text),
    Column("author_id", Text),
    Column("is_channel_author", Integer, nullable=False),
    Column("media", Text),
    Column("content_hash", Text, nullable=False),
    Column("imported_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)

comment_group_drift = Table(
    "comment_group_drift",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("expert_id", Text, nullable=False),
    Column("post_telegram_message_id", Integer, nullable=False),
    Column("has_drift", Integer, nullable=False),
    Column("drift_topics", Text, nullable=False),
    Column("analyzed_at", Text, nullable=False),
    Column("analyzed_by", Text, nullable=False),
)

import_runs = Table(
    "import_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("expert_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("source_name", Text, nullable=False),
    Column("started_at", Text, nullable=False),
    Column("finished_at", Text, nullable=False),
    Column("summary", Text, nullable=False),
)

post_search_state = Table(
    "post_search_state",
    metadata,
    Column("post_id", Integer, primary_key=True),
    Column("content_hash", Text, nullable=False),
)

post_embeddings = Table(
    "post_embeddings",
    metadata,
    Column("post_id", Integer, primary_key=True),
    Column("expert_id", Text, nullable=False),
    Column("model", Text, nullable=False),
    Column("content_hash", Text, nullable=False),
    Column("dimensions", Integer, nullable=False),
    Column("vector", LargeBinary, nullable=False),
)

search_generation = Table(
    "search_generation",
    metadata,
    Column("expert_id", Text, primary_key=True),
    Column("generation", Integer, nullable=False),
)

token_usage = Table(
    "token_usage",
    metadata,
    Column("day", Text, primary_key=True),
    Column("model_calls", Integer, nullable=False),
    Column("prompt_tokens", Integer, nullable=False),
    Column("completion_tokens", Integer, nullable=False),
)

expert_words = Table(
    "expert_words",
    metadata,
    Column("expert_id", Text, primary_key=True),
    Column("word", Text, primary_key=True),
    Column("posts", Integer, nullable=False),
)

word_vectors = Table(
    "word_vectors",
    metadata,
    Column("model", Text, primary_key=True),
    Column("word", Text, primary_key=True),
    Column("vector", LargeBinary, nullable=False),
)

translations = Table(
    "translations",
    metadata,
    Column("expert_id", Text, primary_key=True),
    Column("kind", Text, primary_key=True),
    Column("telegram_message_id", Integer, primary_key=True),
    Column("language", Text, primary_key=True),
    Column("model", Text, primary_key=True),
    Column("source_sha256", Text, primary_key=True),
    Column("text", Text, nullable=False),
    Column("prompt_tokens", Integer, nullable=False),
    Column("completion_tokens", Integer, nullable=False),
    Column("created_at", Text, nullable=False),
)
