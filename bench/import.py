"""Import speed and memory: generated Telegram exports of 10,000 and 100,000 messages.

Runs `experts-panel import` as a separate process on each file (a fresh database, then a
re-import of the same file) and prints messages per second and peak RSS (the import process
and its parsing process).
Targets on the project's 2-core machine: at least 10,000 messages/s, and under 250 MB peak
RSS for the 100,000-message file.

    .venv/bin/python bench/import.py [--sizes 10000 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

USERNAME = "bench_channel"
CHANNEL_ID = 1234567890
WORDS = (
    "retrieval",
    "embeddings",
    "answer",
    "model",
    "prompt",
    "context",
    "latency",
    "cost",
    "token",
    "budget",
    "sqlite",
    "backup",
    "ответ",
    "модель",
    "контекст",
    "поиск",
    "стоимость",
    "запрос",
    "данные",
    "сервер",
    "резервная",
    "копия",
    "индекс",
    "deploy",
    "podman",
    "systemd",
    "nginx",
    "certificate",
    "renewal",
    "evaluation",
    "quality",
    "users",
    "product",
)


def sentence(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high))).capitalize() + "."


def generate(count: int, seed: int = 7) -> dict[str, Any]:
    """A channel export in the shape Telegram Desktop writes, with every feature in it."""
    return {
        "name": "Bench Channel",
        "type": "public_channel",
        "id": CHANNEL_ID,
        "messages": list(generate_messages(count, seed)),
    }


START = datetime(2022, 1, 1, tzinfo=UTC)


def generate_messages(count: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """The export's messages one at a time (bench/sync.py serves them so, never all held)."""
    rng = random.Random(seed)
    start = START
    for i in range(1, count + 1):
        when = start + timedelta(minutes=37 * i)
        base: dict[str, Any] = {
            "id": i,
            "type": "message",
            "date": when.strftime("%Y-%m-%dT%H:%M:%S"),
            "date_unixtime": str(int(when.timestamp())),
        }
        if i % 97 == 0:
            base.update(
                type="service",
                actor="Bench",
                actor_id=f"channel{CHANNEL_ID}",
                action="pin_message",
                message_id=i - 1,
                text="",
                text_entities=[],
            )
            yield base
            continue
        if i % 3 == 0:
            edited = when + timedelta(hours=2)
            base["edited"] = edited.strftime("%Y-%m-%dT%H:%M:%S")
            base["edited_unixtime"] = str(int(edited.timestamp()))
        base["from"] = "Bench Channel"
        base["from_id"] = f"channel{CHANNEL_ID}"
        if i % 11 == 0:
            base["forwarded_from"] = "Other Channel"
            base["forwarded_from_id"] = "channel1111111111"
        if i % 7 == 0 and i > 1:
            base["reply_to_message_id"] = rng.randint(max(1, i - 500), i - 1)
        if i % 5 == 0:
            base.update(
                photo="(File not included. Change data exporting settings to download.)",
                photo_file_size=rng.randint(10_000, 500_000),
                width=1280,
                height=720,
            )
        if i % 4 == 0:
            base["reactions"] = [{"type": "emoji", "count": rng.randint(1, 50), "emoji": "👍"}]
        if i % 2 == 0:
            target = rng.randint(1, max(1, i - 1))
            text: Any = [
                sentence(rng, 20, 80) + " ",
                {"type": "bold", "text": sentence(rng, 2, 5)},
                " see ",
                {
                    "type": "text_link",
                    "text": "earlier",
                    "href": f"https://t.me/{USERNAME}/{target}",
                },
                " and ",
                {"type": "link", "text": "https://t.me/other_channel/42"},
                " ",
                {"type": "code", "text": "PRAGMA journal_mode=WAL;"},
                "\n",
                {"type": "hashtag", "text": "#bench"},
            ]
            entities = [{"type": "plain", "text": p} if isinstance(p, str) else p for p in text]
        else:
            text = sentence(rng, 10, 120)
            entities = [{"type": "plain", "text": text}]
        base["text"] = text
        base["text_entities"] = entities
        yield base


def measure(
    export: Path, database: Path, cli: list[str]
) -> tuple[float, int, dict[str, Any], float]:
    """Wall seconds, peak RSS in bytes, the JSON summary of one import process, and the CPU
    seconds it and its parsing process used (wait4 counts the children it reaped)."""
    env = dict(os.environ, DATABASE_URL=f"sqlite+aiosqlite:///{database}", LOG_LEVEL="WARNING")
    command = [*cli, "import", str(export), "--expert", "bench", "--username", USERNAME, "--json"]
    output = Path(f"{database}.out")
    started = time.perf_counter()
    with output.open("w") as out:
        # Popen starts the child with vfork, so its peak RSS is its own, not a copy of ours.
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"import of {export.name} failed with exit code {process.returncode}")
    cpu = usage.ru_utime + usage.ru_stime
    return elapsed, usage.ru_maxrss * 1024, json.loads(output.read_text()), cpu


def write_export(path: Path, size: int) -> None:
    """Generate in a child process: a forked child's peak RSS counts the parent's pages, so
    the parent must never hold a whole export."""
    subprocess.run([sys.executable, __file__, "--generate", str(size), str(path)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--generate", nargs=2, metavar=("COUNT", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        count, path = args.generate
        Path(path).write_text(
            json.dumps(generate(int(count)), ensure_ascii=False), encoding="utf-8"
        )
        return
    cli_path = Path(sys.executable).with_name("experts-panel")
    cli = [str(cli_path)] if cli_path.exists() else [sys.executable, "-m", "experts_panel.cli"]

    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        root = Path(tmp)
        print(
            f"{'messages':>9} {'file MB':>8} {'run':>9} {'import s':>8} {'msg/s':>8} "
            f"{'process s':>8} {'msg/s':>8} {'cpu s':>7} {'RSS MB':>8} {'parser':>8} {'sum':>8}"
        )
        for size in args.sizes:
            export = root / f"export-{size}.json"
            write_export(export, size)
            mb = export.stat().st_size / 1e6
            fresh: list[tuple[float, float, int, int, float]] = []
            again: list[tuple[float, float, int, int, float]] = []
            for run in range(args.runs):
                database = root / f"bench-{size}-{run}.db"
                seconds, rss, summary, cpu = measure(export, database, cli)
                assert summary["posts"]["messages_seen"] == size, summary
                fresh.append(
                    (
                        summary["posts"]["duration_s"],
                        seconds,
                        rss,
                        summary["posts"]["parser_peak_rss_bytes"],
                        cpu,
                    )
                )
                seconds, rss, summary, cpu = measure(export, database, cli)
                assert summary["posts"]["posts_unchanged"] == summary["posts"][
                    "messages_seen"
                ] - sum(summary["posts"]["skipped"].values()), summary
                again.append(
                    (
                        summary["posts"]["duration_s"],
                        seconds,
                        rss,
                        summary["posts"]["parser_peak_rss_bytes"],
                        cpu,
                    )
                )
            for label, figures in (("fresh", fresh), ("re-import", again)):
                inside = statistics.median(f[0] for f in figures)
                whole = statistics.median(f[1] for f in figures)
                peak = max(f[2] for f in figures) / 1e6
                parser_mb = max(f[3] for f in figures) / 1e6
                cpu = statistics.median(f[4] for f in figures)
                print(
                    f"{size:>9} {mb:>8.1f} {label:>9} {inside:>8.2f} {size / inside:>8.0f} "
                    f"{whole:>8.2f} {size / whole:>8.0f} {cpu:>7.2f} {peak:>8.1f} "
                    f"{parser_mb:>8.1f} {peak + parser_mb:>8.1f}"
                )
        print(
            "import s: parse and store, as the import reports it (duration_s); process s: the "
            "whole command, with interpreter start-up and migration; cpu s: the CPU seconds "
            "(user and system) of the command and its parsing process, which a busy shared "
            "machine inflates less than wall time; medians of the runs. "
            "RSS MB: peak of the import process (its wait4 figure; the kernel takes the larger "
            "of it and its children's), parser: peak of the parsing process as it reports "
            "itself, sum: both at once at worst; the largest of the runs"
        )


if __name__ == "__main__":
    main()
