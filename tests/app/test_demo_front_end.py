"""`experts-panel demo` serves the built front end of the checkout it runs from by itself,
says where to open it, and says plainly when there is none to serve."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import experts_panel
from experts_panel.demo.front_end import find_front_end, not_found
from tests.support.server import cli_env, free_port


def fake_checkout(root: Path, marker: str) -> Path:
    """A checkout's layout with a built front end in it: frontend/dist/index.html."""
    dist = root / "frontend" / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(f'<!doctype html><div id="root">{marker}</div>\n')
    (dist / "assets" / "app.js").write_text("console.log('fake');\n")
    return dist


class Demo:
    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "experts_panel.cli", "demo"],
            cwd=cwd,
            env={**env, "API_HOST": "127.0.0.1", "API_PORT": str(self.port)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120  # the demo imports and indexes first
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"demo exited {self.process.returncode}: {self.output()}")
            try:
                httpx.get(f"{self.url}health", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.2)
        self.process.kill()
        raise RuntimeError("the demo did not serve within 120 s")

    def output(self) -> tuple[str, str]:
        """Stdout and stderr, once the process has stopped (SIGTERM, as Ctrl+C would)."""
        if self.process.poll() is None:
            self.process.terminate()
        stdout, stderr = self.process.communicate(timeout=30)
        return stdout, stderr


@pytest.fixture
def demos() -> Iterator[list[Demo]]:
    started: list[Demo] = []
    yield started
    for demo in started:
        if demo.process.poll() is None:
            demo.process.kill()
            demo.process.wait()


def demo_env(tmp_path: Path) -> dict[str, str]:
    env = cli_env(tmp_path / "data" / "demo.db")
    env.pop("STATIC_DIR", None)
    return env


def test_demo_serves_the_front_end_of_the_checkout_it_runs_in(
    tmp_path: Path, demos: list[Demo]
) -> None:
    checkout = tmp_path / "checkout"
    dist = fake_checkout(checkout, "checkout-build")
    demo = Demo(checkout, demo_env(tmp_path))
    demos.append(demo)
    page = httpx.get(demo.url)
    assert page.status_code == 200 and "checkout-build" in page.text
    assert httpx.get(f"{demo.url}assets/app.js").status_code == 200
    assert httpx.get(f"{demo.url}api/v1/experts").status_code == 200
    stdout, _ = demo.output()
    assert f"front end: {dist}\n" in stdout
    assert stdout.endswith(f"open {demo.url} (Ctrl+C stops)\n")


def test_static_dir_wins_over_the_checkout(tmp_path: Path, demos: list[Demo]) -> None:
    checkout = tmp_path / "checkout"
    fake_checkout(checkout, "checkout-build")
    chosen = fake_checkout(tmp_path / "elsewhere", "chosen-build")
    demo = Demo(checkout, {**demo_env(tmp_path), "STATIC_DIR": str(chosen)})
    demos.append(demo)
    assert "chosen-build" in httpx.get(demo.url).text
    stdout, _ = demo.output()
    assert f"front end: {chosen}\n" in stdout


def test_demo_without_a_built_front_end_says_so_and_serves_the_api(
    tmp_path: Path, demos: list[Demo]
) -> None:
    """Run from a folder that is no checkout, with the package itself copied out of this one
    (so its own checkout, where setup may have built the front end, is not found either)."""
    package = tmp_path / "copy" / "app" / "experts_panel"
    shutil.copytree(
        Path(experts_panel.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__")
    )
    cwd = tmp_path / "somewhere"
    cwd.mkdir()
    env = demo_env(tmp_path)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(package.parent), env.get("PYTHONPATH")]))
    demo = Demo(cwd, env)
    demos.append(demo)
    assert httpx.get(demo.url).status_code == 404
    assert httpx.get(f"{demo.url}health").status_code == 200
    stdout, stderr = demo.output()
    places = f"{cwd}/frontend/dist or {tmp_path}/copy/frontend/dist"
    assert stderr.startswith(
        f"warning: no built front end (no index.html in {places}); build it with "
        "./scripts/setup in a checkout, or set STATIC_DIR. Serving the API alone.\n"
    )
    assert stdout.endswith(f"open {demo.url}api/docs for the API (Ctrl+C stops)\n")


def test_a_static_dir_without_index_html_is_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "dist"
    empty.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "experts_panel.cli", "demo"],
        cwd=tmp_path,
        env={**demo_env(tmp_path), "STATIC_DIR": str(empty)},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 1
    assert done.stderr == (
        f"error: STATIC_DIR={empty}: no index.html there; build the front end (./scripts/setup)\n"
    )
    assert not (tmp_path / "data").exists()  # refused before the demo recreated anything


def test_the_checkout_it_runs_in_comes_before_the_package_checkout(tmp_path: Path) -> None:
    here = fake_checkout(tmp_path / "here", "here")
    package = fake_checkout(tmp_path / "package", "package")
    bare = tmp_path / "bare"
    bare.mkdir()
    assert find_front_end(here.parent.parent, package.parent.parent) == here
    assert find_front_end(bare, package.parent.parent) == package
    assert find_front_end(bare, bare) is None
    # A dist folder without its index.html is an unfinished build, not a front end.
    (here / "index.html").unlink()
    assert find_front_end(here.parent.parent, bare) is None
    assert not_found(bare, bare) == (
        f"no built front end (no index.html in {bare}/frontend/dist); build it with "
        "./scripts/setup in a checkout, or set STATIC_DIR. Serving the API alone."
    )
