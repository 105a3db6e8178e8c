"""Every `[post:ID]` a model writes names a post of the answer's own expert.

The answer's citations were always checked; the comment synthesis's were not, so a comment
that asked the model to cite a post that does not exist, or another expert's, got that
citation to the reader. Through a real server and the fake model API.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx

from experts_panel.pipeline.citations import cited_ids
from tests.support.fake_openai import FakeOpenAI, Reply, model_env, phase_answer, shown_ids
from tests.support.server import Server

EXPERT = "selfhost_ops"


def foreign_post(db: Path) -> int:
    """A post of another expert whose id no post of EXPERT has."""
    conn = sqlite3.connect(db)
    try:
        [(found,)] = conn.execute(
            "SELECT max(telegram_message_id) FROM posts WHERE expert_id != ? "
            "AND telegram_message_id NOT IN "
            "(SELECT telegram_message_id FROM posts WHERE expert_id = ?)",
            (EXPERT, EXPERT),
        ).fetchall()
    finally:
        conn.close()
    assert found is not None
    return int(found)


def expert_posts(db: Path) -> set[int]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT telegram_message_id FROM posts WHERE expert_id = ?", (EXPERT,))
        return {int(r[0]) for r in rows}
    finally:
        conn.close()


def ask_the_expert(server: Server) -> dict[str, Any]:
    """EXPERT's answer to the backup question, as one JSON."""
    response = httpx.post(
        f"{server.url}/api/v1/query",
        json={
            "query": "Как делать бэкапы SQLite?",
            "expert_filter": [EXPERT],
            "stream_progress": False,
        },
        timeout=60,
    )
    assert response.status_code == 200, response.text
    [answer] = response.json()["expert_responses"]
    return dict(answer)


def test_the_comment_synthesis_cites_only_the_experts_own_posts(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    other = foreign_post(demo_path)
    shown: list[int] = []

    def citing_others(body: dict[str, Any]) -> Any:
        if body["model"] != "test/synthesis":
            return phase_answer(body)
        shown.extend(shown_ids(body))
        # Markdown whose layout must come through untouched: a nested list, a line break
        # made of two trailing spaces.
        synthesis = (
            "**Что добавляет сообщество**\n\n"
            f"- совет [post:{shown[0]}]\n"
            f"- выдумка [post:999999], и ещё [post:{other}].\n"
            "  - вложенный  пункт  \n"
            f"  продолжение [post:{shown[0]}]"
        )
        return Reply(json.dumps({"synthesis": synthesis}))

    fake_openai.responder = citing_others
    server: Server = server_factory(demo_path, **model_env(fake_openai))
    answer = ask_the_expert(server)
    assert shown, "the synthesis was never asked for"
    synthesis = answer["comment_groups_synthesis"]
    assert synthesis == (
        "**Что добавляет сообщество**\n\n"
        f"- совет [post:{shown[0]}]\n"
        "- выдумка, и ещё.\n"
        "  - вложенный  пункт  \n"
        f"  продолжение [post:{shown[0]}]"
    )
    own = expert_posts(demo_path)
    for field in (answer["answer"], synthesis):
        assert set(cited_ids(field)) <= own, field


def test_every_citation_form_reaches_the_reader_as_canonical_tokens(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    """A model that groups its citations, or writes `[post 1]`: the answer and the synthesis
    reach the reader with one `[post:ID]` per post, the invented id inside a group dropped,
    and every grouped post a source."""
    shown: dict[str, list[int]] = {}

    def grouping(body: dict[str, Any]) -> Any:
        model = body["model"]
        if model == "test/reduce":
            ids = shown.setdefault("reduce", shown_ids(body))
            text = f"Делаю `cp db .` и .backup [post:{ids[0]}, post:999999, post:{ids[1]}]."
            reply = {"answer": text, "main_sources": ids[:1], "confidence": "HIGH"}
            return Reply(json.dumps({**reply, "language": "ru"}))
        if model == "test/synthesis":
            ids = shown["reduce"]
            synthesis = f"- совет [post {ids[0]}]; ещё [post:{ids[1]},999999]"
            return Reply(json.dumps({"synthesis": synthesis}))
        return phase_answer(body)

    fake_openai.responder = grouping
    server: Server = server_factory(demo_path, **model_env(fake_openai))
    answer = ask_the_expert(server)
    first, second = shown["reduce"][:2]
    assert answer["answer"] == f"Делаю `cp db .` и .backup [post:{first}] [post:{second}]."
    assert answer["main_sources"][:2] == [first, second]
    assert answer["comment_groups_synthesis"] == (f"- совет [post:{first}]; ещё [post:{second}]")
