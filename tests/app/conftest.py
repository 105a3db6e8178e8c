from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx
import pytest

from experts_panel.db.database import Database
from experts_panel.settings import Settings, load_settings

from . import demo_db
from .fake_openai import fake_openai_fixture  # noqa: F401  (the `fake_openai` fixture)


@pytest.fixture(scope="session")
def demo_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo experts imported and indexed once; tests take copies (`demo_path`)."""
    return demo_db.build(tmp_path_factory.mktemp("demo-source"))


@pytest.fixture
def demo_path(demo_source: Path, tmp_path: Path) -> Path:
    return demo_db.copy(demo_source, tmp_path / "demo")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "experts.db"


@pytest.fixture
def settings(db_path: Path) -> Settings:
    return load_settings({"DATABASE_URL": f"sqlite+aiosqlite:///{db_path}"})


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    opened, _ = await Database.open(settings)
    try:
        yield opened
    finally:
        await opened.close()


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


@pytest.fixture
def server_factory() -> Iterator[ServerFactory]:
    started: list[Server] = []

    def factory(db_path: Path, *, log: Path | None = None, **extra_env: str) -> Server:
        server = start_server(db_path, log=log, **extra_env)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()
