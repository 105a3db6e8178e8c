"""schemathesis against the schema a real server serves: no input gives a 5xx, and every
response is one the schema describes (status, content type, headers, body).

Every operation gets schemathesis's phases: the schema's coverage cases, fuzzed requests that
are valid and that are not, and stateful sequences (a post named by an id another answer
gave). Queries run the whole pipeline on the fake model API. The seed is fixed, so a failure
can be replayed with the command it prints.

`positive_data_acceptance` is left out: the schema cannot know which experts exist, so a
well-formed `expert_filter` naming none of them is rightly a 422.
"""

from __future__ import annotations

import collections
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.fake_openai import FakeOpenAI, model_env, phase_answer
from tests.support.server import Server, start_server

SEED = 20261206
MAX_EXAMPLES = 300  # per operation and phase: about 70 s on two cores
# The budget for the whole run.
TIMEOUT_S = 180


def test_the_served_schema_holds_for_every_input_schemathesis_makes(
    demo_path: Path, fake_openai: FakeOpenAI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_openai.responder = phase_answer
    # Thousands of requests log more than a pipe holds: the server writes to a file.
    log = tmp_path / "server.log"
    server = start_server(demo_path, log=log, **model_env(fake_openai))
    started = time.monotonic()
    try:
        run, entries = _run_schemathesis(server, tmp_path)
    finally:
        server.stop()
    elapsed = time.monotonic() - started
    output = run.stdout + run.stderr
    # The HAR holds every request schemathesis made, one per test case, with its answer.
    statuses = collections.Counter(int(e["response"]["status"]) for e in entries)
    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    operations = {(e["request"]["method"], _operation(e["request"]["url"])) for e in entries}
    with capsys.disabled():
        print(
            f"\nschemathesis (seed {SEED}, {MAX_EXAMPLES} examples): {len(entries)} test cases, "
            f"{server_errors} answered 5xx, {elapsed:.0f} s; "
            f"statuses {dict(sorted(statuses.items()))}"
        )
    assert run.returncode == 0, output[-8000:]
    assert server_errors == 0, (statuses, log.read_text()[-8000:])
    # Every operation was reached, with inputs it accepts as well as ones it refuses.
    assert {
        ("GET", "/health"),
        ("GET", "/api/v1/experts"),
        ("GET", "/api/v1/posts/{telegram_message_id}"),
        ("POST", "/api/v1/query"),
    } <= operations, operations
    assert {200, 404, 405, 422} <= set(statuses), statuses
    assert len(entries) >= 1000, len(entries)


def _operation(url: str) -> str:
    path = urlsplit(url).path
    return "/api/v1/posts/{telegram_message_id}" if path.startswith("/api/v1/posts/") else path


def _run_schemathesis(
    server: Server, tmp_path: Path
) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    har = tmp_path / "run.har"
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{server.url}/api/openapi.json",
        "--checks=all",
        "--exclude-checks=positive_data_acceptance",
        f"--max-examples={MAX_EXAMPLES}",
        f"--seed={SEED}",
        "--workers=1",
        "--request-timeout=60",
        # One retry of a request whose connection closed before any answer: the client reusing
        # a kept-alive connection just as the server's idle timer closes it (seen once on a
        # loaded machine). A server that fails for real fails the retry too.
        "--request-retries=1",
        "--report=har",
        f"--report-har-path={har}",
    ]
    # In a folder of its own: hypothesis keeps its example database in the working directory.
    run = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )
    assert har.exists(), run.stdout + run.stderr
    return run, json.loads(har.read_text())["log"]["entries"]
