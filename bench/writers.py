"""Writers beside readers: `import` of 100,000 messages, then `index`, while 20 streams query.

A real `experts-panel serve` on the demo experts answers on the fake OpenAI-compatible server
(`tests/support/fake_openai.py`, on loopback), so every query writes its token usage. While
`--streams` readers ask one question after another, `experts-panel import` of a generated
channel and its discussion group (`--posts` posts, each with its automatic copy in the group
and `--comments-per-post` comments: 100,000 messages in all by default) runs as another
process, then `experts-panel index` of the new expert. Then the streams stop and the server
stops (writing any usage still queued). It prints:

- queries completed / total while the two commands ran, and why the others failed;
- each command's time and exit status (and the import's own figure for its transaction);
- token usage recorded in `token_usage` against what the clients were told and the number
  of calls the fake model server saw;
- `PRAGMA integrity_check`.

It prints figures and never fails on time; the machines are shared and noisy.

    .venv/bin/python bench/writers.py [--posts 10000] [--comments-per-post 8] [--streams 20]
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from querybench.processes import cli_path, database_env, serving
from querybench.report import log

# `querybench` put the checkout on the path: the fake server, the demo database, the export
# builder and the stream readers live with the tests.
from tests.support import demo_db
from tests.support.exports import large_channel
from tests.support.fake_openai import PHASE_MODELS, FakeOpenAI, phase_answer
from tests.support.streams import Streams

EXPERT = "bench_writers"
HANG_S = 3600.0


@dataclass
class Command:
    seconds: float
    code: int
    stdout: str
    last_error_line: str
    error_lines: int


def run_command(args: list[str], database: Path) -> Command:
    started = time.perf_counter()
    done = subprocess.run(
        [*cli_path(), *args],
        env=database_env(database),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=HANG_S,
    )
    lines = done.stderr.strip().splitlines() or [""]
    return Command(
        time.perf_counter() - started, done.returncode, done.stdout, lines[-1], len(lines)
    )


def row(label: str, value: str, note: str = "") -> None:
    print(f"  {label:<34} {value:>16}  {note}".rstrip())


def status(command: Command) -> str:
    if command.code == 0:
        return "exit 0"
    return f"exit {command.code}: {command.last_error_line} ({command.error_lines} lines)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000, help="channel posts (and copies)")
    parser.add_argument("--comments-per-post", type=int, default=8)
    parser.add_argument("--streams", type=int, default=20)
    args = parser.parse_args()
    messages = args.posts * (2 + args.comments_per_post)

    with tempfile.TemporaryDirectory(prefix="bench-writers-") as tmp, FakeOpenAI() as fake:
        folder = Path(tmp)
        fake.responder = phase_answer
        log(f"generating {messages:,} messages ({args.posts:,} posts)")
        channel, group = large_channel(folder, args.posts, args.comments_per_post)
        database = demo_db.build(folder)
        settings = {
            "OPENROUTER_API_KEY": "sk-bench",
            "OPENROUTER_BASE_URL": fake.base_url,
            **PHASE_MODELS,
        }
        with serving(database, folder, "writers", settings=settings) as server:
            streams = Streams(server.url, HANG_S)
            streams.start(args.streams)
            try:
                streams.wait_for(1)
                before = streams.finished()
                log("import")
                imported = run_command(
                    [
                        *("import", str(channel), "--expert", EXPERT),
                        *("--comments", str(group), "--json"),
                    ],
                    database,
                )
                log(f"import: {status(imported)}; index")
                indexed = run_command(["index", "--expert", EXPERT], database)
                log(f"index: {status(indexed)}")
                during = streams.outcomes[before : streams.finished()]
            finally:
                streams.stop()

        ok = sum(o.ok for o in during)
        row("import", f"{messages:,} messages ({args.posts:,} posts)")
        row("  time, exit", f"{imported.seconds:.1f} s", status(imported))
        row("index: time, exit", f"{indexed.seconds:.1f} s", status(indexed))
        row("queries completed during both", f"{ok} / {len(during)}", f"{args.streams} streams")
        problems = Counter(o.problem for o in during if not o.ok)
        for problem, count in problems.most_common(3):
            row("  failed", str(count), problem[:120])

        conn = sqlite3.connect(database)
        recorded = conn.execute(
            "SELECT coalesce(sum(model_calls), 0), coalesce(sum(prompt_tokens), 0), "
            "coalesce(sum(completion_tokens), 0) FROM token_usage"
        ).fetchone()
        reported = tuple(
            sum(o.usage.get(k, 0) for o in streams.outcomes)
            for k in ("model_calls", "prompt_tokens", "completion_tokens")
        )
        row(
            "token usage: calls recorded",
            f"{recorded[0]} / {len(fake.requests)}",
            "against the calls the fake model server saw",
        )
        row(
            "  tokens recorded / reported",
            f"{recorded[1] + recorded[2]} / {reported[1] + reported[2]}",
            "prompt + completion, against what the clients were told",
        )
        row("integrity_check", str(conn.execute("PRAGMA integrity_check").fetchone()[0]))
        conn.close()


if __name__ == "__main__":
    main()
