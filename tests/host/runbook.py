"""The whole-host test's machinery, shared by the steps in scenario.py: the runbook (steps,
their logs and times, figures), the state kept across the reboot, commands as root and as the
stack's user, and probes of the stack (health, HTTPS, processes).
"""

from __future__ import annotations

import http.client
import json
import os
import pwd
import re
import shlex
import socket
import ssl
import subprocess
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

OUT = Path("/out")
HERE = Path(__file__).resolve().parent
SPEC = json.loads((HERE / "spec.json").read_text())
# Survive the reboot (the host's own disk), unlike /run and /tmp.
WORK = Path("/var/lib/host-test")
STATE = WORK / "state.json"
PEBBLE_ROOT = WORK / "pebble-root.pem"
# The install script's default user, and the test's domain (/etc/hosts points it here).
USER = "experts-panel"
DOMAIN = "panel.test"
PEBBLE_CA = "/etc/pebble/ca.pem"  # the CA of Pebble's own HTTPS (its ACME API)
PEBBLE_ROOTS = "https://localhost:15000/roots/0"  # the root that signs issued certificates
API, WEB = SPEC["images"]["api"], SPEC["images"]["web"]
POD = SPEC["pod"]["service"]
# Active once both containers are healthy; podman auto-update restarts the stack through it.
HEALTHY = "experts-panel-healthy.service"
CONTAINERS = [API["container"], WEB["container"]]
# How long a start may take in this test: the units' own allowance is longer.
START_TIMEOUT = 180
ENV_FILE = ".config/experts-panel/env"


class Failure(Exception):
    """A check did not hold; the message says what was expected and what was found."""


@dataclass
class State:
    """What the first boot found, for the second boot to compare against."""

    boots: int = 0
    step: int = 0
    experts: list[dict[str, Any]] = field(default_factory=list)
    serial: str = ""
    backup: str = ""
    api_image: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def load(cls) -> State:
        return cls(**json.loads(STATE.read_text())) if STATE.exists() else cls()

    def save(self) -> None:
        STATE.write_text(json.dumps(self.__dict__, indent=2) + "\n")


state = State.load()


class Runbook:
    def __init__(self) -> None:
        (OUT / "steps").mkdir(parents=True, exist_ok=True)
        self.result = (OUT / "result.log").open("a", buffering=1)
        self.log = self.result
        self.start = time.monotonic()

    def say(self, line: str) -> None:
        print(line, flush=True)
        self.result.write(line + "\n")

    def figure(self, name: str, value: float, line: str) -> None:
        """A measured figure: kept in timings.json and said in the runbook."""
        state.timings[name] = round(value, 2)
        self.say(f"   {line}")

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        state.step += 1
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:50]
        path = OUT / "steps" / f"{state.step:02d}-{slug}.log"
        self.say(f"== {name}")
        started = time.monotonic()
        with path.open("w", buffering=1) as self.log:
            try:
                yield
            except Exception as exc:
                self.log.write(traceback.format_exc())
                why = str(exc) if isinstance(exc, Failure) else traceback.format_exc()
                self.say(f"FAIL ({time.monotonic() - started:.1f} s): {why}")
                self.say(f"   details: artifacts/host/steps/{path.name}")
                raise
            finally:
                self.log = self.result
        took = time.monotonic() - started
        state.timings[f"step {state.step:02d}"] = round(took, 1)
        self.say(f"ok ({took:.1f} s)")

    def sh(
        self,
        cmd: Sequence[str],
        *,
        check: bool = True,
        input: str | None = None,
        timeout: float = 120,
        cwd: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run CMD, log it and its output in the step's log; a non-zero exit fails the step."""
        self.log.write(f"$ {shlex.join(cmd)}\n")
        try:
            done = subprocess.run(
                cmd,
                input=input,
                stdin=None if input is not None else subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                cwd=cwd,
            )
        except subprocess.TimeoutExpired as exc:
            raise Failure(f"{shlex.join(cmd)}: no result within {timeout:.0f} s") from exc
        self.log.write(f"{done.stdout}{done.stderr}[exit {done.returncode}]\n")
        if check and done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
            raise Failure(f"{shlex.join(cmd)} exited {done.returncode}: {' | '.join(tail)}")
        return done

    def user(
        self,
        *cmd: str,
        check: bool = True,
        input: str | None = None,
        timeout: float = 120,
        env_file: bool = False,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """CMD as the operator's user, inside that user's systemd manager (like a login), in
        CWD (the user's home unless given). With env_file, the settings file is read as the
        units read it (EnvironmentFile=)."""
        run = ["systemd-run", "--user", f"--machine={USER}@", "--pipe", "--wait", "--quiet"]
        run += ["--collect", f"--working-directory={cwd or home()}"]
        if env_file:
            run.append(f"--property=EnvironmentFile={home() / ENV_FILE}")
        return self.sh([*run, "--", *cmd], check=check, input=input, timeout=timeout)

    def systemctl(
        self, *args: str, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        cmd = ["systemctl", "--user", f"--machine={USER}@", *args]
        return self.sh(cmd, check=check, timeout=timeout)

    def wait_for(
        self, what: str, probe: Callable[[], bool], timeout: float, every: float = 0.5
    ) -> float:
        """Poll PROBE until it is true; returns the seconds it took."""
        started = time.monotonic()
        while not probe():
            if time.monotonic() - started > timeout:
                raise Failure(f"{what}: not within {timeout:.0f} s")
            time.sleep(every)
        waited = time.monotonic() - started
        self.log.write(f"{what}: after {waited:.1f} s\n")
        return waited


rb = Runbook()


# --- Helpers --------------------------------------------------------------------------------


@cache
def account() -> pwd.struct_passwd:
    """The operator's user, made by the install script (so looked up only once it exists)."""
    return pwd.getpwnam(USER)


def home() -> Path:
    return Path(account().pw_dir)


def unit_property(unit: str, name: str) -> str:
    return rb.systemctl("show", "-P", name, unit).stdout.strip()


def monotonic_s(unit: str, name: str) -> float:
    """A unit's *TimestampMonotonic property, in seconds."""
    return int(unit_property(unit, name) or 0) / 1e6


def volume(key: str) -> Path:
    name = SPEC["volumes"][key]
    return Path(
        rb.user("podman", "volume", "inspect", "--format", "{{.Mountpoint}}", name).stdout.strip()
    )


def stack_is_up() -> bool:
    """Both container units active (Notify=healthy: started means healthy), Podman says
    healthy, and the unit that waits for both is active."""
    for unit in [*(f"{name}.service" for name in CONTAINERS), HEALTHY]:
        if rb.systemctl("is-active", "--quiet", unit, check=False).returncode:
            return False
    fmt = "{{.State.Health.Status}}"
    done = rb.user("podman", "inspect", "--format", fmt, *CONTAINERS, check=False)
    return done.returncode == 0 and done.stdout.split() == ["healthy", "healthy"]


def wait_until_up(what: str, timeout: float = START_TIMEOUT) -> None:
    rb.wait_for(what, stack_is_up, timeout, every=0.25)


def curl(*args: str, timeout: float = 10) -> subprocess.CompletedProcess[str]:
    return rb.sh(
        ["curl", "-sS", "--max-time", str(timeout), *args], check=False, timeout=timeout + 5
    )


def root_ca() -> Path:
    """Pebble's current root (new at every Pebble start), which signs what it issues."""
    path = PEBBLE_ROOT
    done = curl("--cacert", PEBBLE_CA, "-o", str(path), "-w", "%{http_code}", PEBBLE_ROOTS)
    if done.returncode != 0 or done.stdout != "200":
        raise Failure(f"{PEBBLE_ROOTS} answered {done.stdout or done.stderr.strip()}")
    return path


def served_certificate(cafile: Path) -> dict[str, Any]:
    """The certificate nginx serves for DOMAIN, verified against CAFILE and the name."""
    context = ssl.create_default_context(cafile=str(cafile))
    with (
        socket.create_connection(("127.0.0.1", 443), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=DOMAIN) as tls,
    ):
        cert = tls.getpeercert()
    assert cert is not None
    return dict(cert)


def issuer(cert: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for rdn in cert["issuer"] for k, v in rdn)


def tls_context(cafile: Path, check_name: bool) -> ssl.SSLContext:
    """Verifies the served certificate against CAFILE, and its name unless told not to (the
    compose stack's self-signed placeholder names no host)."""
    context = ssl.create_default_context(cafile=str(cafile))
    context.check_hostname = check_name
    return context


def https_get(
    path: str, cafile: Path, timeout: float = 10, port: int = 443, check_name: bool = True
) -> tuple[int, bytes]:
    """GET https://DOMAIN/PATH on a new connection, the certificate verified."""
    context = tls_context(cafile, check_name)
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=timeout)
    conn.sock = context.wrap_socket(
        socket.create_connection(("127.0.0.1", port), timeout=timeout), server_hostname=DOMAIN
    )
    try:
        conn.request("GET", path, headers={"Host": DOMAIN})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def experts_via_cli() -> list[dict[str, Any]]:
    cmd = ["podman", "exec", API["container"], "experts-panel", "experts", "list", "--json"]
    rows: list[dict[str, Any]] = json.loads(rb.user(*cmd, timeout=60).stdout)
    return sorted(({"id": r["id"], "posts": r["posts"]} for r in rows), key=lambda r: r["id"])


def experts_via_https(cafile: Path, port: int = 443, check_name: bool = True) -> list[str]:
    status, body = https_get("/api/v1/experts", cafile, port=port, check_name=check_name)
    if status != 200:
        raise Failure(f"https://{DOMAIN}:{port}/api/v1/experts answered {status}: {body[:200]!r}")
    return sorted(e["id"] for e in json.loads(body))


def container_id(name: str) -> str:
    return rb.user("podman", "inspect", "--format", "{{.Id}}", name).stdout.strip()


def status_field(pid: int, name: str) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise Failure(f"/proc/{pid}/status has no {name}")


def booted_at() -> float:
    """PID 1's start, on the monotonic clock (/proc/uptime is the machine's, not the host's)."""
    ticks = int(Path("/proc/1/stat").read_text().rsplit(")", 1)[1].split()[19])
    return ticks / os.sysconf("SC_CLK_TCK")


def seconds(duration: str) -> int:
    return int(duration[:-1]) * {"s": 1, "m": 60, "h": 3600}[duration[-1]]


def read_or_empty(path: str) -> str:
    """A /proc file, or nothing when its process ended meanwhile."""
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def uids(pid: int) -> list[str]:
    """Real, effective, saved and file-system uid of PID (none when it ended meanwhile)."""
    for line in read_or_empty(f"/proc/{pid}/status").splitlines():
        if line.startswith("Uid:"):
            return line.split()[1:]
    return []


QUESTION = "How do I back up a SQLite database while the service keeps running?"


def stream_query(
    cafile: Path, port: int = 443, check_name: bool = True
) -> list[tuple[float, dict[str, Any]]]:
    """POST the question through nginx; each `data:` event with its arrival (wall clock)."""
    context = tls_context(cafile, check_name)
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=120)
    conn.sock = context.wrap_socket(
        socket.create_connection(("127.0.0.1", port), timeout=120), server_hostname=DOMAIN
    )
    body = json.dumps({"query": QUESTION})
    headers = {"Host": DOMAIN, "Content-Type": "application/json", "Accept": "text/event-stream"}
    conn.request("POST", "/api/v1/query", body=body, headers=headers)
    response = conn.getresponse()
    if response.status != 200:
        raise Failure(f"POST /api/v1/query answered {response.status}: {response.read()[:300]!r}")
    kind = response.getheader("Content-Type", "")
    if not kind.startswith("text/event-stream"):
        raise Failure(f"POST /api/v1/query answered {kind!r}, not text/event-stream")
    events = []
    while line := response.readline():
        if line.startswith(b"data:"):
            events.append((time.time(), json.loads(line[5:])))
            rb.log.write(f"{events[-1][0]:.3f} {line[:120].decode(errors='replace')}\n")
    conn.close()
    return events


def sent_at(event: dict[str, Any]) -> float:
    return datetime.fromisoformat(event["timestamp"]).timestamp()


# --- Diagnostics ----------------------------------------------------------------------------


def _save(name: str, cmd: list[str]) -> None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
        (OUT / name).write_text(done.stdout + done.stderr)
    except Exception as exc:  # diagnostics must not hide the result
        (OUT / name).write_text(f"{cmd}: {exc}\n")


_logs_saved: set[str] = set()


def save_container_logs(suffix: str) -> None:
    """The stack's containers and their logs, once a boot: the compose step saves the units'
    before it stops them, since the same names are then the compose stack's."""
    if suffix in _logs_saved:
        return
    _logs_saved.add(suffix)
    run = ["systemd-run", "--user", f"--machine={USER}@", "--pipe", "--wait", "--quiet"]
    _save(f"podman-ps{suffix}.log", [*run, "podman", "ps", "--all"])
    for name in CONTAINERS:
        _save(f"logs-{name}{suffix}.log", [*run, "podman", "logs", "--timestamps", name])


def collect(suffix: str) -> None:
    """What a failure needs for its explanation, written whatever the result."""
    journal = ["journalctl", "-b", "--no-pager", "-o", "short-monotonic"]
    _save(f"journal{suffix}.log", journal)
    try:
        uid = account().pw_uid
    except KeyError:
        return  # the install never made the user
    _save(f"journal-user{suffix}.log", [*journal, f"_UID={uid}"])
    save_container_logs(suffix)
