"""quadlet/bin/experts-panel-status: `experts-panel status` through `podman exec`, with a
stand-in podman that records its calls (the real one runs it in tests/host)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

WRAPPER = Path(__file__).parents[2] / "quadlet" / "bin" / "experts-panel-status"


def run(
    tmp_path: Path, running: str, exec_exit: int, *args: str
) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    record = tmp_path / "calls"
    podman = bin_dir / "podman"
    podman.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >>{record}\n'
        'case "$1" in\n'
        f"  container) echo {running} ;;\n"
        f'  exec) echo "status output"; exit {exec_exit} ;;\n'
        "esac\n",
        encoding="utf-8",
    )
    podman.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return subprocess.run(
        [str(WRAPPER), *args], env=env, capture_output=True, text=True, timeout=30, check=False
    )


def test_runs_the_command_in_the_api_container_and_keeps_its_exit_code(tmp_path: Path) -> None:
    for code in (0, 1, 2):
        done = run(tmp_path, "true", code, "--json")
        assert done.returncode == code and done.stdout == "status output\n"
    calls = (tmp_path / "calls").read_text().splitlines()
    assert "exec experts-panel-api /bin/experts-panel status --json" in calls


def test_a_stopped_container_is_cannot_tell(tmp_path: Path) -> None:
    done = run(tmp_path, "false", 0)
    assert done.returncode == 2
    assert done.stdout.startswith("cannot tell: the container experts-panel-api is not running")
    assert "exec" not in (tmp_path / "calls").read_text()
    failed = run(tmp_path, "true", 125)
    assert failed.returncode == 2 and "podman exec failed" in failed.stderr
