"""Backup and restore figures for a database of 100,000 posts.

Builds (once, then cached under `--cache`) a database of exactly 100,000 posts: bench/import.py
generates the Telegram export and `experts-panel import` stores it (the posts are not indexed:
embedding 100,000 posts takes most of an hour on 2 cores; `--database` measures an indexed
database instead, such as bench/query.py's corpus). Then, with the real scripts:

1. `backup/experts-panel-backup` on an idle database: wall time (median of `--runs`), the
   database and compressed sizes, and its parts measured alone: the one-step copy,
   `PRAGMA integrity_check`, zstd.
2. `backup/experts-panel-restore --no-service`: wall time (decompress, check, swap; stopping
   and starting the API is the host test's to measure).
3. Under a write load (a process committing one post per transaction `--rate` times a second
   with the API's pragmas): the script's wall time and the writer's longest commit, beside
   the writer's longest commit with no backup running; and, for comparison under the same
   load, `sqlite3 .backup` (100 pages a step, restarting when another connection writes),
   the same 100-page steps through Python with their restarts counted, and `VACUUM INTO`.

It prints figures and never fails on time; the machines are shared and noisy.

    .venv/bin/python bench/backup.py [--cache DIR] [--rebuild] [--database PATH] [--runs 3]
                                     [--rate 10] [--timeout 60]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The write load lives with the tests (tests/sqlite_load.py), which check backups under it.
sys.path.insert(0, str(ROOT))
from tests.sqlite_load import Commit, writer  # noqa: E402

DEFAULT_CACHE = ROOT / ".cache" / "bench-backup"
BACKUP = ROOT / "backup" / "experts-panel-backup"
RESTORE = ROOT / "backup" / "experts-panel-restore"
GENERATOR = ROOT / "bench" / "import.py"
POSTS = 100_000
SERVICE_EVERY = 97  # bench/import.py makes every 97th message a service message (no post)


def log(message: str) -> None:
    """Progress goes to stderr, so stdout holds the figures alone."""
    print(f"· {message}", file=sys.stderr, flush=True)


def row(label: str, value: str, unit: str = "") -> None:
    print(f"  {label:<58} {value:>10} {unit}".rstrip())


def cli() -> list[str]:
    found = Path(sys.executable).with_name("experts-panel")
    return [str(found)] if found.exists() else [sys.executable, "-m", "experts_panel.cli"]


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BACKUP_", "PANEL_", "DATABASE_URL", "OPENROUTER_"))
    }
    env.update(extra)
    return env


# --- the database ------------------------------------------------------------------------


def messages_for(posts: int) -> int:
    """The export size that yields exactly `posts` posts (service messages make none)."""
    n = posts
    while n - n // SERVICE_EVERY < posts:
        n += 1
    return n


def parameters() -> dict[str, Any]:
    from importlib import resources

    migrations = sorted(
        p.name for p in (resources.files("experts_panel.db") / "sql").iterdir() if p.is_file()
    )
    return {
        "posts": POSTS,
        "generator": hashlib.sha256(GENERATOR.read_bytes()).hexdigest()[:16],
        "experts_panel": version("experts-panel"),
        "migrations": migrations,
    }


def cached_database(cache: Path, rebuild: bool) -> Path:
    """The cached database when its manifest matches the parameters, else a new one."""
    database, manifest = cache / "experts.db", cache / "manifest.json"
    wanted = parameters()
    if not rebuild and database.exists() and manifest.exists():
        if json.loads(manifest.read_text()).get("parameters") == wanted:
            log(f"database: reusing {database}")
            return database
        log("database: the cached one was built with other parameters; building again")
    cache.mkdir(parents=True, exist_ok=True)
    manifest.unlink(missing_ok=True)  # an interrupted build leaves none, so it is rebuilt
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-backup-build-") as tmp:
        export, built = Path(tmp) / "export.json", Path(tmp) / "experts.db"
        count = messages_for(POSTS)
        log(f"database: generating an export of {count:,} messages (bench/import.py)")
        subprocess.run(
            [sys.executable, str(GENERATOR), "--generate", str(count), str(export)], check=True
        )
        log("database: experts-panel import")
        env = clean_env(DATABASE_URL=f"sqlite+aiosqlite:///{built}", LOG_LEVEL="WARNING")
        subprocess.run(
            [*cli(), "import", str(export), "--expert", "bench", "--username", "bench_channel"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        conn = sqlite3.connect(built)
        posts = conn.execute("SELECT count(*) FROM posts").fetchone()[0]
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        if posts != POSTS:
            raise SystemExit(f"the built database holds {posts} posts, not {POSTS}")
        shutil.copyfile(built, cache / "experts.db.partial")
        (cache / "experts.db.partial").replace(database)
    manifest.write_text(
        json.dumps(
            {
                "parameters": wanted,
                "built_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "build_s": round(time.perf_counter() - started, 1),
            },
            indent=1,
        )
    )
    return database


# --- the write load ----------------------------------------------------------------------


@dataclass
class Load:
    commits: list[Commit]

    def worst(self, start: float = 0.0, end: float = float("inf")) -> float:
        """The longest commit that overlapped [start, end], in seconds."""
        return max(
            (c.latency for c in self.commits if c.end >= start and c.start <= end), default=0.0
        )

    def count(self, start: float, end: float) -> int:
        return sum(1 for c in self.commits if c.start >= start and c.end <= end)


@contextmanager
def writing(database: Path, rate: float, folder: Path) -> Iterator[Load]:
    """tests/sqlite_load.py's writer, the load tests/deploy checks backups under."""
    load = Load([])
    with writer(database, folder / f"load-{time.monotonic_ns()}.jsonl", rate) as commits:
        yield load
    load.commits.extend(commits)


# --- measurements ------------------------------------------------------------------------


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def run_script(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed: {done.stderr.strip()}")
    return seconds, done.stdout


def one_step_copy(source: Path, target: Path, pages: int = -1) -> tuple[bool, int]:
    """SQLite's backup API; returns (finished, restarts), a restart being a step that found
    more pages left than the one before it."""
    src = sqlite3.connect(f"{source.as_uri()}?mode=rw", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    last = [-1, 0]

    def progress(_status: int, remaining: int, _total: int) -> None:
        if last[0] >= 0 and remaining > last[0]:
            last[1] += 1
        last[0] = remaining

    try:
        src.backup(dst, pages=pages, progress=progress, sleep=0)
        return True, last[1]
    finally:
        dst.close()
        src.close()


def stepwise_with_timeout(source: Path, target: Path, timeout: float) -> tuple[bool, int, float]:
    """100 pages a step, as `sqlite3 .backup` does, in a child so it can be stopped."""
    target.unlink(missing_ok=True)
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, __file__, "--stepwise", str(source), str(target)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        out, _ = child.communicate(timeout=timeout)
        restarts = int(out.strip() or 0)
        return child.returncode == 0, restarts, time.perf_counter() - started
    except subprocess.TimeoutExpired:
        child.send_signal(signal.SIGUSR1)  # it prints its restarts so far, then exits
        out, _ = child.communicate(timeout=30)
        return False, int(out.strip() or 0), time.perf_counter() - started


def stepwise_child(source: Path, target: Path) -> None:
    restarts = [0]
    last = [-1]

    def report(_signum: int, _frame: object) -> None:
        print(restarts[0], flush=True)
        os._exit(3)

    signal.signal(signal.SIGUSR1, report)

    def progress(_status: int, remaining: int, _total: int) -> None:
        if last[0] >= 0 and remaining > last[0]:
            restarts[0] += 1
        last[0] = remaining

    src = sqlite3.connect(f"{source.as_uri()}?mode=rw", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    src.backup(dst, pages=100, progress=progress, sleep=0)
    print(restarts[0], flush=True)


def cli_backup(source: Path, target: Path, timeout: float) -> tuple[bool, float]:
    target.unlink(missing_ok=True)
    started = time.perf_counter()
    try:
        subprocess.run(["sqlite3", str(source), f".backup '{target}'"], check=True, timeout=timeout)
        return True, time.perf_counter() - started
    except subprocess.TimeoutExpired:
        return False, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="built database folder")
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    parser.add_argument("--database", type=Path, help="measure this database instead")
    parser.add_argument("--runs", type=int, default=3, help="runs of the idle backup, restore")
    parser.add_argument("--rate", type=float, default=10.0, help="commits a second under load")
    parser.add_argument("--timeout", type=float, default=60.0, help="give a copy this long")
    parser.add_argument("--stepwise", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stepwise:
        stepwise_child(Path(args.stepwise[0]), Path(args.stepwise[1]))
        return

    source = args.database.resolve() if args.database else cached_database(args.cache, args.rebuild)
    with tempfile.TemporaryDirectory(prefix="bench-backup-") as tmp:
        folder = Path(tmp)
        (folder / "data").mkdir()
        database = folder / "data" / "experts.db"
        log(f"copying {source} to a scratch folder")
        one_step_copy(source, database)
        conn = sqlite3.connect(database)
        posts = conn.execute("SELECT count(*) FROM posts").fetchone()[0]
        conn.execute("PRAGMA journal_mode = WAL")  # as the API keeps it
        conn.close()
        env = clean_env(PANEL_DATABASE=str(database), PANEL_BACKUP_DIR=str(folder / "backups"))
        size = database.stat().st_size
        print(f"\nDatabase: {posts:,} posts, {size / 1e6:.1f} MB ({source})")

        print("\n1. Idle backup: backup/experts-panel-backup")
        times, made = [], Path()
        for run in range(args.runs):
            log(f"backup run {run + 1}/{args.runs}")
            seconds, out = run_script([str(BACKUP), "--now", f"2026-01-0{run + 1}T00:00:00Z"], env)
            times.append(seconds)
            made = Path(re.search(r"backup (\S+\.db\.zst)", out).group(1))  # type: ignore[union-attr]
        packed = made.stat().st_size
        row("backup, whole script (median)", f"{statistics.median(times):.2f}", "s")
        row("compressed size", f"{packed / 1e6:.1f}", f"MB ({size / packed:.1f}x smaller)")
        part = folder / "part.db"
        copy_s = timed(lambda: one_step_copy(database, part))
        row("  one-step copy (backup API, pages=-1)", f"{copy_s:.2f}", "s")

        def check() -> None:
            c = sqlite3.connect(f"{part.as_uri()}?mode=ro", uri=True)
            assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            c.close()

        row("  PRAGMA integrity_check", f"{timed(check):.2f}", "s")
        zst = folder / "part.db.zst"
        zstd = ["zstd", "-q", "-f", str(part), "-o", str(zst)]
        row("  zstd (level 3)", f"{timed(lambda: subprocess.run(zstd, check=True)):.2f}", "s")
        part.unlink()
        zst.unlink()

        print("\n2. Restore: backup/experts-panel-restore --no-service")
        times = []
        for run in range(args.runs):
            log(f"restore run {run + 1}/{args.runs}")
            seconds, _ = run_script([str(RESTORE), "--no-service", str(made)], env)
            times.append(seconds)
            for aside in database.parent.glob("experts.db.replaced-*"):
                aside.unlink()
            time.sleep(1.0)  # each restore names its set-aside copy by the second
        row("restore, whole script (median)", f"{statistics.median(times):.2f}", "s")

        print(f"\n3. Under a write load of {args.rate:g} commits a second")
        with writing(database, args.rate, folder) as idle:
            time.sleep(3)
        row("writer's longest commit, no backup running", f"{idle.worst() * 1000:.1f}", "ms")
        with writing(database, args.rate, folder) as load:
            time.sleep(1)
            began = time.time()
            seconds, _ = run_script([str(BACKUP)], env)
            ended = time.time()
            time.sleep(0.5)
        row("backup/experts-panel-backup, whole script", f"{seconds:.2f}", "s")
        row("  commits while it ran", f"{load.count(began, ended)}")
        row(
            "  writer's longest commit while it ran", f"{load.worst(began, ended) * 1000:.1f}", "ms"
        )
        target = folder / "compare.db"
        with writing(database, args.rate, folder):
            time.sleep(0.5)
            if shutil.which("sqlite3"):
                done, seconds = cli_backup(database, target, args.timeout)
                shown = f"{seconds:.2f} s" if done else f"not done in {seconds:.0f} s"
                row("sqlite3 .backup (100 pages a step)", shown)
            else:
                row("sqlite3 .backup", "sqlite3 is not installed")
            done, restarts, seconds = stepwise_with_timeout(database, target, args.timeout)
            shown = f"{seconds:.2f} s" if done else f"not done in {seconds:.0f} s"
            row("100-page steps through Python", shown, f"({restarts} restarts)")
            target.unlink(missing_ok=True)

            def vacuum_into() -> None:
                conn = sqlite3.connect(database)
                conn.execute(f"VACUUM INTO '{target}'")
                conn.close()

            vacuum_s = timed(vacuum_into)
            row("VACUUM INTO", f"{vacuum_s:.2f}", "s")
            target.unlink(missing_ok=True)
            copy_s = timed(lambda: one_step_copy(database, target))
            row("one step (backup API, pages=-1), what the script does", f"{copy_s:.2f}", "s")
    print(
        "\nRe-run: .venv/bin/python bench/backup.py  (the database stays cached in "
        f"{args.cache.relative_to(ROOT) if args.cache.is_relative_to(ROOT) else args.cache}; "
        "--database PATH measures another, --help lists the options)"
    )


if __name__ == "__main__":
    main()
