"""`POST /api/v1/query` through a real hypercorn server, read as a stream."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from experts_panel.pipeline.contract import EVENT_TYPES
from tests.support import demo_db
from tests.support.server import Server, start_server
from tests.support.streams import read_stream


@pytest.fixture(scope="module")
def server(demo_source: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module: these tests only read."""
    running = start_server(demo_db.copy(demo_source, tmp_path_factory.mktemp("query-api")))
    yield running
    running.stop()


def test_the_stream_carries_every_event_then_the_whole_response(server: Server) -> None:
    with httpx.stream(
        "POST",
        f"{server.url}/api/v1/query",
        json={"query": "Как делать бэкапы SQLite?", "include_comment_groups": True},
        timeout=60,
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events, _ = read_stream(response)
    for event in events:
        assert set(event) == {"event_type", "phase", "status", "message", "timestamp", "data"}
        assert event["event_type"] in EVENT_TYPES
    assert events[0]["event_type"] == "start"
    assert events[-1]["event_type"] == "complete"
    done = [e["data"]["expert_id"] for e in events if e["event_type"] == "expert_complete"]
    assert sorted(done) == ["ai_architect", "product_notes", "selfhost_ops"]
    progress = [e for e in events if e["event_type"] == "progress"]
    assert all("expert_id" in e["data"] for e in progress)
    final = events[-1]["data"]["response"]
    assert final["request_id"] == events[0]["data"]["request_id"]
    assert len(final["expert_responses"]) == 3
    answer = next(r for r in final["expert_responses"] if r["expert_id"] == "selfhost_ops")
    assert answer["main_sources"] and "[post:" in answer["answer"]
    post = httpx.get(
        f"{server.url}/api/v1/posts/{answer['main_sources'][0]}",
        params={"expert_id": "selfhost_ops"},
    )
    assert post.status_code == 200  # every citation opens its post


def test_plain_json_without_progress(server: Server) -> None:
    response = httpx.post(
        f"{server.url}/api/v1/query",
        json={
            "query": "usage-based pricing",
            "expert_filter": ["product_notes"],
            "stream_progress": False,
        },
        timeout=60,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == "usage-based pricing"
    assert [r["expert_id"] for r in body["expert_responses"]] == ["product_notes"]
    assert set(body["usage"]) == {"model_calls", "prompt_tokens", "completion_tokens"}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"query": "hi"}, "query", "at least 3 characters"),
        ({"query": "x" * 1001}, "query", "at most 1000 characters"),
        ({"query": "   ab   "}, "query", "at least 3 characters besides spaces"),
        (
            {"query": "backups", "expert_filter": ["ghost", "selfhost_ops"]},
            "expert_filter",
            "unknown experts: 'ghost'",
        ),
        (
            {"query": "backups", "expert_filter": ["Not A Slug"]},
            "expert_filter",
            "not expert ids: 'Not A Slug'",
        ),
        ({"query": "backups", "expert_filter": []}, "expert_filter", "name at least one expert"),
        ({"query": "backups", "max_posts": 100000}, "max_posts", "at most 500 (MAX_POSTS_LIMIT)"),
        ({"query": "backups", "max_posts": 0}, "max_posts", "greater than or equal to 1"),
        ({"query": "backups", "include_comments": "maybe"}, "include_comments", "valid boolean"),
    ],
)
def test_a_bad_request_is_422_with_a_reason_per_field(
    server: Server, body: dict[str, Any], field: str, message: str
) -> None:
    response = httpx.post(f"{server.url}/api/v1/query", json=body, timeout=30)
    assert response.status_code == 422
    details = response.json()["detail"]
    assert any(d["loc"] == ["body", field] and message in d["msg"] for d in details), details
