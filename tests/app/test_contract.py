"""The wire contract, in-process: every endpoint and every event type against the models and
the schema the app serves, through `httpx.ASGITransport` (no server, no socket).

The subprocess tests prove the real server; these prove the shapes: each body is exactly what
its model says (read strictly, then written back to the same JSON: no field more, none
coerced), and each model is the one the served schema describes, which the front end's
types are generated from.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from pydantic import BaseModel

from experts_panel.api.app import create_app
from experts_panel.api.models import ErrorOut, ExpertOut, Health
from experts_panel.api.schema import event_schemas
from experts_panel.pipeline.contract import (
    EVENT_MODELS,
    EVENT_TYPES,
    PROGRESS_EVENT,
    MultiExpertQueryResponse,
)
from experts_panel.posts import PostOut
from experts_panel.settings import load_settings
from tests.support import demo_db

pytestmark = pytest.mark.asyncio(loop_scope="module")

QUESTION = "Как делать бэкапы SQLite?"


async def _client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    # ASGITransport sends no lifespan events: the app's start-up runs here, as the server's does.
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as client,
    ):
        yield client


def _app(database: Path, **env: str) -> FastAPI:
    return create_app(load_settings({"DATABASE_URL": f"sqlite+aiosqlite:///{database}", **env}))


@pytest.fixture(scope="module")
def demo(demo_source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_db.copy(demo_source, tmp_path_factory.mktemp("contract"))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(demo: Path) -> AsyncIterator[httpx.AsyncClient]:
    """One app for the module's reading tests: one query slot, so a second query queues."""
    async for client in _client(_app(demo, MAX_CONCURRENT_QUERIES="1")):
        yield client


M = TypeVar("M", bound=BaseModel)


def exactly(model: type[M], body: Any) -> M:
    """`body` read strictly as `model`, and written back to the same JSON."""
    value = model.model_validate_json(json.dumps(body), strict=True)
    assert value.model_dump(mode="json") == body, (model.__name__, body)
    return value


def events_of(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    payloads = [
        line[len("data: ") :] for line in response.text.splitlines() if line.startswith("data: ")
    ]
    return [json.loads(p) for p in payloads]


def exact_event(body: dict[str, Any]) -> str:
    """The event read as its own model, by its `event_type`, and written back the same."""
    event = PROGRESS_EVENT.validate_json(json.dumps(body), strict=True)
    assert event.model_dump(mode="json") == body, body
    return event.event_type


async def ask(client: httpx.AsyncClient, **fields: Any) -> httpx.Response:
    return await client.post("/api/v1/query", json={"query": QUESTION, **fields}, timeout=300)


# The schema


async def test_the_served_schema_has_every_event_told_apart_by_its_type(
    client: httpx.AsyncClient,
) -> None:
    schema = (await client.get("/api/openapi.json")).json()
    components = schema["components"]["schemas"]
    union = components["ProgressEvent"]
    assert union["discriminator"]["propertyName"] == "event_type"
    mapping = union["discriminator"]["mapping"]
    assert set(mapping) == set(EVENT_TYPES)
    assert [o["$ref"] for o in union["oneOf"]] == list(mapping.values())
    for model in EVENT_MODELS:
        assert components[model.__name__] == event_schemas()[model.__name__]
        assert model.model_json_schema(mode="serialization")["required"] == list(model.model_fields)
    stream = schema["paths"]["/api/v1/query"]["post"]["responses"]["200"]["content"]
    # Each message's `data` line is one event, as JSON.
    message = stream["text/event-stream"]["schema"]
    assert message["required"] == ["data"]
    assert message["properties"]["data"]["contentMediaType"] == "application/json"
    assert message["properties"]["data"]["contentSchema"] == {
        "$ref": "#/components/schemas/ProgressEvent"
    }
    assert stream["application/json"]["schema"] == {
        "$ref": "#/components/schemas/MultiExpertQueryResponse"
    }


async def test_each_response_model_is_the_component_the_schema_names(
    client: httpx.AsyncClient,
) -> None:
    schema = (await client.get("/api/openapi.json")).json()
    components = schema["components"]["schemas"]
    for path, method, model in (
        ("/health", "get", Health),
        ("/api/v1/posts/{telegram_message_id}", "get", PostOut),
        ("/api/v1/query", "post", MultiExpertQueryResponse),
    ):
        ok = schema["paths"][path][method]["responses"]["200"]["content"]["application/json"]
        assert ok["schema"] == {"$ref": f"#/components/schemas/{model.__name__}"}
        assert model.__name__ in components
    experts = schema["paths"]["/api/v1/experts"]["get"]["responses"]["200"]["content"]
    assert experts["application/json"]["schema"]["items"] == {
        "$ref": "#/components/schemas/ExpertOut"
    }


# The endpoints


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    health = exactly(Health, response.json())
    assert health.status == "healthy" and health.model_calls is None


async def test_experts(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/experts")
    assert response.status_code == 200
    experts = [exactly(ExpertOut, e) for e in response.json()]
    assert [e.id for e in experts] == ["ai_architect", "product_notes", "selfhost_ops"]


async def test_a_post_with_its_links_and_comments(client: httpx.AsyncClient, demo: Path) -> None:
    conn = sqlite3.connect(demo)
    # A post with a link and a comment, so that both nested shapes are read.
    post_id = conn.execute(
        "SELECT p.telegram_message_id FROM posts p WHERE p.expert_id = 'selfhost_ops' "
        "AND EXISTS (SELECT 1 FROM comments c WHERE c.expert_id = p.expert_id "
        "AND c.post_telegram_message_id = p.telegram_message_id) "
        "AND EXISTS (SELECT 1 FROM links l WHERE l.expert_id = p.expert_id "
        "AND p.telegram_message_id IN (l.source_message_id, l.target_message_id)) LIMIT 1"
    ).fetchone()[0]
    conn.close()
    response = await client.get(f"/api/v1/posts/{post_id}", params={"expert_id": "selfhost_ops"})
    assert response.status_code == 200
    post = exactly(PostOut, response.json())
    assert post.links and post.comments
    assert post.telegram_url == f"https://t.me/selfhost_ops_demo/{post_id}"


async def test_a_post_that_is_not_there_is_404_with_a_code(client: httpx.AsyncClient) -> None:
    for params, path in (
        ({"expert_id": "nobody"}, "/api/v1/posts/30"),
        ({"expert_id": "selfhost_ops"}, "/api/v1/posts/999999"),
    ):
        response = await client.get(path, params=params)
        assert response.status_code == 404
        assert exactly(ErrorOut, response.json()).code == "not_found"


async def test_a_bad_request_is_422_with_a_reason_per_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/query", json={"query": "ab", "max_posts": 0})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_request"
    assert {tuple(d["loc"]) for d in body["detail"]} == {("body", "query"), ("body", "max_posts")}


async def test_a_body_too_large_is_413_with_a_code(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/query", content=b"{" + b" " * 70_000 + b"}")
    assert response.status_code == 413
    assert exactly(ErrorOut, response.json()).code == "request_too_large"


async def test_the_answer_as_one_json(client: httpx.AsyncClient) -> None:
    response = await ask(client, stream_progress=False, expert_filter=["selfhost_ops"])
    assert response.status_code == 200
    answer = exactly(MultiExpertQueryResponse, response.json())
    assert [r.expert_id for r in answer.expert_responses] == ["selfhost_ops"]


# The events


async def test_a_streamed_query_sends_its_events_each_exactly_its_model(
    client: httpx.AsyncClient,
) -> None:
    # Two queries on one slot: the second waits, and says so (`progress` without an expert).
    # Five candidates an expert, so that a post linked to a relevant one is not among them and
    # resolve has one to add (and to report).
    first, second = await asyncio.gather(
        ask(client, include_comment_groups=True, moderator=True, max_posts=5),
        ask(client, expert_filter=["selfhost_ops"]),
    )
    events = events_of(first) + events_of(second)
    types = [exact_event(e) for e in events]
    assert {"start", "phase_start", "progress", "expert_complete", "moderator", "complete"} <= set(
        types
    )
    queued = [e for e in events if e["event_type"] == "progress" and "expert_id" not in e["data"]]
    assert [q["data"] for q in queued] == [{"queued": True}]
    # Every phase reports what it found, with only its own keys: absent, never null.
    found = {e["phase"]: e["data"] for e in events if e["event_type"] == "progress" and e["phase"]}
    assert set(found) >= {"map", "medium_scoring", "resolve", "reduce", "comment_groups"}
    assert None not in (v for data in found.values() for v in data.values())
    assert set(found["map"]) == {"expert_id", "high", "medium", "analyzed"}
    assert set(found["reduce"]) == {"expert_id", "main_sources", "confidence"}
    # The whole answer closes the stream, the same as the JSON answer's model.
    complete = events_of(first)[-1]
    assert complete["event_type"] == "complete"
    exactly(MultiExpertQueryResponse, complete["data"]["response"])


async def test_an_expert_that_fails_sends_expert_error_and_the_rest_complete(
    demo_source: Path, tmp_path: Path
) -> None:
    database = demo_db.copy(demo_source, tmp_path)
    demo_db.break_retrieval(database, "product_notes")
    async for client in _client(_app(database)):
        events = events_of(await ask(client))
    assert [exact_event(e) for e in events][-1] == "complete"
    [failed] = [e for e in events if e["event_type"] == "expert_error"]
    assert failed["status"] == "error"
    assert failed["data"] == {
        "expert_id": "product_notes",
        "error": failed["data"]["error"],
        "code": "internal",
    }
    assert events[-1]["data"]["response"]["errors"] == [failed["data"]]


async def test_a_query_that_fails_as_a_whole_sends_error_last(
    demo_source: Path, tmp_path: Path
) -> None:
    database = demo_db.copy(demo_source, tmp_path)
    async for client in _client(_app(database, REQUEST_TIMEOUT="0.001")):
        events = events_of(await ask(client))
    assert [exact_event(e) for e in events][-1] == "error"
    error = events[-1]
    assert error["status"] == "error" and error["phase"] is None
    assert error["data"]["code"] == "query_timeout"
    assert set(error["data"]) == {"code", "request_id"}


async def test_an_event_that_is_none_of_the_models_is_refused() -> None:
    # What the front end's check does with the same schema, the server's models do too.
    valid = {
        "event_type": "phase_start",
        "phase": "map",
        "status": "ok",
        "message": "m",
        "timestamp": "t",
        "data": {"expert_id": "a"},
    }
    assert exact_event(valid) == "phase_start"
    for broken in (
        {**valid, "event_type": "phase_begin"},
        {**valid, "phase": "drafting"},
        {**valid, "status": "error"},
        {**valid, "data": {"expert_id": "a", "extra": 1}},
        {key: value for key, value in valid.items() if key != "message"},
    ):
        with pytest.raises(ValueError):
            PROGRESS_EVENT.validate_json(json.dumps(broken))
