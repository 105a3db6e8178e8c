"""A slow fake model API for the browser test of Cancel (run by tests/e2e/run.mjs).

It serves tests/support/fake_openai.py's `FakeOpenAI` on loopback and answers every phase in JSON,
with tests/support/fake_openai.py's `phase_answer`, but only after `--delay` seconds, so a
query is still running when the browser clicks Cancel. It prints `READY <base_url>` once it
listens, then `REQUEST <model>` as each request arrives (the test counts them to see that the
service stopped calling the model once the browser hung up). It stops on SIGTERM, SIGINT or
when its standard input closes.

    python tests/e2e/slow_openai.py --delay 3
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.fake_openai import Delay, FakeOpenAI, Reply, phase_answer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=3.0, help="seconds before each answer")
    args = parser.parse_args()

    lock = threading.Lock()

    def responder(body: dict[str, Any]) -> Delay:
        with lock:
            print(f"REQUEST {body.get('model')}", flush=True)
        return Delay(args.delay, then=Reply(phase_answer(body)))

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
