from __future__ import annotations

import json
import signal
import sqlite3
from pathlib import Path

import httpx
import pytest

from experts_panel.db.migrations import load_migrations
from tests.support.exports import GROUP_ID, channel_posts, chat, discussion, write
from tests.support.server import Server, ServerFactory, cli_env, run_cli


def seeded(tmp_path: Path) -> Path:
    db = tmp_path / "e.db"
    env = cli_env(db)
    posts = channel_posts()
    posts.append(
        {
            **posts[0],
            "id": 15,
            "text": "More on t.me/panel_demo/10",
            "text_entities": [{"type": "plain", "text": "More on t.me/panel_demo/10"}],
        }
    )
    channel = write(tmp_path / "channel.json", chat(posts, name="Demo Channel"))
    group = write(
        tmp_path / "group.json", chat(discussion(), chat_type="public_supergroup", chat_id=GROUP_ID)
    )
    result = run_cli(
        "import",
        str(channel),
        "--expert",
        "demo",
        "--username",
        "panel_demo",
        "--comments",
        str(group),
        env=env,
    )
    assert result.returncode == 0, result.stderr
    return db


@pytest.fixture
def server(tmp_path: Path, server_factory: ServerFactory) -> Server:
    return server_factory(seeded(tmp_path), PRODUCTION_ORIGIN="https://panel.example.org")


def test_health_is_200_with_the_documented_fields(server: Server) -> None:
    response = httpx.get(f"{server.url}/health")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "status",
        "database",
        "openrouter_configured",
        "timestamp",
        "problems",
        "event_loop_lag_s",
        "queries",
        "model_calls",
        "provider",
    }
    assert body["status"] == "healthy" and body["database"] == "ok" and body["problems"] == []
    assert body["openrouter_configured"] is False
    assert body["model_calls"] is None  # no key, no model API
    assert body["provider"] == {
        "state": "not_configured",
        "last_error": None,
        "last_success_at": None,
    }


def test_health_is_503_while_the_database_is_unreachable(server: Server) -> None:
    moved = server.db_path.with_suffix(".moved")
    server.db_path.rename(moved)
    try:
        response = httpx.get(f"{server.url}/health")
        assert response.status_code == 503
        assert response.json()["database"] == "unreachable"
        assert response.json()["status"] == "unhealthy"
        assert response.json()["problems"] == ["database_unreachable"]
    finally:
        moved.rename(server.db_path)
    assert httpx.get(f"{server.url}/health").status_code == 200


def test_health_says_when_a_key_is_configured(
    tmp_path: Path, server_factory: ServerFactory
) -> None:
    server = server_factory(seeded(tmp_path), OPENROUTER_API_KEY="sk-test")
    assert httpx.get(f"{server.url}/health").json()["openrouter_configured"] is True


def test_experts_lists_counts_and_date_range(server: Server) -> None:
    response = httpx.get(f"{server.url}/api/v1/experts")
    assert response.status_code == 200
    assert response.json() == [
        {
            "id": "demo",
            "name": "Demo Channel",
            "channel_username": "panel_demo",
            "channel_url": "https://t.me/panel_demo",
            "chat_type": "public_channel",
            "post_count": 5,
            "comment_count": 6,
            "first_post_at": "2024-05-01T09:00:00Z",
            "last_post_at": "2024-05-01T09:30:00Z",
        }
    ]


def test_a_post_comes_with_its_links_and_comments(server: Server) -> None:
    response = httpx.get(f"{server.url}/api/v1/posts/10", params={"expert_id": "demo"})
    assert response.status_code == 200
    post = response.json()
    assert post["text"] == "Why retrieval beats fine-tuning for a small team."
    assert post["telegram_url"] == "https://t.me/panel_demo/10"
    assert post["links"] == [{"direction": "in", "link_type": "mention", "telegram_message_id": 15}]
    assert [
        (c["telegram_message_id"], c["parent_comment_id"], c["is_channel_author"])
        for c in post["comments"]
    ] == [
        (601, None, False),
        (602, 601, False),
        (603, 602, True),
    ]


def test_absent_post_and_unknown_expert_are_404_with_a_reason(server: Server) -> None:
    absent = httpx.get(f"{server.url}/api/v1/posts/999", params={"expert_id": "demo"})
    assert absent.status_code == 404
    assert absent.json() == {"detail": "expert 'demo' has no post 999", "code": "not_found"}
    ghost = httpx.get(f"{server.url}/api/v1/posts/10", params={"expert_id": "ghost"})
    assert ghost.status_code == 404
    assert ghost.json() == {"detail": "no expert 'ghost'", "code": "not_found"}


def test_bad_parameters_are_422_naming_the_field(server: Server) -> None:
    missing = httpx.get(f"{server.url}/api/v1/posts/10")
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["query", "expert_id"]
    bad = httpx.get(f"{server.url}/api/v1/posts/abc", params={"expert_id": "Bad Slug"})
    assert bad.status_code == 422
    assert {tuple(e["loc"]) for e in bad.json()["detail"]} == {
        ("path", "telegram_message_id"),
        ("query", "expert_id"),
    }


@pytest.mark.parametrize(
    "origin", ["http://localhost:5173", "http://127.0.0.1:5173", "https://panel.example.org"]
)
def test_cors_allows_the_dev_server_and_the_production_origin(server: Server, origin: str) -> None:
    preflight = httpx.options(
        f"{server.url}/api/v1/experts",
        headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin
    simple = httpx.get(f"{server.url}/api/v1/experts", headers={"Origin": origin})
    assert simple.headers["access-control-allow-origin"] == origin


@pytest.mark.parametrize("origin", ["https://evil.example", "http://localhost:3000", "null"])
def test_cors_refuses_every_other_origin(server: Server, origin: str) -> None:
    preflight = httpx.options(
        f"{server.url}/api/v1/experts",
        headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    simple = httpx.get(f"{server.url}/api/v1/experts", headers={"Origin": origin})
    assert "access-control-allow-origin" not in simple.headers


def test_in_production_only_the_production_origin_is_allowed(
    tmp_path: Path, server_factory: ServerFactory
) -> None:
    server = server_factory(
        seeded(tmp_path), ENVIRONMENT="production", PRODUCTION_ORIGIN="https://panel.example.org"
    )
    for origin in ("http://localhost:5173", "http://127.0.0.1:5173"):
        preflight = httpx.options(
            f"{server.url}/api/v1/experts",
            headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
        )
        assert preflight.status_code == 400, origin
        assert "access-control-allow-origin" not in preflight.headers
        simple = httpx.get(f"{server.url}/api/v1/experts", headers={"Origin": origin})
        assert "access-control-allow-origin" not in simple.headers
    simple = httpx.get(
        f"{server.url}/api/v1/experts", headers={"Origin": "https://panel.example.org"}
    )
    assert simple.headers["access-control-allow-origin"] == "https://panel.example.org"


def test_docs_are_served_outside_production_only(
    tmp_path: Path, server_factory: ServerFactory
) -> None:
    db = seeded(tmp_path)
    development = server_factory(db)
    assert httpx.get(f"{development.url}/api/docs").status_code == 200
    assert httpx.get(f"{development.url}/api/openapi.json").status_code == 200
    development.stop()
    production = server_factory(db, ENVIRONMENT="production")
    assert httpx.get(f"{production.url}/api/docs").status_code == 404
    assert httpx.get(f"{production.url}/api/openapi.json").status_code == 404


def test_production_logs_json_lines_with_the_request_id(
    tmp_path: Path, server_factory: ServerFactory
) -> None:
    server = server_factory(seeded(tmp_path), ENVIRONMENT="production")
    response = httpx.get(
        f"{server.url}/api/v1/experts", headers={"X-Request-ID": "3f1c2a9e4b7d4e0f9a1b2c3d4e5f6a7b"}
    )
    assert response.headers["x-request-id"] == "3f1c2a9e4b7d4e0f9a1b2c3d4e5f6a7b"
    generated = httpx.get(f"{server.url}/health").headers["x-request-id"]
    assert len(generated) == 32
    assert server.stop() == 0
    assert server.process.stdout is not None
    records = [
        json.loads(line)
        for line in server.process.stdout.read().splitlines()
        if line.startswith("{")
    ]
    requests = [
        r
        for r in records
        if r.get("event") == "request"
        and r.get("request_id") in ("3f1c2a9e4b7d4e0f9a1b2c3d4e5f6a7b", generated)
    ]
    assert {
        "path": "/api/v1/experts",
        "request_id": "3f1c2a9e4b7d4e0f9a1b2c3d4e5f6a7b",
        "status": 200,
    }.items() <= requests[0].items()
    assert requests[1]["request_id"] == generated


def test_sigterm_stops_gracefully(tmp_path: Path, server_factory: ServerFactory) -> None:
    server = server_factory(seeded(tmp_path))
    assert httpx.get(f"{server.url}/health").status_code == 200
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=30) == 0
    assert server.process.stdout is not None
    assert "shutting down" in server.process.stdout.read()


def test_serve_migrates_a_fresh_database(tmp_path: Path, server_factory: ServerFactory) -> None:
    db = tmp_path / "fresh" / "e.db"
    server = server_factory(db)
    assert httpx.get(f"{server.url}/api/v1/experts").json() == []
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT max(version) FROM schema_migrations").fetchone() == (
        len(load_migrations()),
    )


def test_healthcheck_command_follows_the_service_health(server: Server) -> None:
    """The container's health command: 0 while /health is 200, 1 with the reason otherwise."""
    port = server.url.rsplit(":", 1)[1]
    env = cli_env(server.db_path, API_HOST="127.0.0.1", API_PORT=port)
    healthy = run_cli("healthcheck", env=env)
    assert healthy.returncode == 0, healthy.stderr
    assert f"127.0.0.1:{port}/health: 200" in healthy.stdout
    server.db_path.rename(server.db_path.with_suffix(".moved"))  # /health answers 503
    unhealthy = run_cli("healthcheck", env=env)
    assert unhealthy.returncode == 1
    assert "/health: 503" in unhealthy.stderr
    server.stop()
    gone = run_cli("healthcheck", "--timeout", "2", env=env)
    assert gone.returncode == 1
    assert "no answer (ConnectError" in gone.stderr
