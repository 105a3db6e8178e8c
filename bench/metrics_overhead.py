"""The metrics' cost on the 50-stream bench: time to the first event (p95) and the server's peak
RSS with the metrics off (METRICS_PORT unset: nothing is counted) and on (counted, and scraped
every second as a Prometheus with a short interval would), in alternating rounds on the corpus
of bench/query.py (built once and cached there; a build takes minutes).

Targets (issue 21): the p95 under 5% higher with the metrics on, the peak RSS under 20 MB higher.
It prints figures and never fails on them; the machines are shared and noisy, so each figure is
the median over the rounds.

    .venv/bin/python bench/metrics_overhead.py [--cache DIR] [--streams 50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from querybench.clients import ask, many_streams
from querybench.corpus import CorpusSpec
from querybench.corpus_cache import copy_database, load_corpus
from querybench.plan import DEFAULT_CACHE
from querybench.processes import Server, free_port, serving
from querybench.report import row, verdict
from querybench.stats import percentile

TARGET_P95_OVERHEAD = 0.05
TARGET_RSS_OVERHEAD_MB = 20.0


async def scraping(url: str, stop: asyncio.Event, took: list[float]) -> None:
    """GET /metrics every second until `stop`, as Prometheus would; the time each took."""
    async with httpx.AsyncClient(timeout=10) as client:
        while not stop.is_set():
            started = time.perf_counter()
            response = await client.get(url)
            response.raise_for_status()
            took.append(time.perf_counter() - started)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)


async def streams_while_scraped(
    server: Server, streams: int, metrics_url: str | None, took: list[float]
) -> list[float]:
    stop = asyncio.Event()
    scraper = asyncio.create_task(scraping(metrics_url, stop, took)) if metrics_url else None
    try:
        results, _ = await many_streams(server.url, streams, 300, "h11")
    finally:
        stop.set()
        if scraper is not None:
            await scraper
    failed = [r.error for r in results if not r.completed]
    if failed:
        raise SystemExit(f"{len(failed)} of {streams} streams failed: {failed[:3]}")
    return [r.first_event_s * 1000 for r in results if r.first_event_s is not None]


def one_run(
    corpus_db: Path, folder: Path, label: str, streams: int, metrics: bool, took: list[float]
) -> tuple[float, float]:
    """(first-event p95 in ms, peak RSS in MB) of one fresh server."""
    database = folder / f"{label}.db"
    copy_database(corpus_db, database)
    port = free_port()
    settings = {"METRICS_PORT": str(port)} if metrics else {}
    with serving(database, folder, label, settings=settings) as server:
        # Caches loaded first, as in bench/query.py's stream bench.
        ask(server.url, {"query": "warm up the caches", "stream_progress": False}, 120)
        metrics_url = f"http://127.0.0.1:{port}/metrics" if metrics else None
        firsts = asyncio.run(streams_while_scraped(server, streams, metrics_url, took))
        return percentile(firsts, 95), server.peak_rss_mb()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="built corpus folder")
    parser.add_argument("--streams", type=int, default=50, help="concurrent streaming queries")
    parser.add_argument("--rounds", type=int, default=3, help="runs with and without, alternating")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    corpus, _ = load_corpus(CorpusSpec(), args.cache.resolve(), False)
    p95s: dict[bool, list[float]] = {False: [], True: []}
    rss: dict[bool, list[float]] = {False: [], True: []}
    took: list[float] = []
    print(f"Metrics overhead: {args.streams} concurrent streams, {args.rounds} rounds")
    with tempfile.TemporaryDirectory(prefix="bench-metrics-") as tmp:
        for n in range(args.rounds):
            for metrics in (False, True):
                label = f"{'on' if metrics else 'off'}-{n}"
                p95, peak = one_run(corpus.database, Path(tmp), label, args.streams, metrics, took)
                p95s[metrics].append(p95)
                rss[metrics].append(peak)
                row(
                    f"round {n + 1}, metrics {'on ' if metrics else 'off'}: p95 / RSS",
                    f"{p95:.0f} / {peak:.0f}",
                    "ms / MB",
                )
    off_p95, on_p95 = statistics.median(p95s[False]), statistics.median(p95s[True])
    off_rss, on_rss = statistics.median(rss[False]), statistics.median(rss[True])
    overhead = on_p95 / off_p95 - 1
    row("first event p95, off / on (median)", f"{off_p95:.0f} / {on_p95:.0f}", "ms")
    row(
        "  the metrics' share of it",
        f"{overhead:+.1%}",
        "",
        f"< {TARGET_P95_OVERHEAD:.0%}: {verdict(overhead < TARGET_P95_OVERHEAD)}",
    )
    row("peak RSS, off / on (median)", f"{off_rss:.0f} / {on_rss:.0f}", "MB")
    grew = on_rss - off_rss
    row(
        "  the metrics' share of it",
        f"{grew:+.1f}",
        "MB",
        f"< {TARGET_RSS_OVERHEAD_MB:.0f} MB: {verdict(grew < TARGET_RSS_OVERHEAD_MB)}",
    )
    if took:
        row(
            "a scrape under the load, p50 / max",
            f"{statistics.median(took) * 1000:.0f} / {max(took) * 1000:.0f}",
            "ms",
        )


if __name__ == "__main__":
    main()
