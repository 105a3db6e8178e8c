"""Recall of the embedded model (no key) across languages, on a corpus written for it.

The corpus (`bench/recall/corpus/`, see its README) is three channels, Russian, English and
both, and five sets of questions (two halves, then three sets written later), each with the
posts that answer it marked, some that the experts never covered. For each version of the code
measured (this checkout, and with `--baseline REF` the code of a git revision beside it), the
bench:

1. writes the channels as Telegram Desktop exports, imports them into a fresh database with
   `experts-panel import` and indexes them with `experts-panel index`;
2. starts `experts-panel serve` on loopback with no key, and asks every question of the chosen
   halves of the whole panel (`stream_progress: false`), as a reader would;
3. scores the answer of the expert each question was put to: recall@k of its relevant posts
   among `main_sources` (k = the sources the answer shows, at most 5), split into questions asked
   in the language of their posts and in the other one; for the uncovered questions, the
   confidence and the number of sources; for the two other experts, who were asked about a field
   that is not theirs, the same (off-field answers);
4. pads each expert to `--scale` posts (10,000) with generated filler in its languages, on
   topics none of the three writes about (`bench/query.py`'s generator: software, teams,
   pricing, a few personal notes), builds that database once (cached under `.cache/bench-recall`
   by the code that decides what the index holds), and asks the same questions of a fresh
   server over it: p50 latency of the whole panel's answer, the server's peak RSS, and recall
   again at that scale.

It prints figures beside the issue's targets and never fails on them: the machine is shared and
noisy. Run from the repository root:

    .venv/bin/python bench/recall.py                          # both halves, this checkout
    .venv/bin/python bench/recall.py --half heldout --baseline f4affa1   # before and after
    .venv/bin/python bench/recall.py --half late --baseline 8213846      # the third set
    .venv/bin/python bench/recall.py --half final --baseline 63e83c6     # the fourth set
    .venv/bin/python bench/recall.py --half fifth --baseline 63e83c6     # and the fifth
    .venv/bin/python bench/recall.py --half tuning --scale 0 --detail    # fast, per question
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import httpx
from querybench.corpus import ExpertSpec, compose, tg_message
from querybench.corpus_cache import copy_database, generator_fingerprint
from querybench.processes import database_env, run_measured, serving
from querybench.report import log, verdict
from querybench.stats import percentile

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "bench" / "recall" / "corpus"
DEFAULT_CACHE = ROOT / ".cache" / "bench-recall"

# Targets from the issue, printed beside the figures.
TARGET_CROSS_RECALL = 0.7
TARGET_GAP = 0.1
TARGET_P50_MS = 500.0
TARGET_RSS_GROWTH_MB = 100.0
MAX_SOURCES = 5  # k is the number of sources the answer shows, at most this many

Kind = Literal["same", "cross", "uncovered"]
Half = Literal["tuning", "heldout", "late", "final", "fifth"]


# --- the corpus ---


@dataclass(frozen=True)
class CorpusPost:
    id: int
    date: str
    language: str
    text: str


@dataclass(frozen=True)
class CorpusExpert:
    expert_id: str
    name: str
    username: str
    channel_id: int
    writes_in: str
    posts: tuple[CorpusPost, ...]

    def language_of(self, post_id: int) -> str:
        return next(p.language for p in self.posts if p.id == post_id)


@dataclass(frozen=True)
class Question:
    id: str
    half: Half
    expert: str
    language: str
    question: str
    relevant: tuple[int, ...]
    kind: Kind


def read_experts() -> dict[str, CorpusExpert]:
    experts = {}
    for path in sorted((CORPUS / "experts").glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        posts = tuple(CorpusPost(**p) for p in raw.pop("posts"))
        expert = CorpusExpert(posts=posts, **raw)
        experts[expert.expert_id] = expert
    return experts


def read_questions(experts: dict[str, CorpusExpert], half: Half) -> list[Question]:
    raw = json.loads((CORPUS / "questions" / f"{half}.json").read_text(encoding="utf-8"))
    out = []
    for q in raw:
        expert = experts[q["expert"]]
        languages = {expert.language_of(p) for p in q["relevant"]}
        if len(languages) > 1:
            raise SystemExit(f"question {q['id']}: its relevant posts are in several languages")
        kind: Kind = (
            "uncovered" if not languages else "same" if q["language"] in languages else "cross"
        )
        out.append(
            Question(
                id=q["id"],
                half=half,
                expert=q["expert"],
                language=q["language"],
                question=q["question"],
                relevant=tuple(q["relevant"]),
                kind=kind,
            )
        )
    return out


def corpus_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted((CORPUS / "experts").glob("*.json")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# --- exports: the corpus, and the filler that pads it ---

FILLER_FIRST_ID = 1_000_001  # above every corpus id
FILLER_START = datetime(2019, 1, 1, 8, tzinfo=UTC)
FILLER_SPAN_DAYS = 6 * 365  # to mid-2025, interleaved in time with the corpus
FILLER_TOPICS = {
    "llm": 3,
    "prompts": 2,
    "pricing": 2,
    "deploy": 2,
    "monitoring": 2,
    "team": 2,
    "frontend": 1,
    "databases": 1,
    "security": 1,
    "costs": 1,
    "personal": 1,
}
RUSSIAN_SHARE = {"ru": 1.0, "en": 0.0, "mixed": 0.5}


def filler_posts(expert: CorpusExpert, count: int, seed: int) -> list[dict[str, Any]]:
    """`count` generated posts in the expert's languages, on topics it never writes about."""
    rng = random.Random(f"{seed}-{expert.expert_id}")
    spec = ExpertSpec(
        expert.expert_id,
        expert.name,
        expert.username,
        expert.channel_id,
        0,
        RUSSIAN_SHARE[expert.writes_in],
        FILLER_TOPICS,
    )
    author_id = f"channel{expert.channel_id}"
    out = []
    for n in range(count):
        body, _ = compose(rng, spec)
        when = FILLER_START + timedelta(minutes=rng.randrange(FILLER_SPAN_DAYS * 24 * 60))
        out.append(tg_message(FILLER_FIRST_ID + n, when, body, expert.name, author_id))
    return out


def export(expert: CorpusExpert, filler: int, seed: int) -> dict[str, Any]:
    """The channel as Telegram Desktop exports it: its posts, and `filler` generated ones."""
    author_id = f"channel{expert.channel_id}"
    messages = [
        tg_message(
            p.id,
            datetime.fromisoformat(p.date).replace(tzinfo=UTC),
            p.text,
            expert.name,
            author_id,
        )
        for p in expert.posts
    ]
    messages += filler_posts(expert, filler, seed)
    return {
        "name": expert.name,
        "type": "public_channel",
        "id": expert.channel_id,
        "messages": messages,
    }


# --- the code under test ---


@dataclass(frozen=True)
class Side:
    """A version of the code: this checkout, or a git revision's `app/` unpacked beside it."""

    label: str
    app: Path  # the folder holding the `experts_panel` package

    def env(self) -> dict[str, str]:
        # The unpacked package comes before the installed (editable) one on sys.path.
        return {"PYTHONPATH": str(self.app)}

    def cli(self) -> list[str]:
        return [sys.executable, "-m", "experts_panel.cli"]

    def index_fingerprint(self) -> str:
        """What a built database depends on in this version: its migrations, and the code that
        imports posts and decides what the index holds."""
        package = self.app / "experts_panel"
        digest = hashlib.sha256()
        files = [
            *sorted((package / "db" / "sql").glob("*.sql")),
            *sorted((package / "retrieval").glob("*.py")),
            *sorted((package / "telegram").glob("*.py")),
            *sorted((package / "importing").glob("*.py")),
            # where the import side lived before `importing/`, for older versions
            package / "importer.py",
            package / "post_rows.py",
        ]
        for path in files:
            if path.exists():
                digest.update(path.name.encode())
                digest.update(path.read_bytes())
        return digest.hexdigest()[:16]


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def this_checkout() -> Side:
    head = git("rev-parse", "--short", "HEAD")
    changed = git("status", "--porcelain", "--", "app")
    return Side(f"{head}{' + changes' if changed else ''}", ROOT / "app")


@contextmanager
def baseline(ref: str) -> Iterator[Side]:
    """The `app/` folder of a revision, unpacked into a temporary folder."""
    short = git("rev-parse", "--short", ref)
    with tempfile.TemporaryDirectory(prefix="bench-recall-base-") as tmp:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", ref, "app"], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        yield Side(short, Path(tmp) / "app")


# --- building a database ---


def build_database(side: Side, folder: Path, filler: int, seed: int) -> Path:
    """Import and index the corpus (padded with `filler` posts an expert) into a new database."""
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "experts.db"
    env = database_env(database, **side.env())
    for expert in read_experts().values():
        path = folder / f"{expert.expert_id}.json"
        path.write_text(
            json.dumps(export(expert, filler, seed), ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
        run_measured(
            [
                *side.cli(),
                "import",
                str(path),
                "--expert",
                expert.expert_id,
                "--username",
                expert.username,
                "--json",
            ],
            env,
            900,
            folder / f"import-{expert.expert_id}.out",
        )
        path.unlink()  # the exports of the padded corpus are large; the database is what stays
    run_measured([*side.cli(), "index"], env, 7200, folder / "index.out")
    return database


def filler_count(scale: int) -> int:
    return max(0, scale - max(len(e.posts) for e in read_experts().values()))


def padded_key(filler: int, seed: int) -> str:
    """What the padded corpus depends on: the corpus, the filler and its generator."""
    parts = [corpus_fingerprint(), generator_fingerprint(), filler, seed, FILLER_TOPICS]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def padded_database(side: Side, cache: Path, scale: int, seed: int, rebuild: bool) -> Path:
    """The corpus padded to `scale` posts an expert, indexed by this version of the code.

    Embedding 30,000 posts takes long, so it is done once: the first version to need the padded
    corpus imports and indexes it (`base.db`); each version then indexes a copy of it with its
    own code, which redoes only what that code indexes differently (`index` is incremental).
    """
    filler = filler_count(scale)
    folder = cache / padded_key(filler, seed)
    base, base_done = folder / "base.db", folder / "base.json"
    if rebuild or not (base.exists() and base_done.exists()):
        log(f"{side.label}: building the padded corpus ({scale:,} posts an expert; slow)")
        started = time.perf_counter()
        if folder.exists():
            shutil.rmtree(folder)
        build_database(side, folder / "build", filler, seed)
        copy_database(folder / "build" / "experts.db", base)
        shutil.rmtree(folder / "build")
        base_done.write_text(
            json.dumps({"seconds": round(time.perf_counter() - started), "by": side.label}),
            encoding="utf-8",
        )
    database = folder / f"{side.index_fingerprint()}.db"
    done = database.with_suffix(".json")
    if database.exists() and done.exists():
        log(f"{side.label}: reusing {database}")
        return database
    log(f"{side.label}: indexing a copy of the padded corpus with this code")
    started = time.perf_counter()
    copy_database(base, database)
    run_measured(
        [*side.cli(), "index"],
        database_env(database, **side.env()),
        7200,
        folder / f"index-{side.label.split()[0]}.out",
    )
    done.write_text(
        json.dumps({"seconds": round(time.perf_counter() - started), "side": side.label}),
        encoding="utf-8",
    )
    return database


# --- asking ---


@dataclass
class ExpertAnswer:
    sources: list[int]
    confidence: str


@dataclass
class Asked:
    question: Question
    seconds: float
    answers: dict[str, ExpertAnswer]  # by expert id


def ask_all(url: str, questions: list[Question]) -> list[Asked]:
    out = []
    with httpx.Client(timeout=180) as client:
        for q in questions:
            started = time.perf_counter()
            response = client.post(
                f"{url}/api/v1/query", json={"query": q.question, "stream_progress": False}
            )
            seconds = time.perf_counter() - started
            if response.status_code != 200:
                raise SystemExit(f"{q.id}: HTTP {response.status_code}: {response.text[:500]}")
            body = response.json()
            if body["errors"]:
                raise SystemExit(f"{q.id}: experts failed: {body['errors']}")
            answers = {
                r["expert_id"]: ExpertAnswer(r["main_sources"][:MAX_SOURCES], r["confidence"])
                for r in body["expert_responses"]
            }
            out.append(Asked(q, seconds, answers))
    return out


@dataclass
class Run:
    """One server's answers to the chosen questions, and what the server cost."""

    asked: list[Asked]
    peak_rss_mb: float
    startup_s: float
    warm_up_s: float


def serve_and_ask(side: Side, database: Path, questions: list[Question], label: str) -> Run:
    with tempfile.TemporaryDirectory(prefix="bench-recall-serve-") as tmp:
        folder = Path(tmp)
        # Servers write (token usage, perhaps a migration): a copy keeps the build clean.
        copy = folder / "experts.db"
        copy_database(database, copy)
        command = [*side.cli(), "serve"]
        with serving(copy, folder, label, command=command, settings=side.env()) as server:
            started = time.perf_counter()
            with httpx.Client(timeout=180) as client:
                client.post(
                    f"{server.url}/api/v1/query",
                    json={"query": "warm up the caches", "stream_progress": False},
                ).raise_for_status()
            warm_up = time.perf_counter() - started
            asked = ask_all(server.url, questions)
            return Run(asked, server.peak_rss_mb(), server.startup_s, warm_up)


# --- scoring ---


@dataclass
class Scores:
    recall: dict[str, list[float]] = field(default_factory=dict)  # kind -> one per question
    shown: list[int] = field(default_factory=list)  # sources shown, covered questions
    precise: list[float] = field(default_factory=list)  # share of shown sources relevant
    uncovered: list[ExpertAnswer] = field(default_factory=list)
    off_field: list[ExpertAnswer] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    detail: list[str] = field(default_factory=list)

    def mean(self, kind: str) -> float:
        values = self.recall.get(kind, [])
        return statistics.fmean(values) if values else float("nan")


def score(run: Run) -> Scores:
    s = Scores()
    for asked in run.asked:
        q = asked.question
        s.seconds.append(asked.seconds)
        answer = asked.answers.get(q.expert)
        if answer is None:
            raise SystemExit(f"{q.id}: no answer from {q.expert}")
        for other, theirs in asked.answers.items():
            if other != q.expert:
                s.off_field.append(theirs)
        if q.kind == "uncovered":
            s.uncovered.append(answer)
            s.detail.append(
                f"  {q.id} {q.language} uncovered {answer.confidence:<6} "
                f"{len(answer.sources)} sources {answer.sources}  {q.question}"
            )
            continue
        hits = len(set(answer.sources) & set(q.relevant))
        recall = hits / min(len(q.relevant), MAX_SOURCES)
        s.recall.setdefault(q.kind, []).append(recall)
        s.shown.append(len(answer.sources))
        if answer.sources:
            s.precise.append(hits / len(answer.sources))
        s.detail.append(
            f"  {q.id} {q.language} {q.kind:<9} recall {recall:.2f} {answer.confidence:<6} "
            f"shown {answer.sources} relevant {list(q.relevant)}  {q.question}"
        )
    return s


# --- the table ---


def fmt(value: float, digits: int = 2) -> str:
    return "n/a" if value != value else f"{value:.{digits}f}"


def confidences(answers: list[ExpertAnswer]) -> str:
    counts = Counter(a.confidence for a in answers)
    return " ".join(f"{c}×{counts[c]}" for c in ("LOW", "MEDIUM", "HIGH") if counts[c]) or "-"


def sources_figure(answers: list[ExpertAnswer]) -> str:
    if not answers:
        return "-"
    counts = [len(a.sources) for a in answers]
    return f"{statistics.fmean(counts):.1f} / {max(counts)}"


def print_table(
    title: str,
    columns: list[str],
    rows: list[tuple[str, list[str], str]],
) -> None:
    print(f"\n{title}")
    width = max(14, *(len(c) for c in columns))
    header = f"  {'':<46}" + "".join(f"{c:>{width + 2}}" for c in columns)
    print(header.rstrip())
    for label, values, target in rows:
        line = f"  {label:<46}" + "".join(f"{v:>{width + 2}}" for v in values)
        print(f"{line}   {target}".rstrip() if target else line)


def recall_rows(
    small: list[Scores], counts: dict[str, int], before: Scores | None, off_field: bool = True
) -> list[tuple[str, list[str], str]]:
    same = [s.mean("same") for s in small]
    cross = [s.mean("cross") for s in small]
    gap = [a - b for a, b in zip(same, cross, strict=True)]
    last = small[-1]
    same_target = ""
    if before is not None:
        ok = last.mean("same") >= before.mean("same") - 1e-9
        same_target = f"target: not below before's: {verdict(ok)}"
    rows = [
        (
            f"same-language recall@k ({counts['same']} questions)",
            [fmt(v) for v in same],
            same_target,
        ),
        (
            f"cross-language recall@k ({counts['cross']} questions)",
            [fmt(v) for v in cross],
            f"target: >= {TARGET_CROSS_RECALL}: {verdict(cross[-1] >= TARGET_CROSS_RECALL)}",
        ),
        (
            "  same minus cross",
            [fmt(v) for v in gap],
            f"target: <= {TARGET_GAP}: {verdict(gap[-1] <= TARGET_GAP + 1e-9)}",
        ),
        (
            "  sources shown a covered answer (mean)",
            [fmt(statistics.fmean(s.shown) if s.shown else float("nan"), 1) for s in small],
            "",
        ),
        (
            "  shown sources that are relevant",
            [fmt(statistics.fmean(s.precise) if s.precise else float("nan")) for s in small],
            "",
        ),
    ]
    ok = all(a.confidence == "LOW" and len(a.sources) <= 1 for a in last.uncovered)
    rows += [
        (
            f"uncovered ({counts['uncovered']}): confidence",
            [confidences(s.uncovered) for s in small],
            f"target: all LOW, <= 1 source: {verdict(ok)}",
        ),
        ("  sources: mean / max", [sources_figure(s.uncovered) for s in small], ""),
    ]
    if not off_field:
        return rows
    rows += [
        (
            f"off-field ({len(last.off_field)} answers of the other experts)",
            [confidences(s.off_field) for s in small],
            "",
        ),
        ("  sources: mean / max", [sources_figure(s.off_field) for s in small], ""),
    ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--half",
        choices=("tuning", "heldout", "late", "final", "fifth", "both", "all"),
        default="both",
        help="questions to ask (both: tuning and heldout; all: the five sets)",
    )
    parser.add_argument("--baseline", metavar="REF", help="also measure the code of this revision")
    parser.add_argument(
        "--scale", type=int, default=10_000, help="posts an expert for latency (0: skip)"
    )
    parser.add_argument("--seed", type=int, default=19, help="filler generator seed")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="padded databases")
    parser.add_argument("--rebuild", action="store_true", help="build the padded ones again")
    parser.add_argument(
        "--skip-small", action="store_true", help="only the padded corpus (needs --scale)"
    )
    parser.add_argument("--detail", action="store_true", help="print every question's answer")
    parser.add_argument("--json", type=Path, help="write the figures to this file too")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # figures as they come

    experts = read_experts()
    sets: dict[str, list[Half]] = {
        "both": ["tuning", "heldout"],
        "all": ["tuning", "heldout", "late", "final", "fifth"],
    }
    halves: list[Half] = sets.get(args.half) or [args.half]
    print(
        f"Experts Panel recall benchmark, embedded model ({datetime.now(UTC):%Y-%m-%d %H:%M UTC}, "
        f"{os.cpu_count()} CPUs)"
    )
    print(
        "Corpus: "
        + ", ".join(
            f"{e.expert_id} ({len(e.posts)} posts, {e.writes_in})" for e in experts.values()
        )
    )

    with contextmanager_or_none(args.baseline) as before_side:
        sides = [s for s in (before_side, this_checkout()) if s is not None]
        columns = [
            (f"before ({s.label})" if before_side is not None and i == 0 else f"this ({s.label})")
            for i, s in enumerate(sides)
        ]
        all_questions = [q for h in halves for q in read_questions(experts, h)]
        small: dict[str, Run] = {}
        padded: dict[str, Run] = {}
        for side in sides:
            if not args.skip_small:
                log(f"{side.label}: import and index the corpus into a fresh database")
                with tempfile.TemporaryDirectory(prefix="bench-recall-") as tmp:
                    database = build_database(side, Path(tmp) / "db", 0, args.seed)
                    log(f"{side.label}: asking {len(all_questions)} questions")
                    small[side.label] = serve_and_ask(side, database, all_questions, "small")
            if args.scale:
                big = padded_database(
                    side, args.cache.resolve(), args.scale, args.seed, args.rebuild
                )
                log(f"{side.label}: asking {len(all_questions)} questions at {args.scale:,} posts")
                padded[side.label] = serve_and_ask(side, big, all_questions, "padded")

        figures: dict[str, Any] = {}
        for half in halves:
            chosen = {q.id for q in read_questions(experts, half)}

            def only(run: Run, chosen: set[str] = chosen) -> Run:
                asked = [a for a in run.asked if a.question.id in chosen]
                return Run(asked, run.peak_rss_mb, run.startup_s, run.warm_up_s)

            counts: Counter[str] = Counter(q.kind for q in read_questions(experts, half))
            figures[half] = {}
            if small:
                scored = [score(only(small[s.label])) for s in sides]
                before = scored[0] if before_side is not None else None
                rows = recall_rows(scored, counts, before)
                title = (
                    f"{half} half ({sum(counts.values())} questions), fresh database with the "
                    f"corpus alone; k = sources the answer shows (at most {MAX_SOURCES})"
                )
                print_table(title, columns, rows)
                if args.detail:
                    for side, s in zip(sides, scored, strict=True):
                        print(f"\n  {half}, {side.label}, per question:")
                        print("\n".join(s.detail))
                figures[half] = {
                    side.label: {
                        "same": s.mean("same"),
                        "cross": s.mean("cross"),
                        "uncovered": [(a.confidence, len(a.sources)) for a in s.uncovered],
                    }
                    for side, s in zip(sides, scored, strict=True)
                }
            if padded:
                big_scored = [score(only(padded[s.label])) for s in sides]
                p50 = [percentile([x * 1000 for x in s.seconds], 50) for s in big_scored]
                big_before = big_scored[0] if before_side is not None else None
                big_rows = recall_rows(big_scored, counts, big_before, off_field=False)
                big_rows += [
                    (
                        "p50 latency, the whole panel's answer (ms)",
                        [fmt(v, 0) for v in p50],
                        f"target: < {TARGET_P50_MS:.0f}: {verdict(p50[-1] < TARGET_P50_MS)}",
                    ),
                    (
                        "p95 latency (ms)",
                        [fmt(percentile([x * 1000 for x in s.seconds], 95), 0) for s in big_scored],
                        "",
                    ),
                ]
                print_table(
                    f"{half} half at {args.scale:,} posts an expert (corpus + filler), "
                    "3 experts a question",
                    columns,
                    big_rows,
                )
                figures[half]["padded_p50_ms"] = dict(
                    zip([s.label for s in sides], p50, strict=True)
                )
        if padded:
            rss = [padded[s.label].peak_rss_mb for s in sides]
            rows = [
                (
                    f"server peak RSS at {args.scale:,} posts an expert (MB)",
                    [fmt(v, 0) for v in rss],
                    (
                        f"target: growth <= {TARGET_RSS_GROWTH_MB:.0f}: "
                        f"{verdict(rss[-1] - rss[0] <= TARGET_RSS_GROWTH_MB)}"
                        if before_side is not None
                        else ""
                    ),
                ),
                (
                    "server start-up / first query (s)",
                    [
                        f"{padded[s.label].startup_s:.1f} / {padded[s.label].warm_up_s:.1f}"
                        for s in sides
                    ],
                    "",
                ),
            ]
            print_table("The server", columns, rows)
            figures["peak_rss_mb"] = dict(zip([s.label for s in sides], rss, strict=True))
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    print("\nRe-run: .venv/bin/python bench/recall.py " + " ".join(a for a in sys.argv[1:]))


@contextmanager
def contextmanager_or_none(ref: str | None) -> Iterator[Side | None]:
    if ref is None:
        yield None
        return
    with baseline(ref) as side:
        yield side


if __name__ == "__main__":
    main()
