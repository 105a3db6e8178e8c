"""Posts in the reader's language: `GET /api/v1/posts/{id}?language=` through a real server and
the fake model API."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.fake_openai import Delay, FakeOpenAI, HttpError, Reply, model_env, phase_answer
from tests.support.server import Server

EXPERT = "selfhost_ops"
RUSSIAN_POST = 6  # "Бэкап SQLite: моя схема"
ENGLISH_POST = 15  # "For English-speaking readers: ..."
RUSSIAN_POST_WITH_COMMENTS = 20


def get_post(server: Server, post_id: int, **params: str) -> httpx.Response:
    return httpx.get(
        f"{server.url}/api/v1/posts/{post_id}",
        params={"expert_id": EXPERT, **params},
        timeout=60,
    )


def post_text(db: Path, post_id: int) -> str:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute(
            "SELECT text FROM posts WHERE expert_id = ? AND telegram_message_id = ?",
            (EXPERT, post_id),
        ).fetchone()
    finally:
        conn.close()
    return str(row[0])


def translation_calls(fake: FakeOpenAI) -> list[Any]:
    return [r for r in fake.requests if r.model == "test/translate"]


def spend_today(db: Path, tokens: int) -> None:
    conn = sqlite3.connect(db)
    conn.execute(
        "INSERT INTO token_usage (day, model_calls, prompt_tokens, completion_tokens) "
        "VALUES (strftime('%Y-%m-%d', 'now'), 1, ?, 0) "
        "ON CONFLICT (day) DO UPDATE SET prompt_tokens = prompt_tokens + excluded.prompt_tokens",
        (tokens,),
    )
    conn.commit()
    conn.close()


def test_a_russian_post_is_translated_once_then_read_from_the_cache(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = phase_answer
    server = server_factory(demo_path, **model_env(fake_openai))
    original = post_text(demo_path, RUSSIAN_POST)

    first = get_post(server, RUSSIAN_POST, language="en")

    assert first.status_code == 200, first.text
    body = first.json()
    assert body["text"] == f"(English) {original}"
    assert body["translation"] == {
        "language": "en",
        "source_language": "ru",
        "status": "translated",
        "reason": None,
        "model": "test/translate",
        "original_text": original,
    }
    [call] = translation_calls(fake_openai)
    assert call.messages[-1]["content"].endswith(original)  # the whole text, as it is

    again = get_post(server, RUSSIAN_POST, language="en").json()

    assert again["text"] == body["text"]
    assert again["translation"]["status"] == "cached"
    assert again["translation"]["original_text"] == original
    assert len(fake_openai.requests) == 1  # the second reader cost no call


def test_an_edited_post_is_translated_again(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = phase_answer
    server = server_factory(demo_path, **model_env(fake_openai))
    assert get_post(server, RUSSIAN_POST, language="en").json()["translation"]["status"] == (
        "translated"
    )
    edited = post_text(demo_path, RUSSIAN_POST) + "\n\nUPD: теперь делаю бэкап дважды в сутки."
    conn = sqlite3.connect(demo_path)
    conn.execute(
        "UPDATE posts SET text = ? WHERE expert_id = ? AND telegram_message_id = ?",
        (edited, EXPERT, RUSSIAN_POST),
    )
    conn.commit()
    conn.close()

    body = get_post(server, RUSSIAN_POST, language="en").json()

    assert body["translation"]["status"] == "translated"
    assert body["text"] == f"(English) {edited}"
    assert len(translation_calls(fake_openai)) == 2
    conn = sqlite3.connect(demo_path)
    kept = conn.execute(
        "SELECT count(*) FROM translations WHERE expert_id = ? AND telegram_message_id = ?",
        (EXPERT, RUSSIAN_POST),
    ).fetchone()
    conn.close()
    assert kept == (1,)  # the old version's translation gave way to the new one


def test_a_translation_counts_its_tokens_against_the_daily_budget(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = phase_answer
    server = server_factory(demo_path, **model_env(fake_openai, DAILY_TOKEN_BUDGET="1000000"))

    get_post(server, RUSSIAN_POST, language="en")

    [call] = translation_calls(fake_openai)
    # The fake counts a token per word: of the request's messages, and of the answer it sent.
    prompt = sum(len(str(m["content"]).split()) for m in call.messages)
    completion = len(phase_answer(call.body).split())
    assert server.stop() == 0  # the usage ledger writes at the latest when the service stops
    conn = sqlite3.connect(demo_path)
    spent = conn.execute(
        "SELECT model_calls, prompt_tokens, completion_tokens FROM token_usage"
    ).fetchall()
    recorded = conn.execute(
        "SELECT prompt_tokens, completion_tokens FROM translations WHERE telegram_message_id = ?",
        (RUSSIAN_POST,),
    ).fetchall()
    conn.close()
    assert spent == [(1, prompt, completion)]
    assert recorded == [(prompt, completion)]


def test_past_the_budget_the_original_comes_with_the_reason_and_the_cache_still_serves(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = phase_answer
    server = server_factory(demo_path, **model_env(fake_openai))
    get_post(server, RUSSIAN_POST, language="en")  # translated while the budget lasted
    server.stop()
    spend_today(demo_path, 5000)
    server = server_factory(demo_path, **model_env(fake_openai, DAILY_TOKEN_BUDGET="1000"))
    calls = len(fake_openai.requests)

    spent = get_post(server, RUSSIAN_POST_WITH_COMMENTS, language="en").json()
    cached = get_post(server, RUSSIAN_POST, language="en").json()

    assert spent["text"] == post_text(demo_path, RUSSIAN_POST_WITH_COMMENTS)
    assert spent["translation"]["status"] == "original"
    assert spent["translation"]["reason"] == "budget_spent"
    assert spent["translation"]["source_language"] == "ru"
    assert spent["translation"]["original_text"] is None
    assert cached["translation"]["status"] == "cached"  # costs nothing: served past the budget
    assert len(fake_openai.requests) == calls


def test_without_a_key_the_original_comes_with_the_reason(
    demo_path: Path, server_factory: Any
) -> None:
    server = server_factory(demo_path)

    body = get_post(server, RUSSIAN_POST, language="en").json()

    assert body["text"] == post_text(demo_path, RUSSIAN_POST)
    assert body["translation"] == {
        "language": "en",
        "source_language": "ru",
        "status": "original",
        "reason": "no_key",
        "model": None,
        "original_text": None,
    }


def test_a_post_in_the_language_asked_for_is_returned_as_it_is_without_a_call(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = phase_answer
    server = server_factory(demo_path, **model_env(fake_openai))

    english = get_post(server, ENGLISH_POST, language="en").json()
    russian = get_post(server, RUSSIAN_POST, language="ru").json()
    plain = get_post(server, RUSSIAN_POST).json()

    assert english["text"] == post_text(demo_path, ENGLISH_POST)
    assert english["translation"]["status"] == "original"
    assert english["translation"]["reason"] == "same_language"
    assert russian["translation"]["reason"] == "same_language"
    assert plain["translation"] is None  # no language asked: the original, as before
    assert plain["text"] == post_text(demo_path, RUSSIAN_POST)
    assert fake_openai.requests == []


def test_a_failing_model_api_gives_the_original_with_the_reason_not_an_error(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda _body: HttpError(500, "upstream is down")
    server = server_factory(demo_path, **model_env(fake_openai, MODEL_MAX_ATTEMPTS="1"))

    response = get_post(server, RUSSIAN_POST, language="en")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["text"] == post_text(demo_path, RUSSIAN_POST)
    assert body["translation"]["status"] == "original"
    assert body["translation"]["reason"] == "model_failed"
    # Nothing was cached: the next reader's request tries again.
    fake_openai.responder = phase_answer
    retried = get_post(server, RUSSIAN_POST, language="en").json()
    assert retried["translation"]["status"] == "translated"


def test_a_slow_model_api_gives_the_original_once_the_reader_waited_long_enough(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda body: Delay(20, then=Reply(phase_answer(body)))
    server = server_factory(demo_path, **model_env(fake_openai, TRANSLATION_TIMEOUT="1"))

    started = time.monotonic()
    response = get_post(
        server, RUSSIAN_POST_WITH_COMMENTS, language="en", translate_comments="true"
    )
    waited = time.monotonic() - started

    assert response.status_code == 200, response.text
    body = response.json()
    assert waited < 10  # one deadline for the post and its comments, not one each
    assert body["translation"]["reason"] == "model_failed"
    assert body["text"] == post_text(demo_path, RUSSIAN_POST_WITH_COMMENTS)
    assert all(
        c["translation"]["status"] == "original" and c["translation"]["reason"] != "no_key"
        for c in body["comments"]
    )


def test_comments_are_translated_on_request(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = phase_answer
    server = server_factory(demo_path, **model_env(fake_openai))
    plain = get_post(server, RUSSIAN_POST_WITH_COMMENTS, language="en").json()
    assert plain["comments"] and all(c["translation"] is None for c in plain["comments"])

    body = get_post(
        server, RUSSIAN_POST_WITH_COMMENTS, language="en", translate_comments="true"
    ).json()

    assert body["translation"]["status"] == "cached"
    originals = {c["telegram_message_id"]: c["text"] for c in plain["comments"]}
    for comment in body["comments"]:
        about = comment["translation"]
        original = originals[comment["telegram_message_id"]]
        if about["status"] == "translated":
            assert comment["text"] == f"(English) {original}"
            assert about["original_text"] == original
        else:
            assert about["reason"] in ("same_language", "no_text")
            assert comment["text"] == original
    assert any(c["translation"]["status"] == "translated" for c in body["comments"])


def test_a_language_the_reader_cannot_ask_for_is_a_422_naming_the_parameter(
    demo_path: Path, server_factory: Any
) -> None:
    server = server_factory(demo_path)

    german = get_post(server, RUSSIAN_POST, language="de")
    comments_alone = get_post(server, RUSSIAN_POST, translate_comments="true")

    assert german.status_code == 422
    [problem] = german.json()["detail"]
    assert problem["loc"] == ["query", "language"]
    assert "'ru' or 'en'" in problem["msg"]
    assert comments_alone.status_code == 422
    [problem] = comments_alone.json()["detail"]
    assert problem["loc"] == ["query", "translate_comments"]
    assert "language" in problem["msg"]
