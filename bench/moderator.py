"""What the moderator adds to a query: tokens, model calls and time, with it off and on.

The demo experts (three of them, built once per run, a few seconds) answer on the OpenRouter
model, played by the fake model API of tests/support (a real server on loopback) with
`--latency` seconds before each answer, as a provider would take. The same questions are asked
with `moderator` off and on, in alternating rounds on one server, and the figures per query are
printed side by side: the difference is what the moderator costs, and the ratio what it costs
beside the query. The moderator's own `usage` and `processing_time_ms` (from its response) are
printed too. The fake counts a token per word, so the token figures compare prompts' sizes,
not a provider's bill. It prints figures and never fails on them.

    .venv/bin/python bench/moderator.py [--rounds 3] [--latency 0.2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from querybench.clients import ask
from querybench.processes import serving
from querybench.report import log, row

from tests.support import demo_db
from tests.support.fake_openai import FakeOpenAI, model_env, phase_answer

QUESTIONS = (
    "Как делать бэкапы SQLite?",
    "SQLite или PostgreSQL для небольшого сервиса?",
    "How should I back up a SQLite database?",
)


@dataclass
class Figures:
    calls: list[int] = field(default_factory=list)
    prompt: list[int] = field(default_factory=list)
    completion: list[int] = field(default_factory=list)
    wall_s: list[float] = field(default_factory=list)
    # The moderator's own, from its response (on only).
    own_tokens: list[int] = field(default_factory=list)
    own_ms: list[int] = field(default_factory=list)

    def take(self, elapsed: float, body: dict[str, Any]) -> None:
        usage = body["usage"]
        self.calls.append(usage["model_calls"])
        self.prompt.append(usage["prompt_tokens"])
        self.completion.append(usage["completion_tokens"])
        self.wall_s.append(elapsed)
        moderator = body["moderator"]
        if moderator is not None:
            own = moderator["usage"]
            self.own_tokens.append(own["prompt_tokens"] + own["completion_tokens"])
            self.own_ms.append(moderator["processing_time_ms"])

    def tokens(self) -> list[int]:
        return [p + c for p, c in zip(self.prompt, self.completion, strict=True)]


def side_by_side(
    label: str, off: Sequence[float], on: Sequence[float], fmt: str, unit: str
) -> None:
    a, b = statistics.mean(off), statistics.mean(on)
    ratio = f"{b / a:.2f}×" if a else "-"
    print(
        f"  {label:<28} {format(a, fmt):>10} {format(b, fmt):>10} "
        f"{format(b - a, '+' + fmt):>10} {ratio:>8}  {unit}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every question, each way")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds the fake takes a call")
    args = parser.parse_args()

    off, on = Figures(), Figures()
    with tempfile.TemporaryDirectory(prefix="bench-moderator-") as scratch:
        folder = Path(scratch)
        log("building the demo database")
        database = demo_db.build(folder)
        with FakeOpenAI(responder=phase_answer, latency_s=args.latency) as fake:
            settings = {**model_env(fake), "DAILY_TOKEN_BUDGET": "0"}
            with serving(database, folder, "moderator", settings=settings) as server:
                # Caches loaded first, so the first measured query is not the slow one.
                ask(server.url, {"query": "warm up the caches", "stream_progress": False}, 120)
                for round_ in range(args.rounds):
                    log(f"round {round_ + 1} of {args.rounds}")
                    for question in QUESTIONS:
                        # Alternating, so a drift of the machine's speed falls on both alike.
                        for moderated, figures in ((False, off), (True, on)):
                            payload = {
                                "query": question,
                                "stream_progress": False,
                                "moderator": moderated,
                            }
                            figures.take(*ask(server.url, payload, 120))
    missing = len(on.calls) - len(on.own_tokens)
    if missing:
        raise SystemExit(f"{missing} moderated queries had no moderator: fewer than two answers")

    queries = len(on.calls)
    print(
        f"Moderator: {len(QUESTIONS)} questions × {args.rounds} rounds, each with the moderator "
        f"off and on; 3 demo experts; the fake model takes {args.latency:g} s a call"
    )
    print(f"  per query, mean of {queries} each:")
    print(f"  {'':<28} {'off':>10} {'on':>10} {'added':>10} {'on/off':>8}")
    side_by_side("model calls", off.calls, on.calls, ".1f", "calls")
    side_by_side("prompt tokens", off.prompt, on.prompt, ",.0f", "tokens")
    side_by_side("completion tokens", off.completion, on.completion, ",.0f", "tokens")
    side_by_side("tokens in all", off.tokens(), on.tokens(), ",.0f", "tokens")
    side_by_side("wall time", off.wall_s, on.wall_s, ".2f", "s")
    print("  the moderator's own (from its response):")
    row("tokens", f"{statistics.mean(on.own_tokens):,.0f}", "tokens")
    row("time", f"{statistics.mean(on.own_ms):,.0f}", "ms")


if __name__ == "__main__":
    main()
