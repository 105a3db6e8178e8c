"""A slow fake model API for the browser tests (run by tests/e2e/run.mjs).

It serves tests/support/fake_openai.py's `FakeOpenAI` on loopback and answers every phase in JSON,
with tests/support/fake_openai.py's `phase_answer`, but only after `--delay` seconds, so a
query is still running when the browser clicks Cancel. It prints `READY <base_url>` once it
listens, then `REQUEST <model>` as each request arrives (the test counts them to see that the
service stopped calling the model once the browser hung up). It stops on SIGTERM, SIGINT or
when its standard input closes.

Lines on its standard input change how it answers from then on, each acknowledged with
`SET <line>` on its output:
- `delay <seconds>`: the wait before each answer;
- `grouped on|off`: reduce cites its first posts as one group, `[post:A, post:B]`, the way
  some models do;
- `fail on|off`: every request gets HTTP 500, as from a model API that is down.

    python tests/e2e/slow_openai.py --delay 3
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.fake_openai import Delay, FakeOpenAI, HttpError, Reply, phase_answer, shown_ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=3.0, help="seconds before each answer")
    args = parser.parse_args()

    lock = threading.Lock()
    mode = {"delay": args.delay, "grouped": False, "fail": False}

    def answer(body: dict[str, Any]) -> Reply | HttpError:
        if mode["fail"]:
            return HttpError(500, "upstream model is down")
        ids = shown_ids(body)
        if mode["grouped"] and body.get("model") == "test/reduce" and len(ids) >= 2:
            text = f"Бэкап делаю командой .backup [post:{ids[0]}, post:{ids[1]}]."
            reply = {"answer": text, "main_sources": ids[:1], "confidence": "HIGH"}
            return Reply(json.dumps({**reply, "language": "ru"}))
        return Reply(phase_answer(body))

    def responder(body: dict[str, Any]) -> Delay:
        with lock:
            print(f"REQUEST {body.get('model')}", flush=True)
            return Delay(float(mode["delay"]), then=answer(body))

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    def watch_stdin() -> None:
        for line in sys.stdin:  # ends when the parent closes the pipe or goes away
            match line.split():
                case ["delay", seconds]:
                    with lock:
                        mode["delay"] = float(seconds)
                case [("grouped" | "fail") as key, ("on" | "off") as value]:
                    with lock:
                        mode[key] = value == "on"
                case _:
                    print(f"UNKNOWN {line.strip()}", flush=True)
                    continue
            print(f"SET {line.strip()}", flush=True)
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
