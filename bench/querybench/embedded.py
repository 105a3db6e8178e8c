"""Part 2: the embedded model (no key), sequential queries: latency and peak memory."""

from __future__ import annotations

from querybench.clients import ask
from querybench.plan import EMBEDDED_QUESTIONS, TARGET_P50_MS, TARGET_RSS_MB
from querybench.processes import Server
from querybench.report import row, verdict
from querybench.stats import percentile


def bench_embedded(server: Server, queries: int) -> None:
    row("server start-up to a healthy /health", f"{server.startup_s:.1f}", "s")
    warm_s, _ = ask(server.url, {"query": "warm up the caches", "stream_progress": False}, 120)
    row("first query (warm-up: vector caches load)", f"{warm_s * 1000:.0f}", "ms")
    latencies: list[float] = []
    inside: list[float] = []
    answered = errors = 0
    for i in range(queries):
        question = EMBEDDED_QUESTIONS[i % len(EMBEDDED_QUESTIONS)]
        elapsed, body = ask(server.url, {"query": question, "stream_progress": False}, 60)
        latencies.append(elapsed * 1000)
        inside.append(body["total_processing_time_ms"])
        answered += sum(1 for r in body["expert_responses"] if r["main_sources"])
        errors += len(body["errors"])
    p50 = percentile(latencies, 50)
    row(
        "latency p50",
        f"{p50:.0f}",
        "ms",
        f"< {TARGET_P50_MS:.0f} ms: {verdict(p50 < TARGET_P50_MS)}",
    )
    row("latency p95", f"{percentile(latencies, 95):.0f}", "ms")
    row("latency min / max", f"{min(latencies):.0f} / {max(latencies):.0f}", "ms")
    row("server-side processing p50", f"{percentile(inside, 50):.0f}", "ms")
    row("expert answers citing posts", f"{answered} of {3 * queries}", "answers")
    row("expert errors", f"{errors}", "errors")
    peak = server.peak_rss_mb()
    row(
        "server peak RSS (VmHWM, encoder and caches included)",
        f"{peak:.0f}",
        "MB",
        f"< {TARGET_RSS_MB:.0f} MB: {verdict(peak < TARGET_RSS_MB)}",
    )
