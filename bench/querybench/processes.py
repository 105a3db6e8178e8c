"""The service as a process: the CLI, `serve` on a free port, peak memory, and a run measured."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def cli_path() -> list[str]:
    found = Path(sys.executable).with_name("experts-panel")
    return [str(found)] if found.exists() else [sys.executable, "-m", "experts_panel.cli"]


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any of the service's settings, plus `extra`."""
    from experts_panel.settings import SECRET_FIELDS, Settings

    names = set(Settings.model_fields) | {f"{n}_FILE" for n in SECRET_FIELDS}
    env = {k: v for k, v in os.environ.items() if k not in names}
    env.update(extra)
    return env


def database_env(database: Path, **extra: str) -> dict[str, str]:
    return clean_env(
        DATABASE_URL=f"sqlite+aiosqlite:///{database}",
        BACKUP_DIR=str(database.parent / "backups"),
        LOG_LEVEL="WARNING",
        **extra,
    )


@dataclass
class Measured:
    seconds: float
    peak_rss_bytes: int
    stdout: str


def run_measured(command: list[str], env: dict[str, str], timeout_s: float, out: Path) -> Measured:
    """Run a command to its end; wall time and its peak RSS (`wait4`, as bench/import.py)."""
    started = time.perf_counter()
    with out.open("w") as stdout, out.with_suffix(".err").open("w") as stderr:
        # Popen starts the child with vfork, so its peak RSS is its own, not a copy of ours.
        process = subprocess.Popen(
            command, env=env, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL
        )
        deadline = started + timeout_s
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                os.wait4(process.pid, 0)
                process.returncode = -9
                raise SystemExit(f"{' '.join(command[:2])} took over {timeout_s:.0f} s; stopped")
            time.sleep(0.05)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        tail = out.with_suffix(".err").read_text()[-2000:]
        raise SystemExit(f"{' '.join(command[1:3])} failed ({process.returncode}):\n{tail}")
    return Measured(elapsed, usage.ru_maxrss * 1024, out.read_text())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int, field_name: str = "VmHWM") -> float:
    """A figure of /proc/<pid>/status in MB (VmHWM: the peak resident set so far)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1]) * 1024 / 1e6
    return float("nan")


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        for child in map(int, children):
            found += [child, *descendants(child)]
    return found


class BenchError(Exception):
    """A measurement could not be taken; its section says so and the others go on."""


def tail(path: Path, chars: int = 1500) -> str:
    return path.read_text(errors="replace")[-chars:]


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    startup_s: float

    def peak_rss_mb(self) -> float:
        """The server's peak plus the peak of any child process it starts: the sum may
        over-count a little (the peaks need not coincide), never under-counts."""
        return sum(rss_mb(pid) for pid in (self.process.pid, *descendants(self.process.pid)))

    def stop(self) -> None:
        """SIGTERM, as systemd sends it; a kill if it does not stop in 30 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def serving(
    database: Path,
    folder: Path,
    label: str,
    *,
    command: list[str] | None = None,
    settings: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    """`experts-panel serve` (or `command`) on loopback and a free port, until /health answers."""
    port = free_port()
    env = database_env(database, API_HOST="127.0.0.1", API_PORT=str(port), **(settings or {}))
    log_path = folder / f"serve-{label}.log"
    started = time.perf_counter()
    with log_path.open("w") as out:
        process = subprocess.Popen(
            command or [*cli_path(), "serve"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server = Server(f"http://127.0.0.1:{port}", process, log_path, 0.0)
    try:
        deadline = started + 90
        while True:
            if process.poll() is not None:
                raise BenchError(f"the server exited ({process.returncode}): {tail(log_path)}")
            try:
                if httpx.get(f"{server.url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.perf_counter() > deadline:
                raise BenchError(f"the server did not answer /health in 90 s: {tail(log_path)}")
            time.sleep(0.1)
        server.startup_s = time.perf_counter() - started
        yield server
    finally:
        server.stop()
