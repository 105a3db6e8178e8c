"""Part 4: concurrent streaming queries beside the bare stack: time to the first event and
to the end."""

from __future__ import annotations

import asyncio

from querybench.clients import CLIENTS, StreamResult, ask, many_streams
from querybench.plan import TARGET_FIRST_EVENT_P95_MS, TARGET_RSS_MB
from querybench.processes import Server
from querybench.report import row, verdict
from querybench.stats import percentile


def bench_streams(server: Server, streams: int, floor: Server) -> None:
    row("server start-up to a healthy /health", f"{server.startup_s:.1f}", "s")
    # A fresh server: load the vector caches first, as a server that has run a while has them.
    ask(server.url, {"query": "warm up the caches", "stream_progress": False}, 120)
    # And the peer's first request, which pays for code paths run once (route set-up, the
    # request model's first validation), so the burst meets both warm.
    asyncio.run(many_streams(floor.url, 1, 30, "h11"))
    primary: list[StreamResult] = []
    primary_total = 0.0
    for client, description in CLIENTS.items():
        print(f"  client: {description}")
        # The peer first, so both meet the machine in the same state; its one event comes at
        # once, so what it measures is the stack and the client, nothing else.
        floor_results, _ = asyncio.run(many_streams(floor.url, streams, 120, client))
        results, total_s = asyncio.run(many_streams(server.url, streams, 300, client))
        floor_firsts = [r.first_event_s * 1000 for r in floor_results if r.first_event_s]
        firsts = [r.first_event_s * 1000 for r in results if r.first_event_s is not None]
        completed = sum(1 for r in results if r.completed)
        p95 = percentile(firsts, 95)
        floor_p95 = percentile(floor_firsts, 95)
        row("  streams completed", f"{completed} of {streams}", "streams")
        target = f"< {TARGET_FIRST_EVENT_P95_MS:.0f} ms: {verdict(p95 < TARGET_FIRST_EVENT_P95_MS)}"
        row(
            "  time to first event p50 / p95",
            f"{percentile(firsts, 50):.0f} / {p95:.0f}",
            "ms",
            target if client == "h11" else "",
        )
        row(
            "  peer, the bare stack: p50 / p95",
            f"{percentile(floor_firsts, 50):.0f} / {floor_p95:.0f}",
            "ms",
        )
        row("  the service's p95 over the bare stack's", f"{p95 / floor_p95:.1f}", "×")
        for problem in sorted({r.error for r in [*results, *floor_results] if r.error})[:5]:
            print(f"    failure: {problem}")
        if client == "h11":
            primary, primary_total = results, total_s
    dones = [r.done_s for r in primary if r.completed and r.done_s is not None]
    row(
        "time to completion p50 / p95 (h11 run)",
        f"{percentile(dones, 50):.1f} / {percentile(dones, 95):.1f}",
        "s",
    )
    row("total time, all streams (h11 run)", f"{primary_total:.1f}", "s")
    peak = server.peak_rss_mb()
    row(
        "server peak RSS after the streams (VmHWM)",
        f"{peak:.0f}",
        "MB",
        f"< {TARGET_RSS_MB:.0f} MB: {verdict(peak < TARGET_RSS_MB)}",
    )
