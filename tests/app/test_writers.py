"""Writers in other processes never make a reader fail, and every writer gets its turn.

A real server answers 20 streams on the fake model API (so every query writes its token
usage) while `experts-panel import` and then `experts-panel index` run as other processes.
Before each of the two commands starts, a third process takes SQLite's write lock and keeps
it until enough queries have finished: it stands for an import that holds its one
transaction longer than a busy timeout lasts (the bench imports 100,000 messages for that),
and it makes sure, whatever the machine's speed, that queries write their usage and that
both commands reach their writes while another process is writing.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.exports import large_channel
from tests.support.fake_openai import FakeOpenAI, model_env
from tests.support.fake_openai import phase_answer as responder
from tests.support.server import Server, cli_env, run_cli
from tests.support.streams import Streams

STREAMS = 20
# Queries that must finish while the lock is held: more than the service works on at once
# (MAX_CONCURRENT_QUERIES, 4), so some of them also start under the lock.
FINISHED_UNDER_LOCK = 8
# Big enough that importing and indexing take a while beside the streams, small enough to
# embed in well under a minute on two busy cores.
POSTS = 1500
COMMENTS_PER_POST = 3
# Only a safety net against a hang: every wait below ends on a state, not on a time.
HANG_S = 900

HOLD_LOCK = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("CREATE TABLE IF NOT EXISTS writer_stand_in (n INTEGER)")
print("held", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


def take_write_lock(db_path: Path) -> subprocess.Popen[str]:
    """Another process takes SQLite's write lock on the file and holds it until its stdin
    closes; returns once the lock is taken."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(db_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    return holder


def release_write_lock(holder: subprocess.Popen[str]) -> int:
    assert holder.stdin is not None
    holder.stdin.close()
    return holder.wait(timeout=HANG_S)


@contextmanager
def write_lock_held(db_path: Path) -> Iterator[None]:
    """Another process holds SQLite's write lock on the file for the block's duration."""
    holder = take_write_lock(db_path)
    try:
        yield
    finally:
        assert release_write_lock(holder) == 0


def start_cli(db_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "experts_panel.cli", *args],
        env=cli_env(db_path, LOG_LEVEL="WARNING"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_beside(streams: Streams, db_path: Path, *args: str) -> tuple[int, str, str]:
    """Start the command while another process holds the write lock; let it go once enough
    queries have finished under the lock; then wait for the command to end."""
    with write_lock_held(db_path):
        command = start_cli(db_path, *args)
        streams.wait_for(streams.finished() + FINISHED_UNDER_LOCK)
    out, err = command.communicate(timeout=HANG_S)
    return command.returncode, out, err


def exit_status(result: tuple[int, str, str]) -> str:
    """`exit 0`, or the code with the last line of the error output and how long it was."""
    code, _, err = result
    if code == 0:
        return "exit 0"
    lines = err.strip().splitlines() or [""]
    return f"exit {code}: {lines[-1]} ({len(lines)} lines on stderr)"


def test_import_and_index_beside_20_streams_fail_no_query_and_lose_no_usage(
    demo_path: Path, tmp_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = responder
    channel, group = large_channel(tmp_path, POSTS, COMMENTS_PER_POST)
    log = tmp_path / "server.log"
    server: Server = server_factory(demo_path, log=log, **model_env(fake_openai))
    streams = Streams(server.url, HANG_S)
    streams.start(STREAMS)
    try:
        streams.wait_for(1)
        imported = run_beside(
            streams,
            demo_path,
            *("import", str(channel), "--expert", "big", "--comments", str(group), "--json"),
        )
        indexed = run_beside(streams, demo_path, "index", "--expert", "big")
    finally:
        streams.stop()
    assert server.stop() == 0  # a clean stop writes whatever usage is still queued

    failed = [o.problem for o in streams.outcomes if not o.ok]
    problems = [f"{len(failed)} of {len(streams.outcomes)} queries failed: {failed[:2]}"]
    problems += [f"import: {exit_status(imported)}", f"index: {exit_status(indexed)}"]
    assert problems == [
        f"0 of {len(streams.outcomes)} queries failed: []",
        "import: exit 0",
        "index: exit 0",
    ]
    summary = json.loads(imported[1])
    assert summary["posts"]["posts_added"] == POSTS
    assert summary["comments"]["comments_added"] == POSTS * COMMENTS_PER_POST
    assert f"big: {POSTS} posts made searchable, {POSTS} embedded" in indexed[1]

    conn = sqlite3.connect(demo_path)
    recorded = conn.execute(
        "SELECT sum(model_calls), sum(prompt_tokens), sum(completion_tokens) FROM token_usage"
    ).fetchone()
    reported = tuple(
        sum(o.usage[k] for o in streams.outcomes)
        for k in ("model_calls", "prompt_tokens", "completion_tokens")
    )
    assert recorded == reported
    assert recorded[0] == len(fake_openai.requests)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    embedded = "SELECT count(*) FROM post_embeddings WHERE expert_id = 'big'"
    assert conn.execute(embedded).fetchone() == (POSTS,)
    assert conn.execute("SELECT count(*) FROM posts WHERE expert_id = 'big'").fetchone() == (POSTS,)


def test_analyze_drift_waits_for_a_writer_that_outlasts_a_busy_timeout(
    demo_path: Path, fake_openai: FakeOpenAI
) -> None:
    # Longer than the 10 s busy timeout the commands had before WRITE_WAIT_SECONDS: on that
    # code, the first result's write ended the command with a traceback.
    held_s = 12.0
    holders: list[subprocess.Popen[str]] = []
    released: list[int] = []

    def lock_then_answer(body: dict[str, Any]) -> str:
        # The lock is taken before the first answer leaves, so the command's first write
        # (which follows that answer) meets another process's lock, whatever the timing.
        if not holders:
            holders.append(take_write_lock(demo_path))
            threading.Timer(held_s, lambda: released.append(release_write_lock(holders[0]))).start()
        return responder(body)

    fake_openai.responder = lock_then_answer
    env = cli_env(demo_path, **model_env(fake_openai))
    result = run_cli("analyze-drift", "--expert", "ai_architect", env=env)
    assert exit_status((result.returncode, result.stdout, result.stderr)) == "exit 0"
    assert len(holders) == 1 and released == [0]
    conn = sqlite3.connect(demo_path)
    analysed = conn.execute(
        "SELECT count(*) FROM comment_group_drift WHERE expert_id = 'ai_architect'"
    ).fetchone()
    assert analysed == (len(fake_openai.requests),)


def test_a_command_that_cannot_get_its_turn_says_so_in_one_line(
    demo_path: Path, tmp_path: Path
) -> None:
    channel, _ = large_channel(tmp_path, 20, 1)
    env = cli_env(demo_path, WRITE_WAIT_SECONDS="0.5")
    with write_lock_held(demo_path):
        imported = run_cli("import", str(channel), "--expert", "big", env=env)
        indexed = run_cli("index", "--expert", "selfhost_ops", "--rebuild", env=env)
    locked = "error: another process kept the database locked for more than 0.5 s"
    assert imported.returncode == 1
    assert imported.stderr.splitlines() == [f"{locked} (WRITE_WAIT_SECONDS); nothing was imported"]
    assert indexed.returncode == 1
    assert indexed.stderr.splitlines() == [
        f"{locked} (WRITE_WAIT_SECONDS); the batches done are kept: run it again"
    ]
    conn = sqlite3.connect(demo_path)
    assert conn.execute("SELECT count(*) FROM experts WHERE id = 'big'").fetchone() == (0,)
