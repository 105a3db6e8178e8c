"""Faults readers cause: streams cut off mid-query, and how the next query fares after them.

Against the fake OpenAI-compatible server on loopback (answering each call in `--latency`
seconds, 1 by default, as in issue 11), with the bundled demo experts (3 experts):

1. A fresh `experts-panel serve`: one query to warm it up, then `--queries` queries one after
   another; the median is the fresh service's query time.
2. Another fresh service, warmed up the same way, then `--cuts` streamed queries whose readers
   hang up on a seeded schedule, `--concurrency` at a time: right after sending, while
   queued, or a moment after some expert enters each phase. Once /health says nothing is left
   working, the same queries one after another: the next query's time against the fresh
   service's (target at most 1.2×), and what the cut-offs left: sockets to the model server
   in CLOSE-WAIT or with unread answers, slots held, tasks left.

It prints figures and never fails on time; the machines are shared and noisy.

    .venv/bin/python bench/faults.py [--cuts 36] [--concurrency 10] [--queries 3]
                                     [--latency 1.0] [--seed 11]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
from querybench.clients import ask
from querybench.processes import BenchError, Server, serving
from querybench.report import log, row, section, verdict

# `querybench` put the checkout on the path: the fake server and the demo database live with
# the tests.
from tests.support import demo_db
from tests.support.fake_openai import PHASE_MODELS, FakeOpenAI, phase_answer
from tests.support.hang_ups import CUT_POINTS, read_then_hang_up

TARGET_RATIO = 1.2
QUESTION = "Как делать бэкапы SQLite?"


def model_settings(fake: FakeOpenAI) -> dict[str, str]:
    # The settings of issue 11's report: two attempts of at most 20 s, 8 calls in flight.
    return {
        "OPENROUTER_API_KEY": "sk-bench",
        "OPENROUTER_BASE_URL": fake.base_url,
        "MODEL_MAX_ATTEMPTS": "2",
        "MODEL_TIMEOUT": "20",
        "MAX_CONCURRENT_MODEL_CALLS": "8",
        **PHASE_MODELS,
    }


def timed_queries(server: Server, count: int) -> list[float]:
    times = []
    for _ in range(count):
        seconds, answer = ask(server.url, {"query": QUESTION, "stream_progress": False}, 300)
        if answer["errors"]:
            raise BenchError(f"a query had failed experts: {answer['errors']}")
        times.append(seconds)
    return times


async def cut_off(url: str, cuts: int, concurrency: int, seed: int) -> list[str | None]:
    rng = random.Random(seed)
    plan = [(CUT_POINTS[i % len(CUT_POINTS)], rng.uniform(0.0, 0.5)) for i in range(cuts)]
    rng.shuffle(plan)
    results: list[str | None] = []
    for start in range(0, len(plan), concurrency):
        wave = plan[start : start + concurrency]
        results += await asyncio.gather(
            *(read_then_hang_up(url, QUESTION, p, s, 300) for p, s in wave)
        )
    return results


def health(server: Server) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{server.url}/health", timeout=30).json()
    return body


def until_idle(server: Server, deadline_s: float = 300.0) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    while True:
        state = health(server)
        queries, calls = state["queries"], state["model_calls"]
        idle = (
            queries["running"] == queries["waiting"] == queries["tasks"] == 0
            and calls["in_flight"] == calls["waiting"] == 0
        )
        elapsed = time.perf_counter() - started
        if idle or elapsed > deadline_s:
            return elapsed, state
        time.sleep(0.2)


def model_sockets(pid: int, model_port: int) -> Counter[str]:
    return Counter(
        conn.status
        for conn in psutil.Process(pid).net_connections(kind="tcp")
        if conn.raddr and conn.raddr.port == model_port
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cuts", type=int, default=36, help="streams cut off")
    parser.add_argument("--concurrency", type=int, default=10, help="streams at once")
    parser.add_argument("--queries", type=int, default=3, help="timed queries, each side")
    parser.add_argument("--latency", type=float, default=1.0, help="fake model seconds a call")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    print(
        f"Experts Panel fault benchmark ({datetime.now(UTC):%Y-%m-%d %H:%M UTC}); the fake "
        f"model answers in {args.latency:g} s a call"
    )
    with (
        tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp,
        FakeOpenAI(responder=phase_answer, latency_s=args.latency) as fake,
    ):
        folder = Path(tmp)
        log("building the demo database")
        source = demo_db.build(folder / "source")
        model_port = httpx.URL(fake.base_url).port or 0
        fresh: list[float] = []

        def fresh_service() -> None:
            database = demo_db.copy(source, folder / "fresh")
            with serving(database, folder, "fresh", settings=model_settings(fake)) as server:
                timed_queries(server, 1)  # warm-up: models and caches load
                fresh.extend(timed_queries(server, args.queries))
                row(
                    "query time, median of the fresh service",
                    f"{statistics.median(fresh):.2f}",
                    "s",
                )

        def after_cut_offs() -> None:
            database = demo_db.copy(source, folder / "faulted")
            with serving(database, folder, "faulted", settings=model_settings(fake)) as server:
                timed_queries(server, 1)
                results = asyncio.run(cut_off(server.url, args.cuts, args.concurrency, args.seed))
                where = Counter(r for r in results if r is not None)
                row("streams cut off", f"{sum(where.values())} of {len(results)}", "streams")
                print("    where: " + ", ".join(f"{p} {where[p]}" for p in CUT_POINTS))
                idle_s, state = until_idle(server)
                row("time until /health shows nothing left working", f"{idle_s:.1f}", "s")
                sockets = model_sockets(server.process.pid, model_port)
                row(
                    "sockets to the model server after them",
                    ", ".join(f"{n} {s}" for s, n in sockets.items()) or "none",
                )
                queries, calls = state["queries"], state["model_calls"]
                row(
                    "slots held: queries / model calls; tasks left",
                    f"{queries['running']} / {calls['in_flight']}; {queries['tasks']}",
                )
                row("/health", f"{state['status']}, provider {state['provider']['state']}")
                after = timed_queries(server, args.queries)
                next_s, median = after[0], statistics.median(after)
                baseline = statistics.median(fresh) if fresh else float("nan")
                row("the next query's time", f"{next_s:.2f}", "s")
                ratio = next_s / baseline
                row(
                    "  against the fresh service's",
                    f"{ratio:.2f}",
                    "×",
                    f"≤ {TARGET_RATIO:g}×: {verdict(ratio <= TARGET_RATIO)}",
                )
                row("  median of the next queries, against it", f"{median / baseline:.2f}", "×")

        parts: list[tuple[str, Callable[[], None]]] = [
            (f"1. A fresh service: {args.queries} queries after a warm-up", fresh_service),
            (
                f"2. A service after {args.cuts} streams cut off ({args.concurrency} at a time)",
                after_cut_offs,
            ),
        ]
        for title, measure in parts:
            section(title, measure)


if __name__ == "__main__":
    main()
