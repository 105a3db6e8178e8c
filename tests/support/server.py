"""`experts-panel` as a reader meets it: the CLI in a subprocess, the server on a free port."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx


def cli_env(db_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENROUTER_", "API_"))}
    env.pop("ENVIRONMENT", None)
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{db_path}"
    env.update(extra)
    return env


def run_cli(
    *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "experts_panel.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]
    db_path: Path

    def stop(self) -> int:
        """SIGTERM, as systemd and Podman send it; returns the exit code."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_server(db_path: Path, *, log: Path | None = None, **extra_env: str) -> Server:
    """A server on a free port. Its output goes to a pipe for the test to read, or to `log`
    when it may write more than a pipe holds (a full pipe would stop the server)."""
    port = free_port()
    env = cli_env(db_path, API_HOST="127.0.0.1", API_PORT=str(port), **extra_env)
    with open(log, "w") if log is not None else contextlib.nullcontext() as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "experts_panel.cli", "serve"],
            env=env,
            stdout=subprocess.PIPE if log_file is None else log_file,
            stderr=subprocess.STDOUT,
            text=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            if log is not None:
                output = log.read_text()
            raise RuntimeError(f"server exited with {process.returncode}: {output}")
        try:
            httpx.get(f"{url}/health", timeout=1)
            return Server(url, process, db_path)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start within 30 s")


class ServerFactory(Protocol):
    def __call__(self, db_path: Path, *, log: Path | None = None, **extra_env: str) -> Server: ...


def drained(server: Server) -> tuple[list[str], threading.Thread]:
    """The server's output, read as it comes: a full pipe would block its logging, and with
    it the event loop."""
    lines: list[str] = []
    stdout = server.process.stdout
    assert stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(stdout), daemon=True)
    reader.start()
    return lines, reader
