"""A stand-in for the NixOS test driver that runs a testScript against a model and records calls.

nixpkgs runs a VM test's testScript with `exec` in a namespace of driver symbols (`start_all`,
`subtest`, one `QemuMachine` per node, ...), after type-checking it with mypy against the
driver's classes and linting it with pyflakes. This module gives the same namespace, with the
same names and the same signatures, but each machine answers its commands from a model
(tests/nix/host_model.py) instead of a VM, and every call is recorded. Only what the real
driver has is here: a misspelt method is an AttributeError (and a mypy error), a keyword it
does not take a TypeError (and a mypy error).

Checked against nixpkgs' driver source (NixOS/nixpkgs):
- nixos/lib/test-driver/src/test_driver/machine/__init__.py
  at 019697db058b6738eda0cb2cdcc9f5c014c914cb (BaseMachine and QemuMachine). It has the
  systemd-nspawn machines of nixpkgs#478109, merged in January 2026, and not yet the
  `Duration` timeouts of nixpkgs#542374, opened in July 2026: the driver of the nixos-26.05
  branch, which branched off in May 2026. Every signature below is the same at
  b09f2c739a3e49b80049c1fd80bd8a393cc7fbc1 (the single `Machine` class before). nixpkgs#542374
  widens each `timeout` to `timedelta | int | float` and warns on plain numbers, so the ints
  used here stay valid after it.
- nixos/lib/test-driver/src/test_driver/driver.py at 003d58163f469fbeb0d51e4ef8d46af622759627
  (`Driver.test_symbols`: the names a testScript sees; `retry(fn, timeout_seconds=900)`).
- nixos/lib/testing/driver.nix at 01fbdeef22b76df85ea168fbfe1bfd9e63681b30 (the checks run
  before the driver is built: mypy --no-implicit-optional over test-script-prepend.py, a
  `name: QemuMachine;` line per node and the script; pyflakes with the node names and the
  driver symbols as builtins).
"""

from __future__ import annotations

import os
import re
import unittest
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

# How many times a wait_* call polls the model before it times out. The model's state moves
# only when a command changes it, so a condition still false after a few polls never comes.
POLLS = 5


class TestScriptError(Exception):
    """test_driver.errors.TestScriptError."""


class RequestedAssertionFailed(TestScriptError):
    """test_driver.errors.RequestedAssertionFailed: a succeed/fail/wait_* that did not hold."""


class Answers(Protocol):
    """What a machine asks its model: the exit status and output of a shell command."""

    def run(self, machine: str, command: str) -> tuple[int, str]: ...

    def power(self, machine: str, on: bool) -> None: ...


@dataclass(frozen=True)
class Call:
    """One call of a driver method by the testScript, as it was made."""

    machine: str | None
    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    subtest: str | None


@dataclass
class Record:
    """Everything the testScript did: driver calls, shell commands, subtests entered."""

    calls: list[Call] = field(default_factory=list)
    commands: list[tuple[str, str, int]] = field(default_factory=list)
    subtests: list[str] = field(default_factory=list)
    current: str | None = None
    failed_in: str | None = None  # the innermost subtest an exception left

    def call(self, machine: str | None, method: str, *args: Any, **kwargs: Any) -> None:
        self.calls.append(Call(machine, method, args, kwargs, self.current))


def retry(fn: Callable[[bool], bool], timeout_seconds: int = 900) -> None:
    """test_driver.machine.retry: fn(last_try) until it is true, else RequestedAssertionFailed."""
    for _ in range(POLLS - 1):
        if fn(False):
            return
    if not fn(True):
        raise RequestedAssertionFailed(f"action timed out (timeout={timeout_seconds})")


class QemuMachine:
    """test_driver.machine.QemuMachine (with the methods it inherits from BaseMachine).

    Only the methods a testScript uses to run commands, wait and power the machine are here;
    the screen, keyboard, QEMU monitor and file copy methods are not, so a script that calls
    one fails with an AttributeError until this stub learns it.
    """

    def __init__(self, name: str, answers: Answers, record: Record) -> None:
        self.name = name
        self._answers = answers
        self._record = record
        self.booted = False

    def __repr__(self) -> str:
        return f"<QemuMachine '{self.name}'>"

    def _boot(self) -> None:
        if not self.booted:
            self.booted = True
            self._answers.power(self.name, True)

    def _run(self, command: str) -> tuple[int, str]:
        self._boot()  # as the real execute() does, through connect()
        status, output = self._answers.run(self.name, command)
        self._record.commands.append((self.name, command, status))
        return status, output

    def is_up(self) -> bool:
        return self.booted

    def start(self, allow_reboot: bool = False) -> None:
        self._record.call(self.name, "start", allow_reboot=allow_reboot)
        self._boot()

    def shutdown(self) -> None:
        self._record.call(self.name, "shutdown")
        if self.booted:
            self.booted = False
            self._answers.power(self.name, False)

    def crash(self) -> None:
        self._record.call(self.name, "crash")
        if self.booted:
            self.booted = False
            self._answers.power(self.name, False)

    def execute(
        self,
        command: str,
        check_return: bool = True,
        check_output: bool = True,
        timeout: int | None = 900,
    ) -> tuple[int, str]:
        self._record.call(self.name, "execute", command, timeout=timeout)
        return self._run(command)

    def succeed(self, *commands: str, timeout: int | None = None) -> str:
        self._record.call(self.name, "succeed", *commands, timeout=timeout)
        output = ""
        for command in commands:
            status, out = self._run(command)
            if status != 0:
                raise RequestedAssertionFailed(f"command `{command}` failed (exit code {status})")
            output += out
        return output

    def fail(self, *commands: str, timeout: int | None = None) -> str:
        self._record.call(self.name, "fail", *commands, timeout=timeout)
        output = ""
        for command in commands:
            status, out = self._run(command)
            if status == 0:
                raise RequestedAssertionFailed(f"command `{command}` unexpectedly succeeded")
            output += out
        return output

    def wait_until_succeeds(self, command: str, timeout: int = 900) -> str:
        self._record.call(self.name, "wait_until_succeeds", command, timeout=timeout)
        output = ""

        def succeeded(_last_try: bool) -> bool:
            nonlocal output
            status, output = self._run(command)
            return status == 0

        retry(succeeded, timeout)
        return output

    def wait_until_fails(self, command: str, timeout: int = 900) -> str:
        self._record.call(self.name, "wait_until_fails", command, timeout=timeout)
        output = ""

        def failed(_last_try: bool) -> bool:
            nonlocal output
            status, output = self._run(command)
            return status != 0

        retry(failed, timeout)
        return output

    def systemctl(self, q: str, user: str | None = None) -> tuple[int, str]:
        self._record.call(self.name, "systemctl", q, user=user)
        return self._systemctl(q, user)

    def _systemctl(self, q: str, user: str | None) -> tuple[int, str]:
        """The command the real systemctl() runs, for a user through `su -l` as it does."""
        if user is not None:
            q = q.replace("'", "\\'")
            return self._run(
                f"su -l {user} --shell /bin/sh -c "
                f"$'XDG_RUNTIME_DIR=/run/user/`id -u` systemctl --user {q}'"
            )
        return self._run(f"systemctl {q}")

    def wait_for_unit(self, unit: str, user: str | None = None, timeout: int = 900) -> None:
        """Polls the unit's ActiveState as the real driver does; "failed" fails at once."""
        self._record.call(self.name, "wait_for_unit", unit, user=user, timeout=timeout)
        query = f'--no-pager show "{unit}" --property="ActiveState"'

        def active(_last_try: bool) -> bool:
            status, out = self._systemctl(query, user)
            if status != 0:
                raise RequestedAssertionFailed(f'retrieving the state of "{unit}" failed')
            state = out.strip().removeprefix("ActiveState=")
            if state == "failed":
                raise RequestedAssertionFailed(f'unit "{unit}" reached state "{state}"')
            return state == "active"

        retry(active, timeout)

    def wait_for_open_port(self, port: int, addr: str = "localhost", timeout: int = 900) -> None:
        self._record.call(self.name, "wait_for_open_port", port, addr=addr, timeout=timeout)
        retry(lambda _last: self._run(f"nc -z {addr} {port}")[0] == 0, timeout)

    def wait_for_closed_port(self, port: int, addr: str = "localhost", timeout: int = 900) -> None:
        self._record.call(self.name, "wait_for_closed_port", port, addr=addr, timeout=timeout)
        retry(lambda _last: self._run(f"nc -z {addr} {port}")[0] != 0, timeout)

    def wait_for_file(self, filename: str, timeout: int = 900) -> None:
        self._record.call(self.name, "wait_for_file", filename, timeout=timeout)
        retry(lambda _last: self._run(f"test -e {filename}")[0] == 0, timeout)

    def sleep(self, secs: int) -> None:
        """In guest time, as the real one: `sleep N` on the machine."""
        self._record.call(self.name, "sleep", secs)
        status, _ = self._run(f"sleep {secs}")
        if status != 0:
            raise RequestedAssertionFailed(f"command `sleep {secs}` failed (exit code {status})")


class Driver:
    """The namespace test_driver.driver.Driver.test_symbols gives a testScript."""

    def __init__(self, nodes: list[str], answers: Answers) -> None:
        self.record = Record()
        self.machines = [QemuMachine(name, answers, self.record) for name in sorted(nodes)]

    def start_all(self) -> None:
        self.record.call(None, "start_all")
        for machine in self.machines:
            machine._boot()

    @contextmanager
    def subtest(self, name: str) -> Iterator[None]:
        self.record.call(None, "subtest", name)
        self.record.subtests.append(name)
        outer, self.record.current = self.record.current, name
        try:
            yield
        except BaseException:
            self.record.failed_in = self.record.failed_in or name
            raise
        finally:
            self.record.current = outer

    def symbols(self) -> dict[str, Any]:
        """The driver's names that this stub models, and one per machine (pythonized)."""
        general: dict[str, Any] = {
            "start_all": self.start_all,
            "subtest": self.subtest,
            "machines_qemu": self.machines,
            "machines_nspawn": [],
            "driver": self,
            "os": os,
            "retry": retry,
            "t": unittest.TestCase(),
        }
        named = {pythonize(machine.name): machine for machine in self.machines}
        if len(self.machines) == 1:
            named["machine"] = self.machines[0]
        return general | named

    def run(self, script: str) -> Record:
        """Executes the testScript as the driver does: exec in the symbols' namespace."""
        exec(compile(script, "<testScript>", "exec"), self.symbols(), None)
        return self.record


# Every name Driver.test_symbols gives, for the lint (pyflakes' builtins in nixpkgs), whether
# or not this stub models it.
DRIVER_SYMBOLS = (
    "start_all",
    "test_script",
    "machines_qemu",
    "machines_nspawn",
    "vlans",
    "driver",
    "log",
    "os",
    "create_machine",
    "subtest",
    "run_tests",
    "join_all",
    "retry",
    "serial_stdout_off",
    "serial_stdout_on",
    "polling_condition",
    "BaseMachine",
    "t",
    "debug",
)

# What nixpkgs prepends to the script before mypy (test-script-prepend.py, then a
# `name: QemuMachine;` line per node), with this module in place of test_driver.
TYPE_PREAMBLE = """\
from typing import Any, Callable, ContextManager
from driver_stub import QemuMachine, retry as _retry

start_all: Callable[[], None]
subtest: Callable[[str], ContextManager[None]]
retry = _retry
test_script: Callable[[], None]
machines_qemu: list[QemuMachine]
machines_nspawn: list[Any]
driver: Any
log: Any
create_machine: Any
run_tests: Callable[[], None]
join_all: Callable[[], None]
serial_stdout_off: Callable[[], None]
serial_stdout_on: Callable[[], None]
polling_condition: Any
"""


def pythonize(name: str) -> str:
    """test_driver.driver.pythonize_name: a node's name as a Python identifier."""
    return re.sub(r"^[^A-Za-z_]|[^A-Za-z0-9_]", "_", name)


def typed_script(script: str, nodes: list[str]) -> str:
    """The file nixpkgs' driver.nix hands to mypy."""
    hints = " ".join(f"{pythonize(name)}: QemuMachine;" for name in sorted(nodes))
    return f"{TYPE_PREAMBLE}{hints}\n{script}"
