"""A slow fake model API for the browser test of Cancel (run by tests/e2e/run.mjs).

It serves tests/app/fake_openai.py's `FakeOpenAI` on loopback and answers every phase in JSON,
as tests/app/test_query_openrouter.py's responder does, but only after `--delay` seconds, so a
query is still running when the browser clicks Cancel. It prints `READY <base_url>` once it
listens, then `REQUEST <model>` as each request arrives (the test counts them to see that the
service stopped calling the model once the browser hung up). It stops on SIGTERM, SIGINT or
when its standard input closes.

    python tests/e2e/slow_openai.py --delay 3
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.app.fake_openai import Delay, FakeOpenAI, Reply


def shown_ids(body: dict[str, Any]) -> list[int]:
    prompt = body["messages"][-1]["content"]
    return [int(i) for i in dict.fromkeys(re.findall(r"\[post:(\d+)\]", prompt))]


def answer(body: dict[str, Any]) -> str:
    """A plausible JSON answer for each phase: the first posts shown are the relevant ones.

    The phases are told apart by model name: run.mjs sets MODEL_MAP=test/map and so on.
    """
    ids = shown_ids(body)
    model = body["model"]
    if model == "test/map":
        labels = ["HIGH", "HIGH", "MEDIUM"]
        verdicts = [
            {"id": i, "relevance": labels[n] if n < 3 else "LOW", "reason": "on topic"}
            for n, i in enumerate(ids)
        ]
        return json.dumps({"posts": verdicts})
    if model == "test/medium":
        return json.dumps({"scores": [{"id": i, "score": 0.9} for i in ids]})
    if model == "test/reduce":
        cited = " ".join(f"[post:{i}]" for i in ids[:3])
        return json.dumps(
            {
                "answer": f"Back up with `.backup`, never `cp` {cited}.",
                "main_sources": ids[:1],
                "confidence": "HIGH",
                "language": "en",
            }
        )
    if model == "test/translate":
        return json.dumps({"text": "translated"})
    if model == "test/synthesis":
        first = f" [post:{ids[0]}]" if ids else ""
        return json.dumps({"synthesis": f"**What the community adds**\n\n- a tip{first}"})
    if model == "test/groups" and "has_drift" not in body["messages"][0]["content"]:
        return json.dumps({"post_ids": []})
    return json.dumps({"has_drift": False, "topics": []})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=3.0, help="seconds before each answer")
    args = parser.parse_args()

    lock = threading.Lock()

    def responder(body: dict[str, Any]) -> Delay:
        with lock:
            print(f"REQUEST {body.get('model')}", flush=True)
        return Delay(args.delay, then=Reply(answer(body)))

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    def watch_stdin() -> None:
        sys.stdin.read()  # returns when the parent closes the pipe or goes away
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()

    server = FakeOpenAI(responder=responder)
    server.start()
    try:
        print(f"READY {server.base_url}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
