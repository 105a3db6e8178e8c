"""Inputs that once gave 500, or an answer the served schema does not describe.

Each was found by schemathesis against the served schema (test_schema_fuzz.py runs it in CI);
these pin them down one by one, through a real server.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.server import Server, ServerFactory

QUERY = "/api/v1/query"


@pytest.fixture
def server(demo_path: Path, server_factory: ServerFactory) -> Server:
    return server_factory(demo_path)


def post_raw(server: Server, body: bytes) -> httpx.Response:
    return httpx.post(
        f"{server.url}{QUERY}",
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )


def test_a_post_id_past_sqlites_integers_is_422(server: Server) -> None:
    response = httpx.get(
        f"{server.url}/api/v1/posts/9223372036854775808", params={"expert_id": "selfhost_ops"}
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["path", "telegram_message_id"]
    # The largest id SQLite holds is still a question for the database: absent, so 404.
    largest = httpx.get(
        f"{server.url}/api/v1/posts/9223372036854775807", params={"expert_id": "selfhost_ops"}
    )
    assert largest.status_code == 404 and largest.json()["code"] == "not_found"


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
def test_max_posts_that_is_not_a_finite_number_is_422(server: Server, number: bytes) -> None:
    response = post_raw(server, b'{"query": "how to back up", "max_posts": ' + number + b"}")
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_request"
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "max_posts"]]


def test_a_lone_surrogate_is_422_naming_the_field(server: Server) -> None:
    response = post_raw(server, b'{"query": "\\ud800abc", "stream_progress": false}')
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "query"]
    assert "unicode" in error["msg"].lower()  # pydantic's own: a lone surrogate is no text
    # What it quotes back is valid UTF-8: the surrogate is replaced, not echoed.
    assert error["input"] == "\ufffdabc"


def test_a_lone_surrogate_in_an_expert_id_is_422_too(server: Server) -> None:
    response = post_raw(server, b'{"query": "how to back up", "expert_filter": ["a\\udfffb"]}')
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][:2] == ["body", "expert_filter"]


def test_a_body_that_is_not_utf8_is_422_naming_the_body(server: Server) -> None:
    response = post_raw(server, b'{"query": "\xff\xfe how to back up"}')
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_request"
    [error] = response.json()["detail"]
    assert error["loc"] == ["body"]
    assert "UTF-8" in error["msg"]


def test_the_schema_says_what_the_service_refuses(server: Server) -> None:
    schema = httpx.get(f"{server.url}/api/openapi.json").json()
    request = schema["components"]["schemas"]["QueryRequest"]["properties"]
    [listed] = [s for s in request["expert_filter"]["anyOf"] if s.get("type") == "array"]
    assert listed["minItems"] == 1
    assert listed["items"]["pattern"]
    empty = httpx.post(
        f"{server.url}{QUERY}", json={"query": "how to back up", "expert_filter": []}
    )
    assert empty.status_code == 422
    assert empty.json()["detail"][0]["loc"] == ["body", "expert_filter"]
    bad = httpx.post(
        f"{server.url}{QUERY}", json={"query": "how to back up", "expert_filter": ["A B"]}
    )
    assert bad.status_code == 422


def test_with_the_front_end_served_a_wrong_method_on_the_api_is_still_405(
    demo_path: Path, server_factory: ServerFactory, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><div id=root></div>")
    server: Server = server_factory(demo_path, STATIC_DIR=str(site))
    wrong = httpx.get(f"{server.url}{QUERY}")
    assert wrong.status_code == 405, wrong.text
    assert wrong.json()["code"] == "method_not_allowed"
    assert httpx.get(f"{server.url}/api/v1/nowhere").json()["code"] == "not_found"
    assert httpx.get(f"{server.url}/").status_code == 200  # the front end is still there


@pytest.mark.parametrize("value", [1, 0.0, "true", "yes"])
def test_a_switch_that_is_not_a_boolean_is_422(server: Server, value: object) -> None:
    """The schema says boolean; pydantic alone would take 1, 0.0 and "yes" as well."""
    for switch in ("include_comments", "include_comment_groups", "stream_progress"):
        response = httpx.post(
            f"{server.url}{QUERY}", json={"query": "how to back up", switch: value}, timeout=30
        )
        assert response.status_code == 422, (switch, response.text[:300])
        assert response.json()["detail"][0]["loc"] == ["body", switch]
