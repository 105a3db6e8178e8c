from __future__ import annotations

import json
import socket
import sqlite3
from pathlib import Path

from tests.support.demo_db import demo_counts
from tests.support.exports import at, chat, message, write
from tests.support.server import cli_env, run_cli


def test_serve_on_a_taken_port_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", env=cli_env(tmp_path / "e.db", API_PORT=str(port)))
    assert result.returncode == 1
    assert (
        result.stderr.strip() == f"error: cannot serve on 127.0.0.1:{port}: Address already in use"
    )
    assert not (tmp_path / "e.db").exists()  # checked before anything was created


def test_a_folder_as_database_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "data.db"
    folder.mkdir()
    result = run_cli("migrate", env=cli_env(folder))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: {folder}: is not a file; DATABASE_URL must name a database file"
    )


def test_demo_recreates_its_database_with_three_experts(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "unused.db")
    del env["DATABASE_URL"]  # the demo's own default: ./data/demo.db under the working folder
    first = run_cli("demo", "--no-serve", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    db = tmp_path / "data" / "demo.db"
    counts = demo_counts(db)
    assert set(counts) == {"ai_architect", "product_notes", "selfhost_ops"}
    for posts, comments in counts.values():
        assert posts >= 30 and comments >= 50
    conn = sqlite3.connect(db)
    conn.execute("DELETE FROM comments")
    conn.commit()
    conn.close()
    second = run_cli("demo", "--no-serve", env=env, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert demo_counts(db) == counts


def test_demo_data_has_links_and_both_languages(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "demo.db")
    assert run_cli("demo", "--no-serve", env=env).returncode == 0
    conn = sqlite3.connect(tmp_path / "demo.db")
    kinds = dict(conn.execute("SELECT link_type, count(*) FROM links GROUP BY link_type"))
    assert kinds["reply"] >= 9 and kinds["mention"] >= 9
    cyrillic = conn.execute("SELECT count(*) FROM posts WHERE text GLOB '*[а-я]*'").fetchone()[0]
    latin_only = conn.execute(
        "SELECT count(*) FROM posts WHERE expert_id = 'product_notes' AND text NOT GLOB '*[а-я]*'"
    ).fetchone()[0]
    assert cyrillic >= 50 and latin_only >= 30


def test_demo_refuses_a_database_with_other_experts(tmp_path: Path) -> None:
    db = tmp_path / "prod.db"
    env = cli_env(db)
    own = write(tmp_path / "own.json", chat([message(1, at(0), "precious")]))
    assert run_cli("import", str(own), "--expert", "mine", env=env).returncode == 0
    result = run_cli("demo", "--no-serve", env=env)
    assert result.returncode == 1
    assert "holds experts that are not the demo's (mine)" in result.stderr
    listed = json.loads(run_cli("experts", "list", "--json", env=env).stdout)
    assert [e["id"] for e in listed] == ["mine"]
