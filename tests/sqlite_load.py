"""A write load on a SQLite file, as the API puts one: a process of its own committing one row
a transaction, `rate` times a second (0: without pause), with the API's pragmas. Backups are
tested under it (tests/deploy/test_backup.py) and measured under it (bench/backup.py).

    python -m tests.sqlite_load DATABASE OUT RATE    the writer process; SIGTERM stops it

Each commit is one JSON line in OUT: the row's id, and the commit's start and end (time.time).
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The table is the writer's own, so any database will do and the rows a copy must hold are
# easy to name.
TABLE = "probe_rows"


@dataclass(frozen=True)
class Commit:
    id: int
    start: float
    end: float

    @property
    def latency(self) -> float:
        return self.end - self.start


def write_load(database: Path, out: Path, rate: float) -> None:
    """The writer process's work, until SIGTERM."""
    from experts_panel.db.engine import BUSY_TIMEOUT_MS

    stop = False

    def on_term(_signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    conn = sqlite3.connect(database, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
    # About a post's size when paced; small when flooding, so the WAL grows by commits.
    filler = "probe " * (300 if rate else 10)
    with open(out, "w") as log:
        n = 0
        started = time.monotonic()
        while not stop:
            n += 1
            t0 = time.time()
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(f"INSERT INTO {TABLE} (text) VALUES (?)", (filler,)).lastrowid
            conn.execute("COMMIT")
            t1 = time.time()
            log.write(json.dumps({"id": row, "start": t0, "end": t1}) + "\n")
            if rate:
                log.flush()
                time.sleep(max(0.0, started + n / rate - time.monotonic()))
    conn.close()


@contextmanager
def writer(database: Path, out: Path, rate: float) -> Iterator[list[Commit]]:
    """The writer process for as long as the block runs, once it has made 3 commits; the list
    fills with its commits when the block ends."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.sqlite_load", str(database), str(out), str(rate)],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    commits: list[Commit] = []
    try:
        deadline = time.monotonic() + 30
        while not (out.exists() and out.read_text().count("\n") >= 3):
            if process.poll() is not None:
                err = process.stderr.read() if process.stderr else ""
                raise RuntimeError(f"the writer stopped: {err}")
            if time.monotonic() > deadline:
                raise RuntimeError("the writer made no 3 commits in 30 s")
            time.sleep(0.05)
        yield commits
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    if process.returncode != 0:
        raise RuntimeError(f"the writer failed ({process.returncode}): {err}")
    commits.extend(Commit(**json.loads(line)) for line in out.read_text().splitlines())


if __name__ == "__main__":
    write_load(Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3]))
