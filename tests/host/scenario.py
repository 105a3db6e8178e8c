"""The whole-host test's scenario, run as root by host-test.service once the test host is up.

Reads like an operator's runbook: each step prints `== name`, then `ok` or `FAIL` with what
went wrong, and its time. The first failure stops the run (later steps build on earlier ones).
Everything the stack does runs as the operator's user through that user's own systemd manager
(`systemd-run --user -M USER@`), as after a login on a VPS.

Writes to /out (artifacts/host/ outside): result.log, steps/NN-name.log with every command
and its output, timings.json, and the journals and container logs at the end.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shlex
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

OUT = Path("/out")
HERE = Path(__file__).resolve().parent
SPEC = json.loads((HERE / "spec.json").read_text())
USER = dict(line.split("=", 1) for line in (HERE / "env").read_text().split())["HOST_USER"]
PW = pwd.getpwnam(USER)
HOME = Path(PW.pw_dir)
# The project's files as the operator copied them to the host (tests/host/prepare-host).
SOURCE = HOME / "install"
DOMAIN = "panel.test"
PEBBLE_CA = "/etc/pebble/ca.pem"
API, WEB = SPEC["images"]["api"], SPEC["images"]["web"]
POD = SPEC["pod"]
AS_USER = [
    "systemd-run",
    "--user",
    f"--machine={USER}@",
    "--pipe",
    "--wait",
    "--quiet",
    "--collect",
]


class Failure(Exception):
    """A check did not hold; the message says what was expected and what was found."""


class Runbook:
    def __init__(self) -> None:
        (OUT / "steps").mkdir(parents=True, exist_ok=True)
        self.result = (OUT / "result.log").open("a", buffering=1)
        self.log = self.result
        self.number = 0
        self.start = time.monotonic()
        self.timings: dict[str, float] = {}

    def say(self, line: str) -> None:
        print(line, flush=True)
        self.result.write(line + "\n")

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        self.number += 1
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:50]
        path = OUT / "steps" / f"{self.number:02d}-{slug}.log"
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
        self.timings[f"step {self.number:02d}"] = round(time.monotonic() - started, 1)
        self.say(f"ok ({time.monotonic() - started:.1f} s)")

    def sh(
        self,
        cmd: Sequence[str],
        *,
        check: bool = True,
        input: str | None = None,
        timeout: float = 120,
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
            )
        except subprocess.TimeoutExpired as exc:
            raise Failure(f"{shlex.join(cmd)}: no result within {timeout:.0f} s") from exc
        self.log.write(f"{done.stdout}{done.stderr}[exit {done.returncode}]\n")
        if check and done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
            raise Failure(f"{shlex.join(cmd)} exited {done.returncode}: {' | '.join(tail)}")
        return done

    def user(
        self, *cmd: str, check: bool = True, input: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """CMD as the operator's user, inside that user's systemd manager (like a login)."""
        return self.sh([*AS_USER, "--", *cmd], check=check, input=input, timeout=timeout)

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
# Moments later steps measure from.
moments: dict[str, float] = {}


def curl(*args: str, timeout: float = 10) -> subprocess.CompletedProcess[str]:
    cmd = ["curl", "-sS", "--max-time", str(timeout), *args]
    return rb.sh(cmd, check=False, timeout=timeout + 5)


def podman_inspect(name: str) -> Any:
    (info,) = json.loads(rb.user("podman", "inspect", name).stdout)
    return info


# --- The host -------------------------------------------------------------------------------


def host_is_up() -> None:
    if Path("/proc/1/comm").read_text().strip() != "systemd":
        raise Failure("PID 1 is not systemd")
    # Not `is-system-running --wait`: this very service is part of the start-up it waits for.
    rb.sh(["systemctl", "is-active", "multi-user.target", "pebble.service"])
    failed = rb.sh(["systemctl", "--failed", "--plain", "--no-legend"]).stdout.split("\n")
    if names := [line.split()[0] for line in failed if line.strip()]:
        rb.say(f"   failed units (not the stack's): {' '.join(names)}")
    # /proc/uptime is the machine's; PID 1's start is the test host's boot.
    ticks = int(Path("/proc/1/stat").read_text().rsplit(")", 1)[1].split()[19])
    booted = ticks / os.sysconf("SC_CLK_TCK")
    target = ["systemctl", "show", "-P", "ActiveEnterTimestampMonotonic", "multi-user.target"]
    ready = int(rb.sh(target).stdout)
    rb.timings["boot_to_multi_user_s"] = round(ready / 1e6 - booted, 1)
    rb.say(f"   multi-user.target {rb.timings['boot_to_multi_user_s']} s after PID 1 started")
    ports = Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text().strip()
    if ports != "80":
        raise Failure(f"net.ipv4.ip_unprivileged_port_start is {ports}, expected 80")


def pebble_answers() -> None:
    def directory() -> bool:
        done = curl("--cacert", PEBBLE_CA, "https://localhost:14000/dir")
        return done.returncode == 0 and "newOrder" in done.stdout

    rb.wait_for("Pebble's directory", directory, 30)


def user_manager_runs() -> None:
    linger = rb.sh(["loginctl", "show-user", USER, "--property=Linger"]).stdout.strip()
    if linger != "Linger=yes":
        raise Failure(f"{USER}: {linger}, expected Linger=yes")

    def running() -> bool:
        state = rb.systemctl("is-system-running", check=False).stdout.strip()
        return state in ("running", "degraded")

    rb.wait_for(f"{USER}'s systemd manager", running, 60)


def rootless_podman() -> None:
    fmt = (
        "{{.Version.Version}} {{.Host.Security.Rootless}} {{.Host.CgroupsVersion}} "
        "{{.Host.RootlessNetworkCmd}}"
    )
    version, rootless, cgroups, network = rb.user("podman", "info", "--format", fmt).stdout.split()
    rb.say(f"   podman {version}, rootless={rootless}, cgroups {cgroups}, network {network}")
    if rootless != "true":
        raise Failure("podman does not run rootless")
    if tuple(int(x) for x in version.split(".")[:2]) < (5, 3):
        raise Failure(f"podman {version}: the pod unit needs 5.3 or newer")


# --- The images -----------------------------------------------------------------------------


def images_load() -> None:
    for image in (API, WEB):
        archive = SOURCE / "images" / f"{image['container']}.tar"
        started = time.monotonic()
        out = rb.user("podman", "load", "--input", str(archive), timeout=300).stdout
        tag = f"{image['name']}:{image['tag']}"
        if tag not in out:
            raise Failure(f"podman load {archive.name} did not name {tag}: {out.strip()}")
        rb.timings[f"load_{image['container']}_s"] = round(time.monotonic() - started, 1)


def seconds(duration: str) -> int:
    return int(duration[:-1]) * {"s": 1, "m": 60, "h": 3600}[duration[-1]]


HEALTH_KEYS = ("Test", "Interval", "Timeout", "Retries", "StartPeriod")


def images_match_spec() -> None:
    """What Podman read from each archive is what spec.json says."""
    user = SPEC["user"]
    for image in (API, WEB):
        tag = f"{image['name']}:{image['tag']}"
        (info,) = json.loads(rb.user("podman", "image", "inspect", tag).stdout)
        config, health, spec_health = info["Config"], info.get("Healthcheck") or {}, image["health"]
        found = {
            "user": config.get("User"),
            "ports": sorted(config.get("ExposedPorts", {})),
            "volumes": sorted(config.get("Volumes", {})),
            "entrypoint": config.get("Entrypoint"),
            "env": sorted(config.get("Env", [])),
            "health": [health.get(k) for k in HEALTH_KEYS],
            "stop_signal": config.get("StopSignal"),
        }
        expected = {
            "user": f"{user['uid']}:{user['gid']}",
            "ports": sorted(f"{p}/tcp" for p in image["ports"]),
            "volumes": sorted(image["volumes"].values()),
            "entrypoint": image["entrypoint"],
            "env": sorted(f"{k}={v}" for k, v in image["env"].items()),
            "health": [
                ["CMD", *spec_health["cmd"]],
                seconds(spec_health["interval"]) * 10**9,
                seconds(spec_health["timeout"]) * 10**9,
                spec_health["retries"],
                seconds(spec_health["start_period"]) * 10**9,
            ],
            "stop_signal": image["stop_signal"],
        }
        if wrong := [f"{k}: {found[k]!r}, not {v!r}" for k, v in expected.items() if found[k] != v]:
            raise Failure(f"{tag}: " + "; ".join(wrong))


# --- The stack ------------------------------------------------------------------------------

# Where each file installs, as quadlet/README.md lays out.
INSTALL = """
set -eu
cd ~/install
mkdir -p ~/.config/containers/systemd ~/.config/systemd/user ~/.local/lib/experts-panel
install -m644 quadlet/*.pod quadlet/*.container quadlet/*.volume ~/.config/containers/systemd/
install -m644 quadlet/*.service quadlet/*.timer ~/.config/systemd/user/
install -m755 quadlet/bin/* backup/experts-panel-backup backup/experts-panel-restore \
  ~/.local/lib/experts-panel/
"""


def install_units() -> None:
    rb.user("sh", "-c", INSTALL)
    # No key: a single newline (Podman refuses an empty secret; the service strips it).
    rb.user("podman", "secret", "create", "--replace", SPEC["secret"]["name"], "-", input="\n")
    rb.systemctl("daemon-reload")
    for unit in (POD["service"], API["container"], WEB["container"]):
        state = rb.systemctl("show", "-P", "LoadState", f"{unit}.service").stdout.strip()
        if state != "loaded":
            raise Failure(f"{unit}.service: LoadState={state}; Quadlet did not generate it")
    for image in (API, WEB):
        unit, memory = f"{image['container']}.service", f"--memory={image['memory']}"
        if memory not in rb.systemctl("show", "-P", "ExecStart", unit).stdout:
            raise Failure(f"{unit} does not ask for {memory}")
    rb.say("   memory limits as spec.json says; lifted here (nspawn has no memory controller)")


def start_stack() -> None:
    moments["start"] = time.monotonic()
    rb.systemctl("start", POD["service"], timeout=400)


def stack_healthy() -> None:
    """Both units active and both containers healthy by Podman's own timers, untouched."""

    def healthy() -> bool:
        names = [API["container"], WEB["container"]]
        if rb.systemctl("is-active", *(f"{n}.service" for n in names), check=False).returncode:
            return False
        fmt = "{{.State.Health.Status}}"
        done = rb.user("podman", "inspect", "--format", fmt, *names, check=False)
        return done.returncode == 0 and done.stdout.split() == ["healthy", "healthy"]

    timeout = seconds(API["health"]["start_period"]) + 2 * seconds(API["health"]["interval"])
    rb.wait_for("both units active, both containers healthy", healthy, timeout, every=1)
    took = rb.timings["start_to_healthy_s"] = round(time.monotonic() - moments["start"], 1)
    rb.say(f"   healthy {took} s after `systemctl --user start {POD['service']}`")
    # The health commands themselves, as spec.json gives them (exec form, no shell).
    for image in (API, WEB):
        rb.user("podman", "healthcheck", "run", image["container"])


def https_health() -> None:
    url = f"https://{DOMAIN}/health"
    done = curl("-k", "-w", "\n%{http_code}", url)
    body, _, code = done.stdout.rpartition("\n")
    if code != "200" or json.loads(body).get("status") != "healthy":
        raise Failure(f"{url} answered {code or done.stderr.strip()}: {body[:200]}")
    # Before any issuance nginx serves the self-signed placeholder.
    served = f"openssl s_client -connect {DOMAIN}:443 -servername {DOMAIN} </dev/null 2>/dev/null"
    names = rb.sh(["sh", "-c", f"{served} | openssl x509 -noout -issuer -subject"]).stdout
    rb.say(f"   served certificate: {'; '.join(names.splitlines())}")


def http_redirects() -> None:
    url = f"http://{DOMAIN}/some/page?x=1"
    done = curl("-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", url)
    if done.stdout.strip() != f"301 https://{DOMAIN}/some/page?x=1":
        raise Failure(f"{url} answered {done.stdout.strip()!r}, expected a 301 to https")


def front_end_served() -> None:
    done = curl("-k", "-w", "\n%{http_code}", f"https://{DOMAIN}/")
    if not done.stdout.endswith("\n200") or '<div id="root">' not in done.stdout:
        raise Failure(f"https://{DOMAIN}/ did not serve the front end: {done.stdout[:200]!r}")


# Run inside the API container: its Python, its user, its read-only root and tmpfs /tmp.
MODELS = """
from experts_panel.language import detect_language
from experts_panel.retrieval.embedder import UniversalSentenceEncoder
language = detect_language("Как делать резервные копии базы данных SQLite без остановки?")
vectors = UniversalSentenceEncoder(threads=1).encode(["backups", "резервные копии"])
print(language, vectors.shape)
"""


def models_on_read_only_root() -> None:
    """The embedded model and the language detector load with nothing writable but /tmp."""
    python = "/opt/experts-panel/bin/python"
    done = rb.user("podman", "exec", API["container"], python, "-c", MODELS, timeout=180)
    if done.stdout.split() != ["ru", "(2,", "512)"]:
        raise Failure(f"expected 'ru (2, 512)', got {done.stdout.strip()!r} {done.stderr[-300:]!r}")


def volumes_belong_to_user() -> None:
    """keep-id: uid 10001 in the containers is the host user, so host scripts own the files."""
    volume = SPEC["volumes"]["data"]
    mount = rb.user("podman", "volume", "inspect", "--format", "{{.Mountpoint}}", volume)
    database = Path(mount.stdout.strip()) / Path(API["env"]["DATABASE_URL"]).name
    if not database.exists():
        raise Failure(f"{database} does not exist")
    owner = database.stat().st_uid
    if owner != PW.pw_uid:
        raise Failure(f"{database} belongs to uid {owner}, not {USER} ({PW.pw_uid})")


def status_field(pid: int, field: str) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return line.split(":", 1)[1].strip()
    raise Failure(f"/proc/{pid}/status has no {field}")


def nothing_runs_as_root() -> None:
    """The containers' processes are the host user with no capability; nothing of it is root."""
    for image in (API, WEB):
        info = podman_inspect(image["container"])
        pid = info["State"]["Pid"]
        uids = status_field(pid, "Uid").split()
        capabilities = int(status_field(pid, "CapEff"), 16)
        if set(uids) != {str(PW.pw_uid)} or capabilities:
            raise Failure(f"{image['container']} (pid {pid}): uids {uids}, CapEff {capabilities:x}")
        host = info["HostConfig"]
        if not host["ReadonlyRootfs"]:
            raise Failure(f"{image['container']}: the root file system is writable")
        if "no-new-privileges" not in str(host["SecurityOpt"]):
            raise Failure(f"{image['container']}: new privileges allowed")
    ps = rb.sh(["ps", "-eo", "uid=,pid=,args="]).stdout.splitlines()
    words = ("podman", "conmon", "pasta", "nginx", "experts-panel", "rootlessport", "catatonit")
    ours = ("ps -eo", "systemd-run")  # the test's own commands
    stack = [p for p in ps if any(w in p for w in words) and not any(o in p for o in ours)]
    if root := [p for p in stack if p.split()[0] == "0"]:
        raise Failure("running as root: " + " | ".join(root))
    rb.say(f"   {len(stack)} processes of the stack, all uid {PW.pw_uid} ({USER})")


# --- Diagnostics ----------------------------------------------------------------------------


def collect() -> None:
    """What a failure needs for its explanation, written whatever the result."""

    def save(name: str, cmd: list[str]) -> None:
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
            (OUT / name).write_text(done.stdout + done.stderr)
        except Exception as exc:  # diagnostics must not hide the result
            (OUT / name).write_text(f"{cmd}: {exc}\n")

    journal = ["journalctl", "-b", "--no-pager", "-o", "short-monotonic"]
    save("journal.log", journal)
    save("journal-user.log", [*journal, f"_UID={PW.pw_uid}"])
    save("podman-ps.log", [*AS_USER, "podman", "ps", "--all"])
    for image in (API, WEB):
        name = image["container"]
        save(f"logs-{name}.log", [*AS_USER, "podman", "logs", "--timestamps", name])


STEPS: list[tuple[str, Callable[[], None]]] = [
    ("the host runs systemd as PID 1", host_is_up),
    ("Pebble answers on https://localhost:14000/dir", pebble_answers),
    (f"{USER}'s manager runs without a login (lingering)", user_manager_runs),
    ("rootless Podman 5.3+", rootless_podman),
    ("the images load as the user (podman load)", images_load),
    ("the loaded images match images/spec.json", images_match_spec),
    ("the units install as quadlet/README.md says", install_units),
    (f"systemctl --user start {POD['service']}", start_stack),
    ("the stack becomes healthy", stack_healthy),
    (f"https://{DOMAIN}/health answers through nginx", https_health),
    (f"http://{DOMAIN} redirects to https", http_redirects),
    ("the front end is served", front_end_served),
    (
        "the embedded model and language detector work on the read-only root",
        models_on_read_only_root,
    ),
    ("the volumes' files belong to the host user (keep-id)", volumes_belong_to_user),
    ("no process of the stack runs as root", nothing_runs_as_root),
]


def main() -> int:
    status = 0
    try:
        for name, check in STEPS:
            with rb.step(name):
                check()
        rb.say("PASS")
    except Exception:  # the step has said what failed
        rb.say("FAILED")
        status = 1
    rb.timings["scenario_s"] = round(time.monotonic() - rb.start, 1)
    (OUT / "timings.json").write_text(json.dumps(rb.timings, indent=2) + "\n")
    collect()
    return status


if __name__ == "__main__":
    sys.exit(main())
