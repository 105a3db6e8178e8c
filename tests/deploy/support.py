"""What the deployment tests share: the repository's paths, images/spec.json, running a command
in a throwaway copy of the Debian 13 root file system, and reading unit files and the podman
command lines Quadlet generates."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
QUADLET = REPO / "quadlet"
NGINX = REPO / "nginx"
IN_ROOTFS = REPO / "tests" / "lib" / "in-rootfs"
SPEC: dict[str, Any] = json.loads((REPO / "images" / "spec.json").read_text())


def trixie_rootfs() -> Path:
    """The shared Debian 13 tree (built by tests/lib/trixie-rootfs on first use)."""
    out = subprocess.run(
        [str(REPO / "tests" / "lib" / "trixie-rootfs")],
        check=True,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return Path(out.stdout.strip())


def in_rootfs(
    rootfs: Path,
    *cmd: str,
    binds: dict[Path, str] | None = None,
    ro_binds: dict[Path, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Runs `cmd` as root in a throwaway overlay of `rootfs` (tests/lib/in-rootfs)."""
    args = [str(IN_ROOTFS), str(rootfs)]
    for flag, table in (("--bind", binds), ("--ro-bind", ro_binds)):
        for src, dest in (table or {}).items():
            args += [flag, f"{src}:{dest}"]
    return subprocess.run(
        [*args, "--", *cmd], capture_output=True, text=True, timeout=timeout, check=False
    )


Unit = dict[str, list[tuple[str, str]]]


def parse_unit(text: str) -> Unit:
    """A unit file as {section: [(key, value), ...]}, keys in order, repeats kept."""
    unit: Unit = {}
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            unit.setdefault(section, [])
        else:
            key, _, value = line.partition("=")
            unit.setdefault(section, []).append((key.strip(), value.strip()))
    return unit


def values(unit: Unit, section: str, key: str) -> list[str]:
    return [v for k, v in unit.get(section, []) if k == key]


def value(unit: Unit, section: str, key: str) -> str:
    found = values(unit, section, key)
    assert len(found) == 1, f"expected one {key}= in [{section}], found {found}"
    return found[0]


def split_dryrun(output: str) -> dict[str, Unit]:
    """`quadlet -dryrun` output (---name--- headers, then each unit) as {name: unit}."""
    units: dict[str, Unit] = {}
    name = None
    lines: list[str] = []
    for line in [*output.splitlines(), "---end---"]:
        if line.startswith("---") and line.endswith("---") and len(line) > 6:
            if name is not None:
                units[name] = parse_unit("\n".join(lines))
            name, lines = line.strip("-"), []
        else:
            lines.append(line)
    return units


# Options of `podman run` / `podman pod create` that take no value.
_FLAGS = {"--replace", "--rm", "-d", "--read-only", "--read-only-tmpfs"}


def podman_options(command_line: str, verb: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """Splits a generated `podman VERB... [options] [image]` line into its options (as
    (name, value) pairs, repeats kept) and the words after them (the image). systemd's quoting
    in the generated line is the shell's for everything Quadlet writes."""
    words = shlex.split(command_line)
    assert words[: 1 + len(verb)] == ["/usr/bin/podman", *verb], command_line
    words = words[1 + len(verb) :]
    options: list[tuple[str, str]] = []
    while words and words[0].startswith("-"):
        word = words.pop(0)
        if "=" in word and word.startswith("--"):
            name, _, val = word.partition("=")
            options.append((name, val))
        elif word in _FLAGS:
            options.append((word, ""))
        else:
            options.append((word, words.pop(0)))
    return options, words


def option_values(options: list[tuple[str, str]], *names: str) -> list[str]:
    return [v for n, v in options if n in names]


def size_bytes(text: str) -> int:
    """1536M, 1536m, 256MiB -> bytes (podman's and compose's size forms)."""
    units = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
    number = text.rstrip("BbIi")
    suffix = number[-1].lower() if number and number[-1].isalpha() else ""
    return int(number[: len(number) - len(suffix)]) * units[suffix]
