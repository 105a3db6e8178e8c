"""Query speed, memory and model cost on a generated corpus of 3 experts × 10,000 posts.

Builds (once, then cached under `--cache`) three Telegram Desktop exports of 10,000 posts each,
Russian and English mixed, with their discussion groups (an automatic forwarded copy of every
post, three comments under a third of them), imports them with `experts-panel import
--comments` and indexes them with `experts-panel index`. Each expert carries ten planted posts
about backing up SQLite, worded differently and partly in the other language. Then:

1. `experts-panel index` throughput: posts embedded per second (measured by the build).
2. Embedded model (no key): `experts-panel serve`, sequential queries over all three experts;
   latency p50/p95 (target p50 under 500 ms) and the server's peak RSS (under 600 MB).
3. OpenRouter model against a fake OpenAI-compatible server (200 ms a call) that judges the
   planted posts HIGH: retrieval-bounded map (the default) beside a full scan of every post in
   chunks of 100; model calls, prompt tokens, wall time and recall of the planted posts
   (targets: at least 10× fewer prompt tokens with retrieval, recall at least 0.9).
4. 50 concurrent streaming queries (embedded model): time to the first event (p95 under
   200 ms) and to completion, beside the bare stack (`bench/sse_floor.py`) as a peer, read
   by a lean client (h11 on asyncio streams) and by httpx.

It prints figures and never fails on time; the machines are shared and noisy. The corpus is
rebuilt when its manifest differs: the generator's parameters, the text of the generator below,
the package and embedder versions, the migrations, or the stemming and embedding code. The build
takes minutes (mostly `index`); a run on the cached corpus about a minute on 2 cores.

    .venv/bin/python bench/query.py [--cache DIR] [--rebuild] [--queries 20] [--streams 50]
                                    [--model-queries 3] [--scan-queries 2] [--latency 0.2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from querybench.corpus import CorpusSpec, generate_corpus
from querybench.corpus_cache import copy_database, load_corpus
from querybench.embedded import bench_embedded
from querybench.openrouter import bench_openrouter
from querybench.plan import DEFAULT_CACHE
from querybench.processes import serving
from querybench.report import report_corpus, report_index, section
from querybench.streams import bench_streams

# --- main ---


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="built corpus folder")
    parser.add_argument("--rebuild", action="store_true", help="build the corpus again")
    parser.add_argument("--posts", type=int, default=10_000, help="posts per expert")
    parser.add_argument("--queries", type=int, default=20, help="sequential embedded queries")
    parser.add_argument("--streams", type=int, default=50, help="concurrent streaming queries")
    parser.add_argument(
        "--model-queries", type=int, default=3, choices=(1, 2, 3), help="queries in (a)"
    )
    parser.add_argument(
        "--scan-queries", type=int, default=2, choices=(1, 2, 3), help="queries in (b)"
    )
    parser.add_argument("--latency", type=float, default=0.2, help="fake model seconds a call")
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        type=lambda v: tuple(v.split("=", 1)),
        metavar="NAME=VALUE",
        help="a setting for the server under the streams (4), e.g. MAX_CONCURRENT_QUERIES=2",
    )
    parser.add_argument(
        "--only",
        type=lambda v: {int(x) for x in v.split(",")},
        default={2, 3, 4},
        metavar="2,3,4",
        help="measure only these parts (the corpus figures always print)",
    )
    parser.add_argument("--generate", nargs=2, metavar=("SPEC", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate_corpus(CorpusSpec(**json.loads(args.generate[0])), Path(args.generate[1]))
        return

    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # figures as they come
    started = time.perf_counter()
    cache = args.cache.resolve()
    corpus, cached = load_corpus(CorpusSpec(posts=args.posts), cache, args.rebuild)
    corpus_s = time.perf_counter() - started
    print(
        f"Experts Panel query benchmark ({datetime.now(UTC):%Y-%m-%d %H:%M UTC}, "
        f"{os.cpu_count()} CPUs)"
    )
    report_corpus(corpus, cached)
    report_index(corpus, cached)

    run_started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-query-") as tmp:
        folder = Path(tmp)
        # Servers write (token budget rows, maybe a migration): a copy, so the cache stays clean.
        database = folder / "experts.db"
        copy_database(corpus.database, database)

        def embedded() -> None:
            with serving(database, folder, "embedded") as server:
                bench_embedded(server, args.queries)

        def openrouter() -> None:
            bench_openrouter(
                corpus, database, folder, args.latency, args.model_queries, args.scan_queries
            )

        def streams() -> None:
            floor_app = [sys.executable, str(Path(__file__).with_name("sse_floor.py"))]
            with (
                serving(database, folder, "streams", settings=dict(args.setting)) as server,
                serving(database, folder, "floor", command=floor_app) as floor,
            ):
                bench_streams(server, args.streams, floor)

        parts = {
            2: (
                f"2. Embedded model (no key): {args.queries} sequential queries, "
                "3 experts each, JSON answers",
                embedded,
            ),
            3: (
                "3. OpenRouter model against a fake OpenAI-compatible server on loopback "
                f"({args.latency * 1000:.0f} ms a call; it judges the planted posts HIGH)",
                openrouter,
            ),
            4: (
                f"4. {args.streams} concurrent streaming queries (SSE, embedded model, "
                "a fresh server, beside the bare stack as a peer)",
                streams,
            ),
        }
        for number, (title, measure) in parts.items():
            if number in args.only:
                section(title, measure)
    run_s = time.perf_counter() - run_started
    print(
        f"\nWall time: corpus {'reused' if cached else 'built'} in {corpus_s:.0f} s, "
        f"measurements {run_s:.0f} s"
    )
    print(
        "Re-run: .venv/bin/python bench/query.py  (the corpus stays cached in "
        f"{cache}; --rebuild builds it again, --help lists the options)"
    )


if __name__ == "__main__":
    main()
