"""The report: progress on stderr, figures on stdout, a line each, and sections that say why
they could not be measured."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from querybench.processes import BenchError

if TYPE_CHECKING:  # corpus_cache reports its progress through this module
    from querybench.corpus_cache import Corpus


def log(message: str) -> None:
    """Progress goes to stderr, so stdout holds the figures alone."""
    print(f"· {message}", file=sys.stderr, flush=True)


def row(label: str, value: str, unit: str = "", target: str = "") -> None:
    shown = f"target: {target}" if target else ""
    print(f"  {label:<44} {value:>12} {unit:<10} {shown}".rstrip())


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report_corpus(corpus: Corpus, cached: bool) -> None:
    m = corpus.manifest
    spec = m["parameters"]["spec"]
    experts = m["experts"]
    posts = sum(e["posts"] for e in experts.values())
    russian = sum(e["russian_posts"] for e in experts.values())
    comments = sum(i["comments_added"] for i in m["imports"].values())
    unmatched = sum(i["unmatched_copies"] for i in m["imports"].values())
    print(
        f"Corpus: {spec['experts']} experts × {spec['posts']:,} posts ({posts:,} in all, "
        f"{russian / posts:.0%} Russian), {comments:,} comments under "
        f"{sum(e['commented_posts'] for e in experts.values()):,} posts, "
        f"{spec['planted']} planted relevant posts per expert, seed {spec['seed']}"
    )
    sqlite = sum(e["other_sqlite_posts"] for e in experts.values())
    backup = sum(e["other_backup_posts"] for e in experts.values())
    print(
        f"  hard negatives: {sqlite:,} other posts name SQLite, {backup:,} other posts talk "
        "of backups (of other things)"
    )
    state = "reused from the cache" if cached else "built now"
    print(
        f"  {state}: {corpus.database} (built {m['built_at']} in {m['build_s']:.0f} s: generate "
        f"{m['generate_s']:.0f} s, import "
        f"{sum(i['seconds'] for i in m['imports'].values()):.0f} s, index "
        f"{m['index']['seconds']:.0f} s); discussion copies unmatched: {unmatched}"
    )


def report_index(corpus: Corpus, cached: bool) -> None:
    index = corpus.manifest["index"]
    print("\n1. experts-panel index (full-text index and embeddings of every post)")
    if cached:
        built = corpus.manifest["built_at"]
        print(f"  measured when the corpus was built ({built}); --rebuild measures it again")
    row("posts embedded", f"{index['embedded']:,}", "posts")
    row("wall time of the command", f"{index['seconds']:.1f}", "s")
    row("throughput", f"{index['embedded'] / index['seconds']:.1f}", "posts/s", "none in the issue")
    row("peak RSS of the index process", f"{index['peak_rss_mb']:.0f}", "MB", "none in the issue")


def section(title: str, measure: Callable[[], None]) -> None:
    """A numbered part of the report; one that cannot be measured says why, the rest go on."""
    print(f"\n{title}")
    log(title)
    try:
        measure()
    except BenchError as exc:
        print(f"  NOT MEASURED: {exc}")
