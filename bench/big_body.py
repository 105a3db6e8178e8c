"""What a 100 MB request body costs the service when it reaches hypercorn directly.

Starts `experts-panel serve` on loopback (an empty database, the embedded model), then posts
a body of `--megabytes` MB of valid JSON (`{"query": "aaaa..."}`) to /api/v1/query twice: once
with its length declared (Content-Length), once chunked with no length. For each it prints
the answer's status and size, how long the answer took, and the server's resident memory
before, at its peak (sampled every 10 ms) and after. The server is stopped and started
again between the two, so each starts from the same memory.

It prints figures and never fails; the machines are shared and noisy.

    .venv/bin/python bench/big_body.py [--megabytes 100]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
PIECE = 1024 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENROUTER_", "API_"))}
    env |= {
        "DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'bench.db'}",
        "API_HOST": "127.0.0.1",
        "API_PORT": str(port),
        "ENVIRONMENT": "development",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "experts_panel.cli", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            # The warm-up loads the embedding and language models; let it finish.
            time.sleep(3)
            return server, port
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start within 60 s")


class PeakRss:
    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = self.now()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def now(self) -> int:
        return int(self.process.memory_info().rss)

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            try:
                self.peak = max(self.peak, self.now())
            except psutil.Error:
                return

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def send(port: int, megabytes: int, chunked: bool) -> tuple[str, int, float]:
    """(status line, answer bytes, seconds to the answer's end) of one huge request."""
    size = megabytes * PIECE
    body_head, body_tail = b'{"query": "', b'"}'
    filler = size - len(body_head) - len(body_tail)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
    head = (
        f"POST /api/v1/query HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        f"{framing}\r\n\r\n"
    ).encode()
    answer = bytearray()
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=300) as sock:

        def read() -> None:
            while chunk := sock.recv(1 << 16):
                answer.extend(chunk)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            sock.sendall(head)
            parts = [body_head, *([b"a" * PIECE] * (filler // PIECE)), b"a" * (filler % PIECE)]
            for part in [*parts, body_tail]:
                if chunked:
                    part = f"{len(part):x}\r\n".encode() + part + b"\r\n"
                sock.sendall(part)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server answered and closed before the whole body was sent
        reader.join(timeout=300)
    elapsed = time.monotonic() - started
    status = bytes(answer).split(b"\r\n", 1)[0].decode("latin-1") or "(no answer)"
    return status, len(answer), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=int, default=100)
    args = parser.parse_args()
    mib = 1024 * 1024
    print(f"a {args.megabytes} MB body to POST /api/v1/query, straight to hypercorn")
    for chunked in (False, True):
        with tempfile.TemporaryDirectory() as folder:
            server, port = start(Path(folder))
            try:
                with PeakRss(server.pid) as rss:
                    before = rss.now()
                    status, answered, elapsed = send(port, args.megabytes, chunked)
                    time.sleep(0.5)
                    after = rss.now()
                framing = "chunked, no length" if chunked else "Content-Length declared"
                print(
                    f"  {framing:24} {status:32} answer {answered / 1024:8.1f} KiB "
                    f"in {elapsed:6.2f} s; server RSS {before / mib:.0f} MiB before, "
                    f"{rss.peak / mib:.0f} MiB peak, {after / mib:.0f} MiB after"
                )
            finally:
                server.terminate()
                server.wait(timeout=30)


if __name__ == "__main__":
    main()
