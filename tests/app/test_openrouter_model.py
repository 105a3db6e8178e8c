"""The OpenRouter model against a real HTTP server that plays an OpenAI-compatible API.

Each task is checked for what it sends (the phase's model, a prompt holding the question, the
posts' [post:ID] markers and the language), what it makes of the reply (only what was shown,
scores clipped, fields normalised) and the tokens it counts.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from experts_panel.llm.openai_client import OpenAICompatibleClient
from experts_panel.llm.openrouter import OpenRouterModel, analyze_drift
from experts_panel.pipeline.model import Model, ModelError, Usage
from experts_panel.pipeline.texts import text
from experts_panel.pipeline.types import (
    Answer,
    CommentGroup,
    CommentItem,
    CommentSections,
    Post,
    RankedPost,
    Verdict,
)
from experts_panel.settings import Settings, load_settings
from tests.support.fake_openai import (
    FakeOpenAI,
    HttpError,
    Reply,
    fake_openai_fixture,  # noqa: F401  (pytest finds fixtures by name in the module)
    fenced_json,
)

PHASE_MODELS = {
    "MODEL_MAP": "test/map",
    "MODEL_MEDIUM_SCORING": "test/medium-scoring",
    "MODEL_REDUCE": "test/reduce",
    "MODEL_TRANSLATION": "test/translation",
    "MODEL_COMMENT_GROUPS": "test/comment-groups",
    "MODEL_COMMENT_SYNTHESIS": "test/comment-synthesis",
}

QUESTION_RU = "Стоит ли переходить с PostgreSQL на SQLite для небольшого сервиса?"
QUESTION_EN = "Is SQLite enough for a small web service?"


@pytest.fixture
def phase_settings() -> Settings:
    return load_settings(PHASE_MODELS)


@pytest.fixture
async def client(fake_openai: FakeOpenAI) -> AsyncIterator[OpenAICompatibleClient]:
    async with OpenAICompatibleClient(
        fake_openai.base_url,
        "sk-test-key",
        timeout_s=5.0,
        max_in_flight=4,
        max_attempts=3,
        backoff_base_s=0.01,
        backoff_max_s=0.5,
    ) as opened:
        yield opened


@pytest.fixture
def model(client: OpenAICompatibleClient, phase_settings: Settings) -> OpenRouterModel:
    return OpenRouterModel(client, phase_settings)


def answer(payload: Any, prompt_tokens: int = 100, completion_tokens: int = 20) -> Reply:
    return Reply(
        json.dumps(payload, ensure_ascii=False),
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
    )


def post(message_id: int, date: str, body: str) -> Post:
    return Post("db-notes", message_id + 1000, message_id, f"{date}T09:30:00+00:00", body)


def comment(
    message_id: int, under: int, who: str | None, body: str, *, author: bool = False
) -> CommentItem:
    return CommentItem(message_id, under, who, body, "2024-06-03T18:00:00+00:00", author)


def prompt_of(fake: FakeOpenAI, index: int = 0) -> str:
    return "\n".join(m["content"] for m in fake.requests[index].messages)


def spent() -> Usage:
    """A usage that already counts earlier calls: the model must add to it, not replace it."""
    return Usage(model_calls=2, prompt_tokens=50, completion_tokens=10)


def test_is_a_model_that_translates(model: OpenRouterModel) -> None:
    as_protocol: Model = model
    assert as_protocol.name == "openrouter"
    assert as_protocol.can_translate is True


# Phase 1, map


async def test_map_chunk_labels_only_the_posts_it_was_shown(
    fake_openai: FakeOpenAI, model: OpenRouterModel
) -> None:
    posts = [
        post(101, "2024-05-01", "Перевёл свой сервис на SQLite: один писатель, бэкапы проще."),
        post(102, "2023-11-20", "PostgreSQL нужен, когда пишут многие процессы сразу."),
        post(103, "2022-02-14", "Про отпуск в горах."),
    ]
    fake_openai.script(
        answer(
            {
                "posts": [
                    {"id": 101, "relevance": "HIGH", "reason": "Прямо о переходе на SQLite."},
                    {"id": "post:102", "relevance": "medium", "reason": "  О  пределах\nSQLite "},
                    {"id": "[post:103]", "relevance": "LOW", "reason": "Не по теме."},
                    {"id": 999, "relevance": "HIGH", "reason": "Такого поста не было."},
                    {"id": 101, "relevance": "LOW", "reason": "Повтор."},
                ]
            },
            prompt_tokens=300,
            completion_tokens=60,
        )
    )
    usage = spent()

    verdicts = await model.map_chunk(QUESTION_RU, "ru", posts, usage)

    assert verdicts == [
        Verdict(101, "HIGH", "Прямо о переходе на SQLite."),
        Verdict(102, "MEDIUM", "О пределах SQLite"),
        Verdict(103, "LOW", "Не по теме."),
    ]
    assert usage == Usage(model_calls=3, prompt_tokens=350, completion_tokens=70)
    [request] = fake_openai.requests
    assert request.model == "test/map"
    assert request.body["response_format"] == {"type": "json_object"}
    prompt = prompt_of(fake_openai)
    assert QUESTION_RU in prompt
    assert "Russian" in prompt
    assert '"posts"' in prompt and '"relevance"' in prompt and '"reason"' in prompt
    for shown in posts:
        assert f"[post:{shown.telegram_message_id}] ({shown.date[:10]}) {shown.text}" in prompt


async def test_map_chunk_cuts_long_posts_and_names_english(
    fake_openai: FakeOpenAI, model: OpenRouterModel
) -> None:
    long_text = "SQLite handles this well. " * 200 + "THE-VERY-END"
    fake_openai.script(answer({"posts": [{"id": 7, "relevance": "HIGH", "reason": "On point."}]}))

    verdicts = await model.map_chunk(QUESTION_EN, "en", [post(7, "2024-01-02", long_text)], Usage())

    assert verdicts == [Verdict(7, "HIGH", "On point.")]
    prompt = prompt_of(fake_openai)
    assert "English" in prompt
    assert "[post:7] (2024-01-02) SQLite handles this well." in prompt
    assert "THE-VERY-END" not in prompt
    assert len(fake_openai.requests[0].messages[1]["content"]) < 2000


async def test_map_chunk_reads_fenced_json(fake_openai: FakeOpenAI, model: OpenRouterModel) -> None:
    fake_openai.script(
        fenced_json(
            {"posts": [{"id": 5, "relevance": "HIGH", "reason": "Yes."}]},
            prose="Sure! Here are the labels:",
        )
    )
    usage = Usage()

    verdicts = await model.map_chunk(QUESTION_EN, "en", [post(5, "2024-01-01", "x")], usage)

    assert verdicts == [Verdict(5, "HIGH", "Yes.")]
    assert len(fake_openai.requests) == 1  # repaired without a correction call
    assert usage.model_calls == 1 and usage.completion_tokens > 0


# Phase 2, medium scoring


async def test_score_complement_clips_scores_to_the_medium_posts(
    fake_openai: FakeOpenAI, model: OpenRouterModel
) -> None:
    high = [post(201, "2024-04-01", "SQLite для одного писателя — отличный выбор.")]
    medium = [
        post(202, "2024-03-01", "Бэкап SQLite делается одной командой .backup."),
        post(203, "2023-03-01", "WAL-режим снимает блокировки читателей."),
        post(204, "2022-03-01", "Я люблю кофе."),
    ]
    fake_openai.script(
        answer(
            {
                "scores": [
                    {"id": 202, "score": 1.7},
                    {"id": "203", "score": -0.2},
                    {"id": 204, "score": 0.35},
                    {"id": 201, "score": 0.9},
                    {"id": 999, "score": 0.9},
                ]
            },
            prompt_tokens=210,
            completion_tokens=33,
        )
    )
    usage = spent()

    scores = await model.score_complement(QUESTION_RU, high, medium, usage)

    assert scores == {202: 1.0, 203: 0.0, 204: 0.35}
    assert usage == Usage(model_calls=3, prompt_tokens=260, completion_tokens=43)
    [request] = fake_openai.requests
    assert request.model == "test/medium-scoring"
    prompt = prompt_of(fake_openai)
    assert QUESTION_RU in prompt
    assert "[post:201] (2024-04-01)" in prompt
    for candidate in medium:
        assert f"[post:{candidate.telegram_message_id}]" in prompt
    assert prompt.index("[post:201]") < prompt.index("[post:202]")  # HIGH first, then candidates


async def test_score_complement_survives_a_rate_limit(
    fake_openai: FakeOpenAI, model: OpenRouterModel
) -> None:
    fake_openai.script(
        HttpError(429, "Rate limit exceeded", retry_after="0"),
        answer({"scores": [{"id": 12, "score": 0.8}]}, prompt_tokens=40, completion_tokens=8),
    )
    usage = Usage()

    scores = await model.score_complement(
        QUESTION_EN, [post(11, "2024-01-01", "a")], [post(12, "2024-01-02", "b")], usage
    )

    assert scores == {12: 0.8}
    assert [r.model for r in fake_openai.requests] == ["test/medium-scoring"] * 2
    assert usage == Usage(model_calls=1, prompt_tokens=40, completion_tokens=8)


# Phase 4, reduce


def ranked_posts() -> list[RankedPost]:
    return [
        RankedPost(
            post(303, "2024-06-01", "Сейчас я за SQLite: один процесс пишет, и хватит."), "HIGH"
        ),
        RankedPost(post(302, "2024-02-10", "Настроил бэкапы через litestream."), "MEDIUM"),
        RankedPost(post(301, "2023-01-10", "PostgreSQL — единственный разумный выбор."), "HIGH"),
        RankedPost(post(300, "2022-12-01", "Начинаю серию постов про базы данных."), "CONTEXT"),
    ]


async def test_reduce_answers_as_the_expert_newest_first(
    fake_openai: FakeOpenAI, model: OpenRouterModel
) -> None:
    posts = ranked_posts()
    fake_openai.script(
        answer(
            {
                "answer": "Сейчас я выбираю SQLite [post:303]; раньше считал иначе [post:301].",
                "main_sources": [303, "post:301", 999, 303],
                "confidence": "medium",
                "language": "ru-RU",
            },
            prompt_tokens=900,
            completion_tokens=120,
        )
    )
    usage = spent()

    result = await model.reduce(QUESTION_RU, "ru", "Иван Петров", posts, usage)

    assert result == Answer(
        text="Сейчас я выбираю SQLite [post:303]; раньше считал иначе [post:301].",
        main_sources=[303, 301],
        confidence="MEDIUM",
        language="ru",
    )
    assert usage == Usage(model_calls=3, prompt_tokens=950, completion_tokens=130)
    [request] = fake_openai.requests
    assert request.model == "test/reduce"
    prompt = prompt_of(fake_openai)
    assert QUESTION_RU in prompt
    assert "Иван Петров" in prompt
    assert "first person" in prompt
    assert "Russian" in prompt
    assert "[post:ID]" in prompt
    assert "Keep your criticism and your caveats." in prompt
    expected = [
        "[post:303] (2024-06-01, HIGH)",
        "[post:302] (2024-02-10, MEDIUM)",
        "[post:301] (2023-01-10, HIGH)",
        "[post:300] (2022-12-01, CONTEXT)",
    ]
    places = [prompt.index(block) for block in expected]
    assert places == sorted(places)  # given newest first, kept in that order


async def test_reduce_falls_back_to_the_question_language(
    fake_openai: FakeOpenAI, model: OpenRouterModel
) -> None:
    fake_openai.script(answer({"answer": "I moved to SQLite [post:303].", "confidence": "HIGH"}))

    result = await model.reduce(QUESTION_EN, "en", "Ivan", ranked_posts(), Usage())

    assert result == Answer("I moved to SQLite [post:303].", [], "HIGH", "en")
    assert "English" in prompt_of(fake_openai)


async def test_reduce_asks_again_for_an_empty_answer(
    fake_openai: FakeOpenAI, model: OpenRouterModel
) -> None:
    fake_openai.script(
        answer({"answer": "  ", "main_sources": [], "confidence": "LOW", "language": "en"}),
        answer({"answer": "Only SQLite [post:303].", "main_sources": [303], "confidence": "LOW"}),
    )
    usage = Usage()

    result = await model.reduce(QUESTION_EN, "en", "Ivan", ranked_posts(), usage)

    assert result.text == "Only SQLite [post:303]."
    assert len(fake_openai.requests) == 2
    assert usage == Usage(model_calls=2, prompt_tokens=200, completion_tokens=40)


async def test_a_reply_that_never_fits_is_a_model_error(
    fake_openai: FakeOpenAI, model: OpenRouterModel
) -> None:
    fake_openai.script(
        Reply("I cannot answer that.", prompt_tokens=300, completion_tokens=5),
        Reply("Still no JSON, sorry.", prompt_tokens=320, completion_tokens=6),
    )
    usage = Usage()

    with pytest.raises(ModelError, match="test/reduce"):
        await model.reduce(QUESTION_EN, "en", "Ivan", ranked_posts(), usage)
    # The answers were paid for though unusable: the expert's usage (and the budget) count them.
    assert usage == Usage(model_calls=2, prompt_tokens=620, completion_tokens=11)


# Phase 5, language validation


SOURCE_MARKDOWN = "**Коротко:** я за SQLite [post:303].\n\n- бэкапы проще [post:302]"
TRANSLATED_MARKDOWN = (
    "**In short:** I am for SQLite [post:303].\n\n- backups are simpler [post:302]"
)


async def test_translate_keeps_markdown_and_citations(
    fake_openai: FakeOpenAI, model: OpenRouterModel
) -> None:
    fake_openai.script(
        answer({"text": TRANSLATED_MARKDOWN}, prompt_tokens=80, completion_tokens=25)
    )
    usage = spent()

    translated = await model.translate(SOURCE_MARKDOWN, "en", usage)

    assert translated == TRANSLATED_MARKDOWN
    assert usage == Usage(model_calls=3, prompt_tokens=130, completion_tokens=35)
    [request] = fake_openai.requests
    assert request.model == "test/translation"
    prompt = prompt_of(fake_openai)
    assert SOURCE_MARKDOWN in prompt
    assert "English" in prompt
    assert "[post:123]" in prompt  # the rule about markers names one


async def test_translate_that_loses_a_citation_is_corrected(
    fake_openai: FakeOpenAI, model: OpenRouterModel
) -> None:
    fake_openai.script(
        answer({"text": "**In short:** I am for SQLite [post:303].\n\n- backups are simpler"}),
        answer({"text": TRANSLATED_MARKDOWN}),
    )
    usage = Usage()

    translated = await model.translate(SOURCE_MARKDOWN, "en", usage)

    assert translated == TRANSLATED_MARKDOWN
    assert len(fake_openai.requests) == 2
    assert "missing [post:302]" in fake_openai.requests[1].messages[-1]["content"]
    assert usage == Usage(model_calls=2, prompt_tokens=200, completion_tokens=40)


POST_WITH_LINK_AND_CODE = (
    "Бэкап по таймеру, схема [тут](https://t.me/selfhost_ops/30) и на https://example.org/b.\n\n"
    "```\nsqlite3 app.db \".backup '/backups/app.db'\"  # не cp!\n```\n\n"
    "Проверяю `PRAGMA integrity_check` [post:20]."
)
POST_TRANSLATED = (
    "Backup on a timer, the scheme [here](https://t.me/selfhost_ops/30) and at "
    "https://example.org/b.\n\n"
    "```\nsqlite3 app.db \".backup '/backups/app.db'\"  # не cp!\n```\n\n"
    "I check `PRAGMA integrity_check` [post:20]."
)


async def test_the_translation_prompt_asks_to_keep_markers_links_and_code(
    fake_openai: FakeOpenAI, model: OpenRouterModel
) -> None:
    fake_openai.script(answer({"text": POST_TRANSLATED}))

    translated = await model.translate(POST_WITH_LINK_AND_CODE, "en", Usage())

    assert translated == POST_TRANSLATED
    system, user = fake_openai.requests[0].messages
    assert user["content"] == f"Translate into English:\n\n{POST_WITH_LINK_AND_CODE}"
    rules = system["content"]
    assert "[post:123] exactly as written" in rules
    assert "copy the URL exactly" in rules
    assert "Copy code exactly, untranslated" in rules and "fenced block" in rules


@pytest.mark.parametrize(
    ("broken", "told"),
    [
        # the link's address translated along with its text
        (
            POST_TRANSLATED.replace("selfhost_ops/30", "selfhost_ops/31"),
            "keep every URL unchanged: missing https://t.me/selfhost_ops/30",
        ),
        (POST_TRANSLATED.replace("https://example.org/b", "example.org"), "https://example.org/b"),
        # the comment in the code translated
        (POST_TRANSLATED.replace("# не cp!", "# not cp!"), "copy every ``` code block exactly"),
        (POST_TRANSLATED.replace(" [post:20]", ""), "missing [post:20]"),
    ],
)
async def test_a_translation_that_changed_a_link_code_or_a_marker_is_corrected(
    fake_openai: FakeOpenAI, model: OpenRouterModel, broken: str, told: str
) -> None:
    fake_openai.script(answer({"text": broken}), answer({"text": POST_TRANSLATED}))

    translated = await model.translate(POST_WITH_LINK_AND_CODE, "en", Usage())

    assert translated == POST_TRANSLATED
    assert len(fake_openai.requests) == 2
    assert told in fake_openai.requests[1].messages[-1]["content"]


# Phase 6, comment groups


async def test_select_drift_groups_returns_only_given_posts(
    fake_openai: FakeOpenAI, model: OpenRouterModel
) -> None:
    groups = [
        CommentGroup(
            401,
            "drift",
            [],
            [
                {
                    "topic": "Резервное копирование",
                    "keywords": ["бэкап", "litestream"],
                    "key_phrases": ["бэкап в S3"],
                    "context": "Спорили, как бэкапить SQLite.",
                }
            ],
        ),
        CommentGroup(402, "drift", [], [{"topic": "Политика", "keywords": ["выборы"]}]),
        CommentGroup(403, "drift", [comment(9001, 403, "Олег", "А кто пробовал DuckDB?")]),
    ]
    fake_openai.script(
        answer({"post_ids": ["post:403", 401, 999, 401]}, prompt_tokens=70, completion_tokens=9)
    )
    usage = spent()

    chosen = await model.select_drift_groups(QUESTION_RU, groups, usage)

    assert chosen == [401, 403]  # in the order given, without the unknown one
    assert usage == Usage(model_calls=3, prompt_tokens=120, completion_tokens=19)
    [request] = fake_openai.requests
    assert request.model == "test/comment-groups"
    prompt = prompt_of(fake_openai)
    assert QUESTION_RU in prompt
    for marker in ("[post:401]", "[post:402]", "[post:403]"):
        assert marker in prompt
    assert "Резервное копирование" in prompt and "litestream" in prompt
    assert "бэкап в S3" in prompt and "Спорили, как бэкапить SQLite." in prompt
    assert "А кто пробовал DuckDB?" in prompt  # a group without topics shows its comments


# Phase 7, comment synthesis


async def test_synthesize_comments_in_four_sections_under_the_localized_titles(
    fake_openai: FakeOpenAI, model: OpenRouterModel
) -> None:
    comments = CommentSections(
        sources_author=[
            comment(501, 303, "Иван Петров", "Litestream пишет в S3 раз в секунду.", author=True)
        ],
        sources_community=[comment(502, 303, "Мария", "У нас SQLite держит 300 rps.")],
        elsewhere_author=[
            comment(504, 290, "Иван Петров", "На ноутбуке WAL тоже нужен.", author=True)
        ],
        elsewhere_community=[comment(503, 290, None, "А как с миграциями схемы?")],
    )
    titles = [text("ru", key) for key, _ in comments.titled()]
    synthesis = (
        f"**{titles[0]}**\n- Litestream копирует раз в секунду [post:303]\n\n"
        f"**{titles[1]}**\n- Держит 300 запросов в секунду [post:303]"
    )
    fake_openai.script(
        answer({"synthesis": f"\n{synthesis}\n"}, prompt_tokens=400, completion_tokens=70)
    )
    usage = spent()

    result = await model.synthesize_comments(
        QUESTION_RU, "ru", "Я за SQLite [post:303].", comments, usage
    )

    assert result == synthesis
    assert usage == Usage(model_calls=3, prompt_tokens=450, completion_tokens=80)
    [request] = fake_openai.requests
    assert request.model == "test/comment-synthesis"
    system, user = (m["content"] for m in request.messages)
    assert QUESTION_RU in user
    assert "Russian" in system
    # The four titles, in order, in the instructions and over the material.
    for part in (system, user):
        places = [part.index(title) for title in titles]
        assert places == sorted(places), part
    assert "Я за SQLite [post:303]." in user
    assert "[post:303] (2024-06-03) Иван Петров: Litestream пишет в S3 раз в секунду." in user
    assert "[post:290] (2024-06-03) anonymous: А как с миграциями схемы?" in user
    # Each comment under its own section's title.
    marks = [user.index(title) for title in titles] + [len(user)]
    lines = ["Litestream пишет", "300 rps", "WAL тоже нужен", "миграциями схемы"]
    for n, line in enumerate(lines):
        assert marks[n] < user.index(line) < marks[n + 1], line


async def test_synthesize_comments_that_add_nothing(
    fake_openai: FakeOpenAI, model: OpenRouterModel
) -> None:
    fake_openai.script(answer({"synthesis": None}))
    comments = CommentSections([], [comment(601, 1, "Ann", "+1")], [], [])

    result = await model.synthesize_comments(QUESTION_EN, "en", "Yes [post:1].", comments, Usage())

    assert result is None
    prompt = prompt_of(fake_openai)
    for key, _ in comments.titled():
        assert f"**{text('en', key)}**" in prompt
    assert "English" in prompt


# `experts-panel analyze-drift`


async def test_analyze_drift_names_the_topics(
    fake_openai: FakeOpenAI, client: OpenAICompatibleClient, phase_settings: Settings
) -> None:
    comments = [
        comment(701, 303, "Олег", "Кстати, кто пробовал DuckDB для аналитики?"),
        comment(702, 303, "Мария", "DuckDB отлично читает parquet."),
    ]
    fake_openai.script(
        answer(
            {
                "has_drift": True,
                "topics": [
                    {
                        "topic": "DuckDB",
                        "keywords": "duckdb, аналитика, parquet",
                        "key_phrases": ["DuckDB для аналитики"],
                        "context": "Обсуждали DuckDB для аналитики.",
                    }
                ],
            },
            prompt_tokens=150,
            completion_tokens=40,
        )
    )
    usage = spent()

    drifted, topics = await analyze_drift(
        client, phase_settings, "Перевёл сервис на SQLite.", comments, usage
    )

    assert drifted is True
    assert topics == [
        {
            "topic": "DuckDB",
            "keywords": ["duckdb", "аналитика", "parquet"],
            "key_phrases": ["DuckDB для аналитики"],
            "context": "Обсуждали DuckDB для аналитики.",
        }
    ]
    assert usage == Usage(model_calls=3, prompt_tokens=200, completion_tokens=50)
    [request] = fake_openai.requests
    assert request.model == "test/comment-groups"
    prompt = prompt_of(fake_openai)
    assert "Перевёл сервис на SQLite." in prompt
    assert "Олег: Кстати, кто пробовал DuckDB для аналитики?" in prompt
    assert '"has_drift"' in prompt and '"key_phrases"' in prompt


async def test_analyze_drift_without_drift(
    fake_openai: FakeOpenAI, client: OpenAICompatibleClient, phase_settings: Settings
) -> None:
    fake_openai.script(
        answer({"has_drift": False, "topics": [{"topic": "ignored"}]}),
        answer({"has_drift": True, "topics": []}),
    )
    one = [comment(801, 1, "Ann", "Great post about SQLite!")]

    assert await analyze_drift(client, phase_settings, "SQLite", one, Usage()) == (False, [])
    # Drift with no topic named could never match a question: reported as none.
    assert await analyze_drift(client, phase_settings, "SQLite", one, Usage()) == (False, [])


# Nothing to ask, no call


async def test_empty_inputs_make_no_calls(
    fake_openai: FakeOpenAI, client: OpenAICompatibleClient, model: OpenRouterModel
) -> None:
    usage = Usage()
    settings = model.settings

    assert await model.map_chunk(QUESTION_EN, "en", [], usage) == []
    assert await model.score_complement(QUESTION_EN, [post(1, "2024-01-01", "a")], [], usage) == {}
    assert await model.select_drift_groups(QUESTION_EN, [], usage) == []
    nothing = CommentSections([], [], [], [])
    assert await model.synthesize_comments(QUESTION_EN, "en", "Yes.", nothing, usage) is None
    assert await model.translate("  ", "en", usage) == "  "
    assert await analyze_drift(client, settings, "post", [], usage) == (False, [])
    assert await model.reduce(QUESTION_EN, "en", "Ivan", [], usage) == Answer(
        text("en", "no_posts"), [], "LOW", "en"
    )

    assert fake_openai.requests == []
    assert usage == Usage()
