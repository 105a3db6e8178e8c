"""The importer on hostile exports: peak RSS, time and what it says, under a memory cap.

Writes each hostile file (deep nesting, a huge message, bad ids, a chat without a name, a
FIFO, ...) and runs `experts-panel import` on it as a separate process whose address space is
capped (`prlimit --as`, 1 GiB by default; the parsing process inherits it), so a runaway parse
stops at the cap instead of exhausting the machine. Prints, for each file: its size, the exit
status, the seconds, the peak RSS of the import and its parsing process as wait4 gives it (the
kernel takes the larger of the process and its reaped children; a parser left unreaped, as at
a time-out, is missing from it), the peak of the two summed as sampled every 50 ms ("tree"),
how many lines it wrote to stderr, and its error line (or, when it succeeds, what its
summary says of duplicate ids, else the summary's first line). "hit cap" means it ran out of its
capped address space (MemoryError, or killed); "timed out" means it was killed after
--timeout seconds (a FIFO with no writer blocks an open).

    .venv/bin/python bench/hostile_import.py [--cap-mb 1024] [--big-mb 200] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import psutil

HEAD = '{"name": "Hostile", "type": "public_channel", "id": 1000000001, "messages": [\n'


def _message(message_id: Any, text: str) -> str:
    """One message whose `text` is `text`, raw JSON (so it can be invalid in depth)."""
    return (
        f'{{"id": {message_id}, "type": "message", "date": "2024-05-01T09:00:00", '
        f'"date_unixtime": "1714554000", "from": "Hostile", "from_id": "channel1000000001", '
        f'"text": {text}}}'
    )


def _channel(out: TextIO, *messages: str) -> None:
    out.write(HEAD + ",\n".join(messages) + "\n]}\n")


def deep_text(levels: int) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        with path.open("w") as out:
            _channel(out, _message(1, '"first"'), _message(2, "[" * levels + "]" * levels))

    return write


def deep_entity(levels: int) -> Callable[[Path], None]:
    """A text entity nested `levels` deep: entities inside an entity's `text`."""

    def write(path: Path) -> None:
        nested = '{"type": "bold", "text": [' * levels + '"x"' + "]}" * levels
        with path.open("w") as out:
            _channel(out, _message(1, '"first"'), _message(2, f"[{nested}]"))

    return write


def deep_reactions(levels: int) -> Callable[[Path], None]:
    """Reactions nested `levels` deep: kept as JSON, so walked to the bottom."""

    def write(path: Path) -> None:
        reactions = "[" * levels + "]" * levels
        with path.open("w") as out:
            _channel(out, _message(1, '"first"'), _message(2, f'"x", "reactions": {reactions}'))

    return write


def ids(*values: Any) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        with path.open("w") as out:
            _channel(out, *(_message(v, json.dumps(f"post {n}")) for n, v in enumerate(values)))

    return write


def long_number_id(path: Path) -> None:
    with path.open("w") as out:
        _channel(out, _message(1, '"first"'), _message("1" * 5000, '"long id"'))


def link_to_huge_post(path: Path) -> None:
    with path.open("w") as out:
        _channel(
            out, _message(1, '"see https://t.me/other_channel/123456789012345678901234567890"')
        )


def no_chat_name(path: Path) -> None:
    with path.open("w") as out:
        out.write('{"name": null, "type": null, "id": null, "messages": [')
        out.write(_message(1, '"orphan"') + "]}\n")


def big_message(megabytes: int) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        with path.open("w") as out:
            out.write(HEAD + _message(1, '"first"') + ",\n")
            out.write(_message(2, '"').removesuffix("}"))
            block = "word " * 209_715  # about 1 MiB a write, so the writer stays small
            for _ in range(megabytes):
                out.write(block)
            out.write('"}\n]}\n')

    return write


def fifo(path: Path) -> None:
    os.mkfifo(path)


def cases(big_mb: int) -> dict[str, Callable[[Path], None]]:
    return {
        "deep-text-100000": deep_text(100_000),
        "deep-text-20000": deep_text(20_000),
        "deep-entity-5000": deep_entity(5_000),
        "deep-reactions-5000": deep_reactions(5_000),
        "id-zero": ids(1, 0, 2),
        "id-negative": ids(1, -7, 2),
        "id-duplicate": ids(1, 2, 2, 3),
        "id-5000-digits": long_number_id,
        "link-30-digits": link_to_huge_post,
        "chat-no-name": no_chat_name,
        "fifo": fifo,
        f"message-{big_mb}mb": big_message(big_mb),
    }


def run(path: Path, database: Path, cap: int, timeout: float) -> dict[str, Any]:
    cli_path = Path(sys.executable).with_name("experts-panel")
    cli = [str(cli_path)] if cli_path.exists() else [sys.executable, "-m", "experts_panel.cli"]
    env = dict(os.environ, DATABASE_URL=f"sqlite+aiosqlite:///{database}", LOG_LEVEL="WARNING")
    err = Path(f"{database}.err")
    # Migrated first, so what the import writes to stderr is all its own.
    subprocess.run([*cli, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)

    out = Path(f"{database}.out")
    started = time.perf_counter()
    with err.open("w") as stderr, out.open("w") as stdout:
        process = subprocess.Popen(
            # prlimit execs the command: no fork of this process, so the peak RSS is the
            # import's own (a forked child's counts the parent's pages).
            ["prlimit", f"--as={cap}", "--", *cli, "import", str(path), "--expert", "hostile"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,  # a time-out ends the parsing process too
        )
        timed_out = False
        deadline = started + timeout
        tree_peak = 0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            tree_peak = max(tree_peak, _tree_rss(process.pid))
            if time.perf_counter() > deadline:
                timed_out = True
                os.killpg(process.pid, 9)
                _, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.05)
    seconds = time.perf_counter() - started
    lines = err.read_text(errors="replace").splitlines()
    text = "\n".join(lines)
    code = os.waitstatus_to_exitcode(status)
    if timed_out:
        outcome = f"timed out after {timeout:g} s"
    elif "MemoryError" in text or code == -9:
        outcome = "hit cap"
    else:
        outcome = f"exit {code}"
    return {
        "outcome": outcome,
        "seconds": seconds,
        "rss_mb": usage.ru_maxrss * 1024 / 1e6,
        "tree_mb": tree_peak / 1e6,
        "stderr_lines": len(lines),
        "said": _said(lines, out.read_text(errors="replace").splitlines()),
    }


def _said(errors: list[str], output: list[str]) -> str:
    """Its error line; else its summary's line on duplicates, or its first line."""
    for line in errors:
        if line.startswith("error:"):
            return line
    if errors:
        return errors[-1]
    found = [line.strip() for line in output if "duplicate ids:" in line]
    return found[0] if found else (output[0] if output else "")


def _tree_rss(pid: int) -> int:
    """The RSS of a process and its descendants now, in bytes (0 once it is gone)."""
    try:
        root = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
    except psutil.Error:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cap-mb", type=int, default=1024, help="address-space cap, MiB")
    parser.add_argument("--big-mb", type=int, default=200, help="size of the huge message")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds before a kill")
    parser.add_argument("--only", nargs="+", help="run only these cases")
    args = parser.parse_args()
    chosen = cases(args.big_mb)
    if args.only:
        chosen = {name: chosen[name] for name in args.only}
    print(f"cap {args.cap_mb} MiB (RLIMIT_AS of the import and its parsing process)")
    print(
        f"{'file':<20} {'bytes':>9} {'outcome':<24} {'s':>7} {'RSS MB':>7} {'tree MB':>7} "
        f"{'lines':>5}  what it said (its error line, else its last line)"
    )
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
        root = Path(tmp)
        for name, write in chosen.items():
            path = root / f"{name}.json"
            write(path)
            size = path.stat().st_size if path.is_file() else 0
            result = run(path, root / f"{name}.db", args.cap_mb << 20, args.timeout)
            said = result["said"].replace(str(root) + "/", "")
            print(
                f"{name:<20} {size:>9} {result['outcome']:<24} {result['seconds']:>7.2f} "
                f"{result['rss_mb']:>7.1f} {result['tree_mb']:>7.1f} "
                f"{result['stderr_lines']:>5}  {said[:160]}"
            )
            path.unlink()


if __name__ == "__main__":
    main()
