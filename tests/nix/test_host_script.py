"""The VM test's testScript (nix/tests/host.nix), run through a stub of the NixOS test driver.

nixpkgs cannot be fetched here, so the VM test itself cannot run. What can: Nix evaluates the
testScript exactly as runNixOSTest would hand it to the driver (tests/nix/host-test-script.nix,
with stand-ins for the values it reads from nixpkgs and the nodes), then

- the checks nixpkgs runs before it builds the driver: pyflakes' checks (ruff's F rules, with
  the node names and the driver's symbols as builtins) and mypy --no-implicit-optional over the
  script with the driver's types (tests/nix/driver_stub.py's, which have the real signatures);
- the script itself, executed as the driver executes it, against tests/nix/host_model.py, a
  model of the three machines: every call goes to a method the real driver has, with
  arguments it takes, and every subtest runs to its end on a healthy host;
- on a host broken in one way (a stack process as root, a certificate not from Pebble, a
  request lost during renewal, ...) the script fails in the subtest that checks it, so its
  checks can fail;
- a copy with a misspelt method, a keyword the driver does not take, or an unknown name fails.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from .driver_stub import DRIVER_SYMBOLS, Driver, RequestedAssertionFailed, typed_script
from .host_model import (
    CA_DOMAIN,
    HOME,
    NODES,
    SERVICE,
    SITE_PACKAGES,
    USER,
    Faults,
    HostModel,
)

REPO = Path(__file__).resolve().parents[2]
TRIXIE_NIX = REPO / "tests/nix/trixie-nix"
HERE = Path(__file__).resolve().parent
DOCS = REPO / "docs/nix.md"


@dataclass(frozen=True)
class Evaluated:
    script: str
    files: dict[str, tuple[str, str]]  # store path -> (name, text), from pkgs.writeText


@pytest.fixture(scope="module")
def evaluated() -> Evaluated:
    """host.nix's testScript as Nix evaluates it, and the files it writes with writeText."""
    args = {"caDomain": CA_DOMAIN, "home": HOME, "service": SERVICE, "sitePackages": SITE_PACKAGES}
    cmd = [str(TRIXIE_NIX), "nix-instantiate", "--eval", "--strict", "--json"]
    for name, value in args.items():
        cmd += ["--argstr", name, value]
    cmd.append("/src/tests/nix/host-test-script.nix")
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    files: dict[str, tuple[str, str]] = {}
    for line in done.stderr.splitlines():
        if line.startswith("trace: "):
            traced = json.loads(line.removeprefix("trace: "))
            files[traced["path"]] = (traced["name"], traced["text"])
    script = json.loads(done.stdout)
    assert isinstance(script, str)
    return Evaluated(script, files)


def driver_for(evaluated: Evaluated, faults: Faults | None = None) -> Driver:
    """The stub driver for the three nodes, their commands answered by a fresh model."""
    model = HostModel(
        files={path: name for path, (name, _) in evaluated.files.items()},
        faults=faults or Faults(),
    )
    return Driver(NODES, model)


def lint(source: str) -> subprocess.CompletedProcess[str]:
    """pyflakes' checks as nixpkgs runs them: the nodes and the driver symbols are builtins."""
    builtins = json.dumps([*NODES, *DRIVER_SYMBOLS])
    ruff = Path(sys.executable).parent / "ruff"
    cmd = [str(ruff), "check", "--isolated", "--select", "F", "--config", f"builtins = {builtins}"]
    cmd += ["--stdin-filename", "testScript.py", "-"]
    return subprocess.run(cmd, input=source, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the module's mypy runs: the standard library's types are read once."""
    return tmp_path_factory.mktemp("mypy-cache")


def type_check(source: str, tmp_path: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    """mypy as nixpkgs' driver.nix runs it, over the script with the driver's types first."""
    path = tmp_path / "testScriptWithTypes.py"
    path.write_text(typed_script(source, NODES), encoding="utf-8")
    (tmp_path / "mypy.ini").write_text("[mypy]\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--no-implicit-optional"]
    cmd += ["--pretty", "--no-color-output", "--cache-dir", str(cache), path.name]
    env = os.environ | {"MYPYPATH": str(HERE)}
    return subprocess.run(
        cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def one_line(text: str) -> str:
    """mypy --pretty wraps its messages: joined again for matching."""
    return " ".join(text.split())


def mutate(script: str, old: str, new: str) -> str:
    assert script.count(old) == 1, f"{old!r} is not once in the script"
    return script.replace(old, new)


def subtests_in(script: str) -> list[str]:
    return re.findall(r'^with subtest\("([^"]+)"\):$', script, re.MULTILINE)


def test_nix_hands_the_driver_valid_python_with_the_values_interpolated(
    evaluated: Evaluated,
) -> None:
    compile(evaluated.script, "<testScript>", "exec")
    assert "${" not in evaluated.script
    assert f"--machine={USER}@ --user" in evaluated.script
    assert f"--property=EnvironmentFile={HOME}/.config/experts-panel/env" in evaluated.script
    assert (
        f"{SERVICE}/{SITE_PACKAGES}/experts_panel/demo/data/selfhost_ops.json" in evaluated.script
    )
    assert sorted(name for name, _ in evaluated.files.values()) == [
        "load-probe.py",
        "sse-probe.py",
    ]
    for path in evaluated.files:
        assert path in evaluated.script


def test_the_script_passes_the_lint_nixpkgs_runs(evaluated: Evaluated) -> None:
    done = lint(evaluated.script)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_script_passes_the_type_check_nixpkgs_runs(
    evaluated: Evaluated, tmp_path: Path, mypy_cache: Path
) -> None:
    done = type_check(evaluated.script, tmp_path, mypy_cache)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_probes_it_copies_to_the_client_are_valid_python(evaluated: Evaluated) -> None:
    for name, text in evaluated.files.values():
        compile(text, name, "exec")
        done = lint(text)
        assert done.returncode == 0, f"{name}: {done.stdout}"


def test_every_subtest_runs_to_its_end_on_a_healthy_host(evaluated: Evaluated) -> None:
    record = driver_for(evaluated).run(evaluated.script)
    assert record.subtests == subtests_in(evaluated.script)
    assert len(record.subtests) >= 10
    assert record.failed_in is None
    # docs/nix.md lists each driver method the script calls, with the signature it was checked
    # against: exactly the ones the run called.
    section = DOCS.read_text(encoding="utf-8").split("The driver methods the script uses")[1]
    documented = set(re.findall(r"^\| `(\w+)\(", section, re.MULTILINE))
    assert {call.method for call in record.calls} == documented
    # The stack is driven as its user, through that user's systemd, never as root.
    for machine, command, _ in record.commands:
        if machine == "server" and re.search(r"podman|experts-panel-(?!refresh)", command):
            assert command.startswith(
                (f"systemd-run --machine={USER}@ --user ", f"systemctl --machine={USER}@ --user ")
            ), command


BROKEN = [
    (Faults(password_login=True), "The host: SSH by key only"),
    (Faults(unhealthy_api=True), "systemctl --user start experts-panel brings the stack up"),
    (Faults(root_process=True), "Nothing of the stack runs as root"),
    (Faults(placeholder_trusted=True), "Before the first certificate"),
    (Faults(issuer="CN = panel.test"), "certbot gets a certificate from Pebble"),
    (Faults(redirect="302 http://panel.test/some/page"), "HTTP redirects to HTTPS"),
    (Faults(buffered_stream=True), "An SSE query streams through nginx"),
    (Faults(restore_loses_expert=True), "The backup timer's service takes a verified backup"),
    (Faults(renewal_keeps_serial=True), "Renewal: nginx serves the new certificate"),
    (Faults(failed_requests=1), "Renewal: nginx serves the new certificate"),
    (Faults(api_stays_dead=True), "A killed API is brought back by systemd"),
    (Faults(data_lost_on_reboot=True), "After a reboot the stack is back with its data"),
]


@pytest.mark.parametrize(("faults", "subtest"), BROKEN)
def test_a_broken_host_fails_the_subtest_that_checks_it(
    evaluated: Evaluated, faults: Faults, subtest: str
) -> None:
    driver = driver_for(evaluated, faults)
    with pytest.raises((AssertionError, RequestedAssertionFailed)):
        driver.run(evaluated.script)
    assert driver.record.failed_in is not None
    assert driver.record.failed_in.startswith(subtest)


def test_a_misspelt_method_fails_the_type_check_and_the_run(
    evaluated: Evaluated, tmp_path: Path, mypy_cache: Path
) -> None:
    script = mutate(evaluated.script, "acme.wait_for_open_port(443)", "acme.wait_for_port(443)")
    done = type_check(script, tmp_path, mypy_cache)
    assert done.returncode == 1
    assert '"QemuMachine" has no attribute "wait_for_port"' in one_line(done.stdout)
    with pytest.raises(AttributeError, match="wait_for_port"):
        driver_for(evaluated).run(script)


def test_a_keyword_the_driver_does_not_take_fails_the_type_check_and_the_run(
    evaluated: Evaluated, tmp_path: Path, mypy_cache: Path
) -> None:
    old = '"curl -fsS --cacert /tmp/pebble-root.pem https://panel.test/health", timeout=60'
    script = mutate(evaluated.script, old, old.replace("timeout=", "timeout_seconds="))
    done = type_check(script, tmp_path, mypy_cache)
    assert done.returncode == 1
    assert 'Unexpected keyword argument "timeout_seconds"' in one_line(done.stdout)
    with pytest.raises(TypeError, match="timeout_seconds"):
        driver_for(evaluated).run(script)


def test_a_wrong_keyword_inside_a_helper_fails_the_run(evaluated: Evaluated) -> None:
    # mypy leaves the bodies of unannotated functions alone, in nixpkgs as here: the run is
    # what catches this one.
    old = 'server.wait_until_succeeds(user_systemctl(f"is-active {unit}"), timeout=900)'
    script = mutate(evaluated.script, old, old.replace("timeout=", "time_out="))
    with pytest.raises(TypeError, match="time_out"):
        driver_for(evaluated).run(script)


def test_an_unknown_name_fails_the_lint_and_the_run(evaluated: Evaluated) -> None:
    script = mutate(
        evaluated.script, 'sshd = server.succeed("sshd -T")', 'sshd = sever.succeed("sshd -T")'
    )
    done = lint(script)
    assert done.returncode == 1
    assert "F821 Undefined name `sever`" in done.stdout
    with pytest.raises(NameError, match="sever"):
        driver_for(evaluated).run(script)
