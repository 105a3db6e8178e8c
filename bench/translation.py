"""What translating a post for a reader costs: prompt and completion tokens per post.

Against the fake OpenAI-compatible server on loopback (tests/support/fake_openai.py, whose
translation is the source marked with the language), with the bundled demo experts: every post
is asked for once in the other reader language (`GET /api/v1/posts/{id}?language=`: English for
a Russian post, Russian for an English one), then all of them again, which the cache must
answer without a call. The fake counts a token per word, of the request's messages and of its
answer, so the figures are words: what the prompt adds to the post, and how the cost grows
with the post's length, not a provider's bill (a tokenizer counts Cyrillic at two to three
tokens a word).

It prints a row per post and the totals, and never fails on them.

    .venv/bin/python bench/translation.py [--expert selfhost_ops] [--comments]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from querybench.processes import BenchError, serving
from querybench.report import log, row

from experts_panel.language import detect_language

# `querybench` put the checkout on the path: the fake server and the demo database live with
# the tests.
from tests.support import demo_db
from tests.support.fake_openai import PHASE_MODELS, FakeOpenAI, phase_answer


@dataclass(frozen=True)
class Asked:
    expert_id: str
    post_id: int
    chars: int
    language: str
    status: str
    reason: str | None
    calls: int
    ms: float


def posts_of(database: Path, expert: str | None) -> list[tuple[str, int, str]]:
    conn = sqlite3.connect(database)
    try:
        rows = conn.execute(
            "SELECT expert_id, telegram_message_id, text FROM posts "
            "WHERE ? IS NULL OR expert_id = ? ORDER BY expert_id, telegram_message_id",
            (expert, expert),
        ).fetchall()
    finally:
        conn.close()
    return [(str(e), int(i), str(t)) for e, i, t in rows]


def other_language(text: str) -> str:
    """The reader language the post is not in, by the service's own detection."""
    return "ru" if detect_language(text) == "en" else "en"


def ask_all(
    url: str, fake: FakeOpenAI, posts: list[tuple[str, int, str]], comments: bool
) -> list[Asked]:
    asked = []
    with httpx.Client(timeout=120) as client:
        for expert_id, post_id, text in posts:
            language = other_language(text)
            params: dict[str, Any] = {"expert_id": expert_id, "language": language}
            if comments:
                params["translate_comments"] = "true"
            before = len(fake.requests)
            started = time.perf_counter()
            response = client.get(f"{url}/api/v1/posts/{post_id}", params=params)
            ms = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise BenchError(f"post {expert_id}/{post_id}: {response.status_code}")
            about = response.json()["translation"]
            asked.append(
                Asked(
                    expert_id,
                    post_id,
                    len(text),
                    language,
                    about["status"],
                    about["reason"],
                    len(fake.requests) - before,
                    ms,
                )
            )
    return asked


def recorded_tokens(database: Path) -> dict[tuple[str, str, int], tuple[int, int]]:
    conn = sqlite3.connect(database)
    try:
        rows = conn.execute(
            "SELECT expert_id, kind, telegram_message_id, prompt_tokens, completion_tokens "
            "FROM translations"
        ).fetchall()
    finally:
        conn.close()
    return {(str(e), str(k), int(i)): (int(p), int(c)) for e, k, i, p, c in rows}


def budget_counted(database: Path) -> tuple[int, int, int]:
    conn = sqlite3.connect(database)
    try:
        found = conn.execute(
            "SELECT sum(model_calls), sum(prompt_tokens), sum(completion_tokens) FROM token_usage"
        ).fetchone()
    finally:
        conn.close()
    return int(found[0] or 0), int(found[1] or 0), int(found[2] or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--expert", help="only this expert's posts (default: every demo expert)")
    parser.add_argument(
        "--comments", action="store_true", help="translate each post's comments too"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-translation-") as scratch:
        folder = Path(scratch)
        log("building the demo database")
        database = demo_db.build(folder)
        posts = posts_of(database, args.expert)
        if not posts:
            raise BenchError(f"no posts for {args.expert!r}")
        with FakeOpenAI(responder=phase_answer) as fake:
            settings = {
                "OPENROUTER_API_KEY": "sk-bench",
                "OPENROUTER_BASE_URL": fake.base_url,
                **PHASE_MODELS,
            }
            with serving(database, folder, "translation", settings=settings) as server:
                log(f"asking for {len(posts)} posts in the other language")
                first = ask_all(server.url, fake, posts, args.comments)
                log("asking for them again")
                again = ask_all(server.url, fake, posts, args.comments)
        tokens = recorded_tokens(database)
        counted = budget_counted(database)

    print("Translation of posts for readers, against the fake model (a token per word)")
    print(f"  {'post':<22} {'chars':>6} {'to':>3} {'status':<26} {'prompt':>7} {'completion':>10}")
    translated = []
    for one in first:
        spent = tokens.get((one.expert_id, "post", one.post_id))
        status = one.status if one.reason is None else f"{one.status}:{one.reason}"
        prompt, completion = spent if spent else (0, 0)
        if spent and one.status == "translated":
            translated.append((one.chars, prompt, completion))
        print(
            f"  {one.expert_id + '/' + str(one.post_id):<22} {one.chars:>6} {one.language:>3} "
            f"{status:<26} {prompt:>7} {completion:>10}"
        )
    print()
    if translated:
        prompts = [p for _, p, _ in translated]
        completions = [c for _, _, c in translated]
        chars = [c for c, _, _ in translated]
        row("posts translated", f"{len(translated)}", f"of {len(first)}")
        row("prompt tokens per post, median", f"{statistics.median(prompts):.0f}")
        row("prompt tokens per post, max", f"{max(prompts)}")
        row("completion tokens per post, median", f"{statistics.median(completions):.0f}")
        row("completion tokens per post, max", f"{max(completions)}")
        row("prompt tokens per 1,000 characters", f"{1000 * sum(prompts) / sum(chars):.0f}")
        row("prompt + completion, all posts", f"{sum(prompts) + sum(completions):,}")
    comment_rows = [v for k, v in tokens.items() if k[1] == "comment"]
    if comment_rows:
        row("comments translated", f"{len(comment_rows)}")
        row("comment prompt + completion, all", f"{sum(p + c for p, c in comment_rows):,}")
    calls, prompt_sum, completion_sum = counted
    row("counted in token_usage (calls)", f"{calls}")
    row("counted in token_usage (tokens)", f"{prompt_sum + completion_sum:,}")
    first_ms = [a.ms for a in first if a.calls]
    if first_ms:
        row("request time with a call, median", f"{statistics.median(first_ms):.0f}", "ms")
    cached_ms = statistics.median(a.ms for a in again)
    row("request time from the cache, median", f"{cached_ms:.0f}", "ms")
    row("model calls on the second pass", f"{sum(a.calls for a in again)}", "", "0")


if __name__ == "__main__":
    try:
        main()
    except BenchError as exc:
        print(f"bench/translation.py: {exc}", file=sys.stderr)
        sys.exit(1)
