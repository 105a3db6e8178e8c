"""Part 3: the OpenRouter model against the fake, retrieval-bounded map beside a full scan:
model calls, prompt tokens, wall time and recall of the planted posts."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from querybench.clients import ask
from querybench.corpus_cache import Corpus
from querybench.plan import (
    BENCH_QUESTIONS,
    PHASE_MODELS,
    PHASE_NAMES,
    TARGET_RECALL,
    TARGET_TOKEN_RATIO,
)
from querybench.processes import serving
from querybench.report import log, row, verdict
from querybench.responder import make_responder, posts_shown, user_text


@dataclass
class ConfigFigures:
    label: str
    queries: int = 0
    calls: list[int] = field(default_factory=list)
    map_calls: list[int] = field(default_factory=list)
    map_posts: list[int] = field(default_factory=list)
    usage_prompt: list[int] = field(default_factory=list)
    recorded_prompt: list[int] = field(default_factory=list)
    recorded_chars: list[int] = field(default_factory=list)
    completion: list[int] = field(default_factory=list)
    wall_s: list[float] = field(default_factory=list)
    recall_map: list[float] = field(default_factory=list)
    recall_answer: list[float] = field(default_factory=list)
    errors: int = 0
    max_in_flight: int = 0
    calls_by_phase: Counter[str] = field(default_factory=Counter)
    missed: Counter[int] = field(default_factory=Counter)  # planted id -> queries it was not shown
    shown_by_expert: Counter[str] = field(default_factory=Counter)  # planted posts shown


def words(text: str) -> int:
    # The fake counts a token per whitespace-separated word, and so do we, to check its usage.
    return len(text.split())


def run_config(
    database: Path,
    folder: Path,
    fake: Any,
    planted_by_expert: dict[str, list[int]],
    figures: ConfigFigures,
    questions: tuple[str, ...],
    settings: dict[str, str],
    extra: dict[str, Any],
    timeout_s: float,
) -> None:
    planted = {i for ids in planted_by_expert.values() for i in ids}
    env = {
        "OPENROUTER_API_KEY": "bench-fake-key",
        "OPENROUTER_BASE_URL": fake.base_url,
        "DAILY_TOKEN_BUDGET": "0",  # a full scan spends millions; no fallback to the embedded
        **PHASE_MODELS,
        **settings,
    }
    with serving(database, folder, figures.label.split()[0], settings=env) as server:
        # Warm up the vector caches with a one-post query, so wall times compare the map.
        ask(server.url, {"query": "warm up", "stream_progress": False, "max_posts": 1}, 120)
        for question in questions:
            before = len(fake.requests)
            elapsed, body = ask(
                server.url, {"query": question, "stream_progress": False, **extra}, timeout_s
            )
            recorded = fake.requests[before:]
            maps = [r for r in recorded if r.model == PHASE_MODELS["MODEL_MAP"]]
            shown = {i for r in maps for i, _, _ in posts_shown(user_text(r.body))}
            cited = {i for e in body["expert_responses"] for i in e["main_sources"]}
            figures.queries += 1
            figures.calls.append(body["usage"]["model_calls"])
            figures.map_calls.append(len(maps))
            figures.map_posts.append(sum(len(posts_shown(user_text(r.body))) for r in maps))
            figures.usage_prompt.append(body["usage"]["prompt_tokens"])
            figures.completion.append(body["usage"]["completion_tokens"])
            figures.recorded_prompt.append(
                sum(words(str(m["content"])) for r in recorded for m in r.messages)
            )
            figures.recorded_chars.append(
                sum(len(str(m["content"])) for r in recorded for m in r.messages)
            )
            figures.wall_s.append(elapsed)
            # HIGH in map = shown to map and planted: the responder's verdict rule.
            figures.recall_map.append(len(shown & planted) / len(planted))
            figures.recall_answer.append(len(cited & planted) / len(planted))
            figures.missed.update(planted - shown)
            for expert, ids in planted_by_expert.items():
                figures.shown_by_expert[expert] += len(shown & set(ids))
            figures.errors += len(body["errors"])
            figures.calls_by_phase.update(PHASE_NAMES.get(r.model, r.model) for r in recorded)
    figures.max_in_flight = fake.max_in_flight


def bench_openrouter(
    corpus: Corpus, database: Path, folder: Path, latency_s: float, queries: int, full_queries: int
) -> None:
    from tests.support.fake_openai import FakeOpenAI

    planted = corpus.planted
    posts = corpus.manifest["parameters"]["spec"]["posts"]
    retrieval = ConfigFigures("retrieval (a)")
    scan = ConfigFigures("full-scan (b)")
    with FakeOpenAI(responder=make_responder(corpus.planted_ids), latency_s=latency_s) as fake:
        log(f"OpenRouter (a): retrieval-bounded map, {queries} queries")
        run_config(
            database, folder, fake, planted, retrieval, BENCH_QUESTIONS[:queries], {}, {}, 120
        )
        log(f"OpenRouter (b): full scan, {full_queries} queries of ~{3 * posts // 100} map calls")
        # MAP_CANDIDATES cannot go past 2000 (settings refuse it), so the scan asks for every
        # post through the request's max_posts, which the map phase takes first.
        run_config(
            database,
            folder,
            fake,
            planted,
            scan,
            BENCH_QUESTIONS[:full_queries],
            {"MAX_POSTS_LIMIT": str(posts), "CHUNK_SIZE": "100"},
            {"max_posts": posts},
            280,
        )
    print(
        "  (a) the defaults: MAP_CANDIDATES=60 posts per expert from hybrid retrieval, "
        "CHUNK_SIZE=100"
    )
    print(
        f"  (b) the original design: every post to the map in chunks of 100 (MAX_POSTS_LIMIT="
        f"{posts}, CHUNK_SIZE=100, request max_posts={posts}; MAP_CANDIDATES is capped at 2000 "
        f"by the settings)"
    )
    print(f"  per query, mean of {retrieval.queries} (a) and {scan.queries} (b) queries:")
    print(f"  {'':<44} {'(a)':>12} {'(b)':>12}")

    def pair(label: str, a: Sequence[float], b: Sequence[float], fmt: str, unit: str) -> None:
        print(
            f"  {label:<44} {format(statistics.mean(a), fmt):>12} "
            f"{format(statistics.mean(b), fmt):>12} {unit}"
        )

    pair("model calls", retrieval.calls, scan.calls, ",.0f", "calls")
    pair("  of which map calls (recorded)", retrieval.map_calls, scan.map_calls, ",.0f", "calls")
    pair("posts shown to the map (recorded)", retrieval.map_posts, scan.map_posts, ",.0f", "posts")
    pair(
        "prompt tokens (response usage)",
        retrieval.usage_prompt,
        scan.usage_prompt,
        ",.0f",
        "tokens",
    )
    pair(
        "prompt tokens (counted in recorded requests)",
        retrieval.recorded_prompt,
        scan.recorded_prompt,
        ",.0f",
        "tokens",
    )
    pair(
        "prompt characters (recorded requests)",
        retrieval.recorded_chars,
        scan.recorded_chars,
        ",.0f",
        "chars",
    )
    pair(
        "completion tokens (response usage)",
        retrieval.completion,
        scan.completion,
        ",.0f",
        "tokens",
    )
    pair("wall time", retrieval.wall_s, scan.wall_s, ".2f", "s")
    pair("recall of planted posts: HIGH in map", retrieval.recall_map, scan.recall_map, ".3f", "")
    pair(
        "recall of planted posts: in main_sources",
        retrieval.recall_answer,
        scan.recall_answer,
        ".3f",
        "",
    )
    print(f"  {'expert errors':<44} {retrieval.errors:>12} {scan.errors:>12}")
    in_flight = (retrieval.max_in_flight, scan.max_in_flight)
    print(f"  {'model calls in flight at most':<44} {in_flight[0]:>12} {in_flight[1]:>12}")
    for figures in (retrieval, scan):
        each = ", ".join(
            f"{name} {count / figures.queries:g}" for name, count in figures.calls_by_phase.items()
        )
        print(f"  calls per query by phase, {figures.label}: {each}")
    for figures in (retrieval, scan):
        each = ", ".join(
            f"{expert} {figures.shown_by_expert[expert] / (len(ids) * figures.queries):.2f}"
            for expert, ids in planted.items()
        )
        print(f"  recall by expert, {figures.label}: {each}")
    missed = ", ".join(f"{i} ({n}×)" for i, n in sorted(retrieval.missed.items())) or "none"
    print(f"  planted posts retrieval did not hand to the map in (a): {missed}")
    ratio = statistics.mean(scan.usage_prompt) / statistics.mean(retrieval.usage_prompt)
    recall = statistics.mean(retrieval.recall_map)
    row(
        "prompt tokens, full scan ÷ retrieval",
        f"{ratio:.1f}",
        "×",
        f">= {TARGET_TOKEN_RATIO:.0f}×: {verdict(ratio >= TARGET_TOKEN_RATIO)}",
    )
    row(
        "recall with retrieval (HIGH in map)",
        f"{recall:.3f}",
        "",
        f">= {TARGET_RECALL}: {verdict(recall >= TARGET_RECALL)}",
    )
    print(
        f"  tokens are the fake's count (one per word, as its usage reports); the full scan ran "
        f"{scan.queries} quer{'y' if scan.queries == 1 else 'ies'} to bound the time"
    )
