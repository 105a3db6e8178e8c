"""The whole-host test's scenario, run as root by host-test.service at each boot of the test host.

Reads like an operator's runbook: each step prints `== name`, then `ok` or `FAIL` with what
went wrong, and its time. The first failure stops the run (later steps build on earlier ones).
The operator's part is done as an operator would: the install script as root, everything else
as the stack's user through that user's own systemd manager (`systemd-run --user -M USER@`,
like a login on a VPS).

The first boot installs, exercises and breaks the stack, saves what it found under STATE and
reboots the host; tests/host/run boots it again and the second boot checks that the stack came
back with its data. The host ends with `systemctl exit 0` when everything passed; a failed or
crashed scenario makes host-test.service fail, whose FailureAction= ends the host with status 1.

Writes to /out (artifacts/host/ outside): result.log, steps/NN-name.log with every command and
its output, timings.json, and the journals and container logs of each boot. The steps are here;
runbook.py has the machinery they share.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook import (
    API,
    CONTAINERS,
    DOMAIN,
    HEALTHY,
    HERE,
    OUT,
    PEBBLE_CA,
    PEBBLE_ROOT,
    POD,
    SPEC,
    START_TIMEOUT,
    USER,
    WEB,
    WORK,
    Failure,
    account,
    booted_at,
    collect,
    container_id,
    curl,
    experts_via_cli,
    experts_via_https,
    home,
    https_get,
    issuer,
    monotonic_s,
    rb,
    read_or_empty,
    root_ca,
    save_container_logs,
    seconds,
    sent_at,
    served_certificate,
    stack_is_up,
    state,
    status_field,
    stream_query,
    uids,
    unit_property,
    volume,
    wait_until_up,
)

# What the operator brought to the host (tests/host/prepare-host).
CHECKOUT = Path("/root/experts-panel")
IMAGES = Path("/root/images")
EXPORTS = Path("/srv/exports")
EMAIL = "ops@panel.test"
PEBBLE_DIRECTORY = "https://localhost:14000/dir"
LIB = ".local/lib/experts-panel"
# The demo's experts, imported as an operator imports a channel (docs/operations.md).
EXPERTS = json.loads((EXPORTS / "manifest.json").read_text())
# podman auto-update waits for a never-healthy start to time out. The unit allows 300 s
# (a slow first warm-up); the rollback step shortens that to this with a drop-in.
ROLLBACK_START_TIMEOUT = 30


# --- First boot: install ----------------------------------------------------------------------


def host_is_up() -> None:
    if Path("/proc/1/comm").read_text().strip() != "systemd":
        raise Failure("PID 1 is not systemd")
    # Not `is-system-running --wait`: this very service is part of the start-up it waits for.
    rb.sh(["systemctl", "is-active", "multi-user.target", "pebble.service"])
    failed = rb.sh(["systemctl", "--failed", "--plain", "--no-legend"]).stdout.split("\n")
    if names := [line.split()[0] for line in failed if line.strip()]:
        rb.say(f"   failed units (not the stack's): {' '.join(names)}")
    show = ["systemctl", "show", "-P", "ActiveEnterTimestampMonotonic", "multi-user.target"]
    took = int(rb.sh(show).stdout) / 1e6 - booted_at()
    rb.figure(
        f"boot{state.boots}_to_multi_user_s",
        took,
        f"multi-user.target {took:.1f} s after PID 1 started",
    )


def pebble_answers() -> None:
    def directory() -> bool:
        done = curl("--cacert", PEBBLE_CA, PEBBLE_DIRECTORY)
        return done.returncode == 0 and "newOrder" in done.stdout

    rb.wait_for("Pebble's directory", directory, 30)


def install_host() -> None:
    """The operator's install script, as the operator's guide runs it (plus the test's ACME
    server and CA): user with lingering, sysctl, units, settings, secret, images, start, and
    the first certificate from Pebble through certbot."""
    cmd = [str(CHECKOUT / "scripts/install-host"), "--no-packages", "--no-firewall"]
    cmd += ["--domain", DOMAIN, "--email", EMAIL, "--acme-server", PEBBLE_DIRECTORY]
    cmd += ["--acme-ca", PEBBLE_CA, "--images", str(IMAGES)]
    started = time.monotonic()
    done = rb.sh(cmd, timeout=600, cwd="/root")
    if f"done: https://{DOMAIN}/" not in done.stdout:
        raise Failure(f"install-host did not finish: {done.stdout.strip().splitlines()[-1:]}")
    rb.figure(
        "install_s",
        time.monotonic() - started,
        f"install-host (fresh host to HTTPS) {time.monotonic() - started:.1f} s",
    )
    # The first start, from the pod's start to the second container healthy, as systemd saw it.
    began = monotonic_s(f"{POD}.service", "InactiveExitTimestampMonotonic")
    healthy = max(monotonic_s(f"{n}.service", "ActiveEnterTimestampMonotonic") for n in CONTAINERS)
    rb.figure(
        "first_start_to_healthy_s",
        healthy - began,
        "first start (volumes, placeholder "
        f"certificate, model warm-up) to both healthy: {healthy - began:.1f} s",
    )
    # Before any certificate nginx started on the placeholder; certbot's hook then replaced it.
    journal = ["journalctl", f"_UID={account().pw_uid}", "-o", "cat", "--no-pager"]
    lines = rb.sh(journal).stdout.splitlines()
    placeholder = [i for i, line in enumerate(lines) if "wrote a self-signed placeholder" in line]
    deployed = [i for i, line in enumerate(lines) if "(experts-panel-web) reloads onto it" in line]
    if not placeholder or not deployed or deployed[0] < placeholder[0]:
        raise Failure("the journal does not show the placeholder first, then certbot's deploy")


def user_manager_runs() -> None:
    linger = rb.sh(["loginctl", "show-user", USER, "--property=Linger"]).stdout.strip()
    if linger != "Linger=yes":
        raise Failure(f"{USER}: {linger}, expected Linger=yes")
    if account().pw_uid == 0:
        raise Failure(f"{USER} is root")
    fmt = "{{.Version.Version}} {{.Host.Security.Rootless}} {{.Host.RootlessNetworkCmd}}"
    version, rootless, network = rb.user("podman", "info", "--format", fmt).stdout.split()
    rb.say(f"   podman {version}, rootless={rootless}, network {network}")
    if rootless != "true":
        raise Failure("podman does not run rootless")
    if tuple(int(x) for x in version.split(".")[:2]) < (5, 3):
        raise Failure(f"podman {version}: the pod unit needs 5.3 or newer")
    ports = Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text().strip()
    if ports != "80":
        raise Failure(f"net.ipv4.ip_unprivileged_port_start is {ports}, expected 80")


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


def units_as_spec() -> None:
    for image in (API, WEB):
        unit, memory = f"{image['container']}.service", f"--memory={image['memory']}"
        if memory not in unit_property(unit, "ExecStart"):
            raise Failure(f"{unit} does not ask for {memory}")
    rb.say("   memory limits as spec.json says; lifted here (nspawn has no memory controller)")
    for timer in ("experts-panel-backup.timer", "experts-panel-certbot.timer"):
        rb.systemctl("is-active", "--quiet", timer)
        rb.systemctl("is-enabled", "--quiet", timer)
        # The later steps start these services as the timers would.
        if (service := unit_property(timer, "Triggers")) != timer.replace(".timer", ".service"):
            raise Failure(f"{timer} triggers {service!r}")
    # The Telegram sync: installed (Quadlet generated its service) and never started by the
    # install; its timer waits for the operator (no Telegram account is needed to check that).
    sync_timer = SPEC["sync"]["timer"]
    sync_service = SPEC["sync"]["unit"].removesuffix(".container") + ".service"
    found = {
        "timer loaded": unit_property(sync_timer, "LoadState"),
        "timer enabled": unit_property(sync_timer, "UnitFileState"),
        "timer active": unit_property(sync_timer, "ActiveState"),
        "timer triggers": unit_property(sync_timer, "Triggers"),
        "service loaded": unit_property(sync_service, "LoadState"),
        "service active": unit_property(sync_service, "ActiveState"),
    }
    expected = {
        "timer loaded": "loaded",
        "timer enabled": "disabled",
        "timer active": "inactive",
        "timer triggers": sync_service,
        "service loaded": "loaded",
        "service active": "inactive",
    }
    if wrong := [f"{k}: {found[k]!r}, not {v!r}" for k, v in expected.items() if found[k] != v]:
        raise Failure(f"{sync_timer}: " + "; ".join(wrong))
    if f"--memory={SPEC['sync']['memory']}" not in unit_property(sync_service, "ExecStart"):
        raise Failure(f"{sync_service} does not ask for --memory={SPEC['sync']['memory']}")
    rb.say(f"   {sync_timer} installed and not enabled; {sync_service} generated, never started")
    infra = rb.user("podman", "pod", "inspect", "--format", "{{.InfraContainerID}}", POD)
    label = '{{index .Config.Labels "PODMAN_SYSTEMD_UNIT"}}'
    unit = rb.user("podman", "inspect", "--format", label, infra.stdout.strip()).stdout.strip()
    if unit != HEALTHY:
        raise Failure(f"the pod's PODMAN_SYSTEMD_UNIT is {unit!r}: auto-update would restart it")


def install_again_changes_nothing() -> None:
    cmd = [str(CHECKOUT / "scripts/install-host"), "--no-packages", "--no-firewall"]
    cmd += ["--domain", DOMAIN, "--email", EMAIL, "--acme-server", PEBBLE_DIRECTORY]
    cmd += ["--acme-ca", PEBBLE_CA]
    before = container_id(API["container"])
    out = rb.sh(cmd, timeout=300, cwd="/root").stdout
    if "the stack is running and nothing changed" not in out or "\n   /" in out:
        raise Failure(f"a second install-host changed something: {out.strip()[-400:]!r}")
    if container_id(API["container"]) != before:
        raise Failure("a second install-host restarted the API")


def stop_and_start() -> None:
    """`stop` stops everything; `start` brings it back; the time to healthy is the figure."""
    rb.systemctl("stop", POD, timeout=120)
    running = rb.user("podman", "ps", "--all", "--format", "{{.Names}}").stdout.split()
    if running:
        raise Failure(f"after `systemctl --user stop {POD}` still there: {running}")
    for unit in [f"{name}.service" for name in CONTAINERS]:
        if (state_now := unit_property(unit, "ActiveState")) != "inactive":
            raise Failure(f"after stop {unit} is {state_now}")
    started = time.monotonic()
    rb.systemctl("start", POD, timeout=120)
    wait_until_up("both containers healthy")
    took = time.monotonic() - started
    rb.figure(
        "start_to_healthy_s", took, f"healthy {took:.1f} s after `systemctl --user start {POD}`"
    )


def certificate_from_pebble() -> None:
    """certbot (run by install-host) got a certificate from Pebble, and nginx serves it."""
    root = root_ca()
    lineage = home() / ".local/share/experts-panel/certbot/config/live/experts-panel/cert.pem"
    issued = rb.sh(["openssl", "x509", "-in", str(lineage), "-noout", "-serial"]).stdout
    issued_serial = issued.strip().removeprefix("serial=").upper()
    found: dict[str, Any] = {}

    def serves_it() -> bool:
        try:
            found.update(served_certificate(root))
        except (OSError, ssl.SSLError) as exc:
            rb.log.write(f"not yet: {exc}\n")
            return False
        return str(found["serialNumber"]).upper() == issued_serial

    rb.wait_for("nginx serves certbot's certificate, verified by Pebble's root", serves_it, 30)
    state.serial = issued_serial
    rb.say(f"   served: serial {issued_serial}, issuer {issuer(found)}")


def https_health() -> None:
    status, body = https_get("/health", root_ca())
    if status != 200 or json.loads(body).get("status") != "healthy":
        raise Failure(f"https://{DOMAIN}/health answered {status}: {body[:200]!r}")


def http_redirects() -> None:
    url = f"http://{DOMAIN}/some/page?x=1"
    done = curl("-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", url)
    if done.stdout.strip() != f"301 https://{DOMAIN}/some/page?x=1":
        raise Failure(f"{url} answered {done.stdout.strip()!r}, expected a 301 to https")


def front_end_served() -> None:
    status, body = https_get("/", root_ca())
    if status != 200 or b'<div id="root">' not in body:
        raise Failure(f"https://{DOMAIN}/ did not serve the front end: {status} {body[:200]!r}")


# Readers on other machines: a network namespace each, joined to the host by a veth pair, so
# their requests arrive from an address of their own as a VPS's readers' do.
READERS = {"reader-a": "10.77.0", "reader-b": "10.78.0"}


def reader_networks() -> None:
    for name, net in READERS.items():
        rb.sh(["ip", "netns", "add", name])
        veth = ["ip", "link", "add", f"{name}-h", "type", "veth"]
        rb.sh([*veth, "peer", "name", f"{name}-c", "netns", name])
        rb.sh(["ip", "addr", "add", f"{net}.1/24", "dev", f"{name}-h"])
        rb.sh(["ip", "link", "set", f"{name}-h", "up"])
        rb.sh(["ip", "-n", name, "addr", "add", f"{net}.2/24", "dev", f"{name}-c"])
        rb.sh(["ip", "-n", name, "link", "set", f"{name}-c", "up"])
        rb.sh(["ip", "-n", name, "link", "set", "lo", "up"])


def from_reader(name: str, *args: str) -> str:
    """curl in reader NAME's network, to the host's address there; the HTTP status."""
    net = READERS[name]
    done = rb.sh(
        [
            "ip", "netns", "exec", name,
            "curl", "-sS", "--max-time", "10", "--cacert", str(root_ca()),
            "--resolve", f"{DOMAIN}:443:{net}.1", "-o", "/dev/null", "-w", "%{http_code}",
            *args,
        ],
        check=False,
    )  # fmt: skip
    return done.stdout.strip() or f"failed: {done.stderr.strip()}"


def readers_are_told_apart() -> None:
    """nginx logs each reader's own address and limits each reader on its own: rootless
    Podman's port forwarding (pasta) must not turn every reader into one address, which
    would log nothing useful and let one reader's rate limit lock out all the others."""
    reader_networks()
    for name in READERS:
        status = from_reader(name, f"https://{DOMAIN}/?from={name}")
        if status != "200":
            raise Failure(f"{name}: https://{DOMAIN}/ answered {status}")
    log = rb.user("podman", "logs", WEB["container"]).stdout
    for name, net in READERS.items():
        seen = {line.split()[0] for line in log.splitlines() if f"/?from={name} " in line}
        if seen != {f"{net}.2"}:
            raise Failure(f"nginx logged {name}'s request as from {seen or 'nowhere'}, not {net}.2")
    # 6 questions a minute, 5 at once (nginx/nginx.conf): the 7th in a row is refused. An
    # empty question is refused by the API (422) after nginx counted it, and costs no work.
    ask = ["-X", "POST", "-H", "Content-Type: application/json", "-d", "{}"]
    url = f"https://{DOMAIN}/api/v1/query"
    first = [from_reader("reader-a", *ask, url) for _ in range(8)]
    if first[:6] != ["422"] * 6 or "429" not in first[6:]:
        raise Failure(
            f"reader-a's 8 questions in a row answered {first}: expected 6 × 422, then 429"
        )
    other = from_reader("reader-b", *ask, url)
    if other != "422":
        raise Failure(f"reader-b, after reader-a was limited, answered {other}: expected 422")
    rb.say(f"   reader-a: {' '.join(first)}; reader-b then: {other}")


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
    database = volume("data") / Path(API["env"]["DATABASE_URL"]).name
    if not database.exists():
        raise Failure(f"{database} does not exist")
    if (owner := database.stat().st_uid) != account().pw_uid:
        raise Failure(f"{database} belongs to uid {owner}, not {USER} ({account().pw_uid})")


# As docs/operations.md ("Importing experts") has the operator do it.
IMPORT = """
set -eu
data=$(podman volume inspect --format '{{.Mountpoint}}' experts-panel-data)
mkdir -p "$data/imports" && cp "$1"/*.json "$data/imports/"
shift
while [ $# -gt 0 ]; do
  podman exec experts-panel-api experts-panel import "/var/lib/experts-panel/imports/$2" \
    --expert "$1" --username "$3" --comments "/var/lib/experts-panel/imports/$4"
  shift 4
done
podman exec experts-panel-api experts-panel index
"""


def import_experts() -> None:
    args = [str(EXPORTS)]
    for e in EXPERTS:
        args += [e["expert_id"], e["export"], e["username"], e["comments"]]
    rb.user("sh", "-c", IMPORT, "import", *args, timeout=600)
    experts = experts_via_cli()
    wanted = sorted(e["expert_id"] for e in EXPERTS)
    if [e["id"] for e in experts] != wanted or not all(e["posts"] for e in experts):
        raise Failure(f"after the import: {experts}, expected posts for each of {wanted}")
    # The running service sees them without a restart.
    if (served := experts_via_https(root_ca())) != wanted:
        raise Failure(f"https://{DOMAIN}/api/v1/experts lists {served}, expected {wanted}")
    state.experts = experts
    rb.say("   " + ", ".join(f"{e['id']} ({e['posts']} posts)" for e in experts))


def sse_streams() -> None:
    """Events arrive one by one as the service sends them, not held back by nginx. Each event
    carries its send time (the host and the container share one clock): streamed, every event
    is delayed about alike; buffered, the first waits for the last, so the delays spread as
    wide as the stream is long. Judged against the stream's own length, not a fixed time."""
    events = stream_query(root_ca())
    if len(events) < 5 or events[-1][1]["event_type"] != "complete":
        kinds = [e["event_type"] for _, e in events]
        raise Failure(f"expected several events ending with complete, got {kinds}")
    answers = events[-1][1]["data"].get("response", {}).get("expert_responses", [])
    if len(answers) != len(EXPERTS):
        raise Failure(f"complete holds {len(answers)} answers, expected {len(EXPERTS)}")
    length = sent_at(events[-1][1]) - sent_at(events[0][1])
    lags = [arrived - sent_at(event) for arrived, event in events]
    spread = max(lags) - min(lags)
    moments = sorted({round(arrived, 2) for arrived, _ in events})
    rb.say(
        f"   {len(events)} events sent over {length:.2f} s arrived at {len(moments)} distinct "
        f"times, each {min(lags) * 1000:.0f}-{max(lags) * 1000:.0f} ms after it was sent"
    )
    if length < 0.05:
        raise Failure(f"the service sent every event within {length * 1000:.0f} ms: cannot judge")
    if len(moments) < 3 or spread > length / 2:
        raise Failure(f"delays spread over {spread:.2f} s of a {length:.2f} s stream: buffered")
    if max(lags) > 0.5:
        raise Failure(f"an event arrived {max(lags):.2f} s after it was sent")


def backup_by_timer_service() -> None:
    """The backup timer's service, started now: a verified, compressed backup in the volume."""
    backups = volume("backups")
    before = {p.name for p in backups.glob("experts-*.db.zst")}
    started = time.monotonic()
    rb.systemctl("start", "experts-panel-backup.service", timeout=300)
    took = time.monotonic() - started
    if unit_property("experts-panel-backup.service", "Result") != "success":
        raise Failure("experts-panel-backup.service did not succeed")
    new = sorted({p.name for p in backups.glob("experts-*.db.zst")} - before)
    if len(new) != 1:
        raise Failure(f"expected one new backup in {backups}, found {new}")
    path = backups / new[0]
    rb.sh(["zstd", "-q", "-t", str(path)])
    copy = WORK / "backup-check.db"
    rb.sh(["zstd", "-q", "-d", "-f", "-o", str(copy), str(path)])
    check = rb.sh(["sqlite3", "-readonly", str(copy), "PRAGMA integrity_check;"]).stdout.strip()
    rows = rb.sh(["sqlite3", "-readonly", str(copy), "SELECT id FROM experts ORDER BY id;"])
    if check != "ok" or rows.stdout.split() != [e["id"] for e in state.experts]:
        raise Failure(f"{path.name}: integrity_check {check!r}, experts {rows.stdout.split()}")
    database = volume("data") / Path(API["env"]["DATABASE_URL"]).name
    state.backup = path.name
    size, db_size = path.stat().st_size, copy.stat().st_size
    wal = database.with_name(f"{database.name}-wal")
    live = database.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    copy.unlink()
    journal = [
        "journalctl",
        "_SYSTEMD_USER_UNIT=experts-panel-backup.service",
        "-o",
        "cat",
        "-n",
        "1",
        "--no-pager",
        f"_UID={account().pw_uid}",
    ]
    rb.say(f"   journal: {rb.sh(journal).stdout.strip()[:300]}")
    state.timings["backup_bytes"] = size
    state.timings["database_bytes"] = db_size
    rb.figure(
        "backup_s",
        took,
        f"backup {took:.1f} s (the service, start to end): {new[0]}, "
        f"{size / 1e6:.2f} MB from a {db_size / 1e6:.1f} MB database "
        f"(live: {live / 1e6:.1f} MB with its WAL)",
    )


def restore_brings_back_data() -> None:
    """Data changed after the backup (an expert removed); restore puts the backup back."""
    gone = EXPERTS[1]["expert_id"]
    remove = ["podman", "exec", API["container"], "experts-panel", "experts", "remove", gone]
    rb.user(*remove, "--yes", timeout=60)
    if gone in [e["id"] for e in experts_via_cli()] or gone in experts_via_https(root_ca()):
        raise Failure(f"expert {gone} is still there after `experts remove`")
    restore = str(home() / LIB / "experts-panel-restore")
    started = time.monotonic()
    out = rb.user(restore, state.backup, timeout=400).stdout
    took = time.monotonic() - started
    if (experts := experts_via_cli()) != state.experts:
        raise Failure(f"after the restore: {experts}, expected {state.experts}")
    if (served := experts_via_https(root_ca())) != [e["id"] for e in state.experts]:
        raise Failure(f"after the restore https lists {served}")
    if not stack_is_up():
        raise Failure("after the restore the stack is not healthy")
    aside = list(volume("data").glob("experts.db.replaced-*"))
    if not aside:
        raise Failure("restore kept no replaced database aside")
    rb.say(f"   {out.strip().splitlines()[-1][:200]}")
    rb.figure(
        "restore_s",
        took,
        f"restore {took:.1f} s (check, stop API, swap, start, healthy); {gone} is back",
    )


@dataclass
class Probe:
    """One HTTPS request of the load that runs through a certificate reload."""

    at: float
    serial: str
    error: str


def request_loop(cafile: Path, stop: threading.Event, probes: list[Probe]) -> None:
    """GET /health on a new TLS connection every 0.1 s (below nginx's 20 r/s limit per client),
    the certificate verified, until STOP; records each result and the serial served."""
    context = ssl.create_default_context(cafile=str(cafile))
    while not stop.is_set():
        at, serial, error = time.monotonic(), "", ""
        try:
            conn = http.client.HTTPSConnection("127.0.0.1", 443, timeout=5)
            conn.sock = context.wrap_socket(
                socket.create_connection(("127.0.0.1", 443), timeout=5), server_hostname=DOMAIN
            )
            cert = conn.sock.getpeercert() or {}
            serial = str(cert.get("serialNumber", "")).upper()
            conn.request("GET", "/health", headers={"Host": DOMAIN})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                error = f"HTTP {response.status}"
            conn.close()
        except (OSError, ssl.SSLError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"
        probes.append(Probe(at, serial, error))
        stop.wait(max(0.0, 0.1 - (time.monotonic() - at)))


def renewal_without_failed_requests() -> None:
    """certbot renew --force-renewal (through the stack's certbot script): nginx serves the
    new certificate, and a request loop running through the reload sees no failure."""
    cafile, old = root_ca(), state.serial
    probes: list[Probe] = []
    stop = threading.Event()
    loop = threading.Thread(target=request_loop, args=(cafile, stop, probes), daemon=True)
    loop.start()
    try:
        time.sleep(1)
        certbot = str(home() / LIB / "experts-panel-certbot")
        started = time.monotonic()
        rb.user(certbot, "--force-renewal", env_file=True, timeout=180)
        lineage = home() / ".local/share/experts-panel/certbot/config/live/experts-panel/cert.pem"
        issued = rb.sh(["openssl", "x509", "-in", str(lineage), "-noout", "-serial"]).stdout
        new = issued.strip().removeprefix("serial=").upper()
        if new == old:
            raise Failure(f"certbot --force-renewal left the serial at {old}")

        def serves_new() -> bool:
            return any(p.serial == new for p in probes[-3:])

        rb.wait_for("nginx serves the renewed certificate", serves_new, 30, every=0.2)
        took = time.monotonic() - started
        time.sleep(1)
    finally:
        stop.set()
        loop.join(10)
    for probe in probes:
        rb.log.write(f"{probe.at:.2f} {probe.serial} {probe.error}\n")
    failed = [p for p in probes if p.error]
    serials = [p.serial for p in probes if not p.error]
    switched = serials.index(new) if new in serials else len(serials)
    rb.say(f"   {len(probes)} requests, {len(failed)} failed; serial {old} -> {new}")
    if failed:
        raise Failure(f"{len(failed)} of {len(probes)} requests failed: {failed[0].error}")
    if old not in serials[:switched] or set(serials[switched:]) != {new}:
        raise Failure(f"the serials served were not old then new: {serials}")
    state.serial = new
    rb.figure("renewal_s", took, f"renewal to the new certificate served: {took:.1f} s")


def killed_api_comes_back() -> None:
    unit = f"{API['container']}.service"
    before, restarts = container_id(API["container"]), int(unit_property(unit, "NRestarts"))
    started = time.monotonic()
    rb.user("podman", "kill", API["container"])

    def back() -> bool:
        if int(unit_property(unit, "NRestarts")) <= restarts:
            return False
        again = rb.user("podman", "inspect", "--format", "{{.Id}}", API["container"], check=False)
        return again.returncode == 0 and again.stdout.strip() != before and stack_is_up()

    rb.wait_for("the API restarted by systemd and healthy", back, START_TIMEOUT, every=0.25)
    took = time.monotonic() - started
    https_health()
    rb.figure(
        "kill_to_healthy_s",
        took,
        f"`podman kill` to healthy again: {took:.1f} s "
        f"(Restart=on-failure, NRestarts {restarts} -> {unit_property(unit, 'NRestarts')})",
    )


# An image that starts, stops when asked (SIGTERM), and never answers its health command.
SLEEPER = "import signal, sys, time\nsignal.signal(signal.SIGTERM, lambda *_: sys.exit(0))\n"
BAD_IMAGE = f"""FROM {API["name"]}:{API["tag"]}
ENTRYPOINT {json.dumps(["/opt/experts-panel/bin/python", "-c", SLEEPER + "time.sleep(86400)"])}
"""
DROP_IN = ".config/systemd/user/experts-panel-api.service.d/50-host-test-rollback.conf"


def install_host_images(folder: Path | str) -> subprocess.CompletedProcess[str]:
    """The operator's update: install-host with the release's images, on the running stack."""
    cmd = [str(CHECKOUT / "scripts/install-host"), "--no-packages", "--no-firewall"]
    cmd += ["--domain", DOMAIN, "--email", EMAIL, "--acme-server", PEBBLE_DIRECTORY]
    cmd += ["--acme-ca", PEBBLE_CA, "--images", str(folder)]
    return rb.sh(cmd, check=False, timeout=ROLLBACK_START_TIMEOUT + 400, cwd="/root")


def same_images_move_nothing() -> None:
    """install-host --images with the images already running: loaded again, nothing restarted."""
    before = {name: container_id(name) for name in CONTAINERS}
    done = install_host_images(IMAGES)
    if done.returncode != 0 or "moving the running stack to the loaded images" not in done.stdout:
        raise Failure(f"install-host --images exited {done.returncode}: {done.stdout[-400:]!r}")
    if (after := {name: container_id(name) for name in CONTAINERS}) != before:
        raise Failure(f"the same images restarted containers: {before} -> {after}")
    https_health()


def auto_update_rolls_back() -> None:
    """A release whose API image never gets healthy, installed as the operator installs one
    (install-host --images): podman auto-update tries it and goes back to the working image,
    install-host says so and fails, and the data are as they were."""
    tag = f"{API['name']}:{API['tag']}"
    good = rb.user("podman", "image", "inspect", "--format", "{{.Id}}", tag).stdout.strip()
    if (
        rb.user("podman", "inspect", "--format", "{{.Image}}", API["container"]).stdout.strip()
        != good
    ):
        raise Failure("the API does not run the :current image before the update")
    # The bad release: its API image saved as :current beside the working web image, then the
    # tag put back on the working image, so only install-host's load brings the bad one in.
    release = "/var/tmp/bad-release"
    context = f"{release}/context"
    rb.user("sh", "-c", 'mkdir -p "$1" && cat > "$1/Containerfile"', "sh", context, input=BAD_IMAGE)
    rb.user("podman", "build", "--format", "docker", "--pull=never", "-q", "-t", tag, context)
    rb.user(
        "podman",
        "save",
        "--format",
        "docker-archive",
        "-o",
        f"{release}/{API['name'].split('/')[-1]}.tar",
        tag,
        timeout=300,
    )
    rb.user("podman", "tag", good, tag)
    rb.sh(["cp", str(IMAGES / "experts-panel-web.tar"), f"{release}/"])
    drop_in = home() / DROP_IN
    rb.user(
        "sh",
        "-c",
        'mkdir -p "$(dirname "$1")" && cat > "$1"',
        "sh",
        str(drop_in),
        input=f"[Service]\nTimeoutStartSec={ROLLBACK_START_TIMEOUT}\n",
    )
    rb.systemctl("daemon-reload")
    try:
        started = time.monotonic()
        done = install_host_images(release)
        took = time.monotonic() - started
    finally:
        rb.user("rm", "-f", str(drop_in))
        rb.systemctl("daemon-reload")
        rb.sh(["rm", "-rf", release])
    # podman auto-update's report: a row per container, "(name)" after its id.
    rows = [line.split() for line in done.stdout.splitlines() if f"({API['container']})" in line]
    if not rows or " ".join(rows[0][-2:]) != "rolled back":
        raise Failure(f"podman auto-update did not roll the API back: {done.stdout.strip()!r}")
    said = "the new images did not get healthy, so podman auto-update put the previous ones back"
    if done.returncode == 0 or said not in done.stderr + done.stdout:
        raise Failure(
            f"install-host exited {done.returncode} after the rollback without saying so: "
            f"{(done.stderr or done.stdout)[-400:]!r}"
        )
    now = rb.user("podman", "image", "inspect", "--format", "{{.Id}}", tag).stdout.strip()
    running = rb.user("podman", "inspect", "--format", "{{.Image}}", API["container"])
    if now != good or running.stdout.strip() != good:
        raise Failure(
            f"after the rollback {tag} is {now[:12]}, the API runs "
            f"{running.stdout.strip()[:12]}; the working image is {good[:12]}"
        )
    if not stack_is_up():
        raise Failure("after the rollback the stack is not healthy")
    if (experts := experts_via_cli()) != state.experts:
        raise Failure(f"after the rollback: {experts}, expected {state.experts}")
    https_health()
    state.api_image = good
    rb.figure(
        "rollback_s",
        took,
        f"install-host --images with a never-healthy API image: rolled back, reported and "
        f"failed in {took:.1f} s (start allowance shortened to {ROLLBACK_START_TIMEOUT} s here)",
    )


def nothing_runs_as_root() -> None:
    """The containers' processes are the host user with no capability; nothing of it is root."""
    for image in (API, WEB):
        (info,) = json.loads(rb.user("podman", "inspect", image["container"]).stdout)
        pid = info["State"]["Pid"]
        ids = status_field(pid, "Uid").split()
        capabilities = int(status_field(pid, "CapEff"), 16)
        if set(ids) != {str(account().pw_uid)} or capabilities:
            raise Failure(f"{image['container']} (pid {pid}): uids {ids}, CapEff {capabilities:x}")
        host = info["HostConfig"]
        if not host["ReadonlyRootfs"]:
            raise Failure(f"{image['container']}: the root file system is writable")
        if "no-new-privileges" not in str(host["SecurityOpt"]):
            raise Failure(f"{image['container']}: new privileges allowed")
    # Every process the user's manager runs (the stack, its health checks, the scripts).
    uid = account().pw_uid
    tree = [
        pid
        for pid in (int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit())
        if f"/user@{uid}.service/" in read_or_empty(f"/proc/{pid}/cgroup")
    ]
    if as_root := [pid for pid in tree if "0" in uids(pid)]:
        raise Failure(f"root processes in {USER}'s manager: {as_root}")
    # Nothing the stack is made of runs as root anywhere on the host, but for netavark's DHCP
    # proxy: a system service Debian starts at boot for every host with Podman (it exits after
    # 30 s idle); rootless pods network through pasta and never use it.
    ps = rb.sh(["ps", "-eo", "uid=,pid=,args="]).stdout.splitlines()
    words = ("podman", "conmon", "pasta", "nginx", "experts-panel", "rootlessport", "catatonit")
    system = ("/usr/lib/podman/netavark dhcp-proxy",)
    ours = ("ps -eo", "systemd-run")  # the test's own commands
    stack = [p for p in ps if any(w in p for w in words) and not any(o in p for o in ours)]
    if root := [p for p in stack if p.split()[0] == "0" and not any(s in p for s in system)]:
        raise Failure("running as root: " + " | ".join(root))
    rb.say(f"   {len(tree)} processes under {USER}'s manager, none root; the stack's all uid {uid}")


# --- Second boot: what came back --------------------------------------------------------------


def back_after_reboot() -> None:
    """Lingering starts the user's manager at boot, and the pod (WantedBy=default.target)."""
    wait_until_up("the stack after the reboot, with no login")
    healthy = max(monotonic_s(f"{n}.service", "ActiveEnterTimestampMonotonic") for n in CONTAINERS)
    # Podman's user units wait up to 90 s for network-online.target (install-host makes boot
    # reach it); a start that slow means they waited.
    if healthy - booted_at() > 60:
        raise Failure(f"healthy only {healthy - booted_at():.0f} s after boot")
    rb.figure(
        "boot_to_healthy_s",
        healthy - booted_at(),
        f"healthy {healthy - booted_at():.1f} s after the host's PID 1 started",
    )


def data_after_reboot() -> None:
    if (experts := experts_via_cli()) != state.experts:
        raise Failure(f"after the reboot: {experts}, expected {state.experts}")
    if not (volume("backups") / state.backup).exists():
        raise Failure(f"the backup {state.backup} is gone after the reboot")
    running = rb.user("podman", "inspect", "--format", "{{.Image}}", API["container"])
    if running.stdout.strip() != state.api_image:
        raise Failure(
            f"the API runs {running.stdout.strip()[:12]} after the reboot, not "
            f"{state.api_image[:12]}"
        )
    rb.say(f"   {len(experts)} experts, backup {state.backup}, API image {state.api_image[:19]}")


def certificate_after_reboot() -> None:
    """The renewed certificate is still served (Pebble's root is new at each start, so the
    one saved before the reboot verifies it)."""
    cert = served_certificate(PEBBLE_ROOT)
    if str(cert["serialNumber"]).upper() != state.serial:
        raise Failure(f"serves serial {cert['serialNumber']}, expected {state.serial}")


def query_after_reboot() -> None:
    events = stream_query(PEBBLE_ROOT)
    if not events or events[-1][1]["event_type"] != "complete":
        raise Failure(f"the query after the reboot ended with {events[-1:]}")


# --- compose.yaml's stack -------------------------------------------------------------------

# Its header's steps, run in the operator's checkout (the host's copy of compose.yaml and the
# placeholder script, in the user's home).
COMPOSE_CERTIFICATE = (
    "podman volume create --ignore experts-panel-certs && quadlet/bin/experts-panel-tls-placeholder"
)
# nspawn's cgroup tree has no memory controller: this lifts compose.yaml's memory limits, as
# prepare-host's drop-ins lift the units'.
COMPOSE_FILES = ["-f", "compose.yaml", "-f", str(HERE / "compose-nspawn.yaml")]
COMPOSE_PORT = 8443
COMPOSE_EXPERT = next(e for e in EXPERTS if e["expert_id"] == "selfhost_ops")
DEMO_REFUSED = (
    "error: /var/lib/experts-panel/experts.db: a running experts-panel service is using it; "
    "stop the service first, since the demo deletes and recreates the file"
)


def compose_stack() -> None:
    """compose.yaml, for development without systemd, brought up with podman-compose by the
    operator's user as its header says, an expert imported, a query streamed through its nginx,
    then taken down. Its containers and volumes have the units' names, so it runs last: the
    units stopped and their volumes removed first, its own volumes removed after."""
    save_container_logs(f"-boot{state.boots}")
    rb.systemctl("stop", POD, timeout=120)
    volumes = list(SPEC["volumes"].values())
    rb.user("podman", "volume", "rm", *volumes)
    checkout = home() / "experts-panel"
    rb.sh(["cp", "-r", str(CHECKOUT), str(checkout)])
    rb.sh(["chown", "-R", f"{USER}:", str(checkout)])
    rb.user("sh", "-c", COMPOSE_CERTIFICATE, cwd=checkout)
    placeholder = volume("certs") / "fullchain.pem"

    def healthy() -> bool:
        try:
            status, _ = https_get("/health", placeholder, port=COMPOSE_PORT, check_name=False)
        except (OSError, ssl.SSLError, http.client.HTTPException) as exc:
            rb.log.write(f"not yet: {exc}\n")
            return False
        return status == 200

    started = time.monotonic()
    try:
        # In a scope of its own, as a login session would keep them: each container's conmon
        # stays in the cgroup of the command that started it, and the transient service that
        # rb.user runs a command in is stopped, with everything left in it, when it ends. A
        # hang (podman-compose waiting for a dependency that never ran) fails the step.
        scope = ["systemd-run", "--user", "--scope", "--quiet", "--collect"]
        rb.user(*scope, "podman-compose", *COMPOSE_FILES, "up", "-d", cwd=checkout, timeout=120)
        rb.wait_for("https://localhost:8443/health through nginx", healthy, 120, every=0.25)
        took = time.monotonic() - started
        running = rb.user("podman", "ps", "--format", "{{.Names}}").stdout.split()
        if sorted(running) != sorted(CONTAINERS):
            raise Failure(f"podman-compose up -d left {running} running, expected {CONTAINERS}")
        rb.user(
            "sh", "-c", IMPORT, "import", str(EXPORTS), COMPOSE_EXPERT["expert_id"],
            COMPOSE_EXPERT["export"], COMPOSE_EXPERT["username"], COMPOSE_EXPERT["comments"],
            timeout=600,
        )  # fmt: skip
        served = experts_via_https(placeholder, port=COMPOSE_PORT, check_name=False)
        if served != [COMPOSE_EXPERT["expert_id"]]:
            raise Failure(f"after the import https://localhost:8443 lists {served}")
        asked = time.monotonic()
        events = stream_query(placeholder, port=COMPOSE_PORT, check_name=False)
        answered = time.monotonic() - asked
        if len(events) < 5 or events[-1][1]["event_type"] != "complete":
            kinds = [e["event_type"] for _, e in events]
            raise Failure(f"expected several events ending with complete, got {kinds}")
        answers = events[-1][1]["data"].get("response", {}).get("expert_responses", [])
        if len(answers) != 1:
            raise Failure(f"complete holds {len(answers)} answers, expected 1")
        # The bug found in this stack: demo recreated the file the running API had open.
        demo = ["podman", "exec", API["container"], "experts-panel", "demo", "--no-serve"]
        refused = rb.user(*demo, check=False, timeout=60)
        if refused.returncode != 1 or refused.stderr.strip() != DEMO_REFUSED:
            raise Failure(
                f"demo inside the running stack exited {refused.returncode}: "
                f"{refused.stderr.strip()[-300:]!r}, expected {DEMO_REFUSED!r}"
            )
        if experts_via_https(placeholder, port=COMPOSE_PORT, check_name=False) != served:
            raise Failure("after the refused demo the API lists other experts")
    finally:
        for name in CONTAINERS:
            logs = rb.user("podman", "logs", "--timestamps", name, check=False)
            (OUT / f"logs-compose-{name}.log").write_text(logs.stdout + logs.stderr)
    rb.user("podman-compose", *COMPOSE_FILES, "down", cwd=checkout, timeout=120)
    if left := rb.user("podman", "ps", "--all", "--format", "{{.Names}}").stdout.split():
        raise Failure(f"after podman-compose down still there: {left}")
    rb.user("podman", "volume", "rm", *volumes)
    listed = rb.user("podman", "volume", "ls", "--format", "{{.Name}}").stdout.split()
    if left := sorted(set(listed) & set(volumes)):
        raise Failure(f"volumes left after the compose stack: {left}")
    rb.say(
        f"   {COMPOSE_EXPERT['expert_id']} imported; {len(events)} events, the answer in "
        f"{answered:.1f} s; demo refused inside the running stack; down, volumes removed"
    )
    rb.figure(
        "compose_up_to_healthy_s",
        took,
        f"`podman-compose up -d` to /health through its nginx: {took:.1f} s",
    )


FIRST_BOOT: list[tuple[str, Callable[[], None]]] = [
    ("the host runs systemd as PID 1", host_is_up),
    ("Pebble answers on https://localhost:14000/dir", pebble_answers),
    ("scripts/install-host installs and starts the stack, and gets a certificate", install_host),
    (f"{USER} lingers, rootless Podman 5.3+, ports from 80 unprivileged", user_manager_runs),
    ("the loaded images match images/spec.json", images_match_spec),
    (
        "the units ask what spec.json says; timers enabled; updates go through the health unit",
        units_as_spec,
    ),
    ("scripts/install-host again changes nothing", install_again_changes_nothing),
    (f"systemctl --user stop, then start {POD}: healthy", stop_and_start),
    ("HTTPS with the certificate Pebble issued through certbot", certificate_from_pebble),
    (f"https://{DOMAIN}/health answers through nginx", https_health),
    (f"http://{DOMAIN} redirects to https", http_redirects),
    ("the front end is served", front_end_served),
    (
        "readers elsewhere: nginx logs and rate-limits each by its own address",
        readers_are_told_apart,
    ),
    (
        "the embedded model and language detector work on the read-only root",
        models_on_read_only_root,
    ),
    ("the volumes' files belong to the host user (keep-id)", volumes_belong_to_user),
    ("experts imported as the operator's guide says", import_experts),
    ("a query streams through nginx event by event (SSE)", sse_streams),
    ("the backup timer's service makes a verified backup", backup_by_timer_service),
    ("restore brings back data changed after the backup", restore_brings_back_data),
    (
        "certbot --force-renewal: new certificate served, no request failed",
        renewal_without_failed_requests,
    ),
    ("a killed API container comes back through systemd", killed_api_comes_back),
    ("install-host --images with the running images restarts nothing", same_images_move_nothing),
    (
        "install-host --images with a never-healthy API image: rolled back, said, data intact",
        auto_update_rolls_back,
    ),
    ("no process of the stack runs as root", nothing_runs_as_root),
]

SECOND_BOOT: list[tuple[str, Callable[[], None]]] = [
    ("the host runs systemd as PID 1 again", host_is_up),
    ("the stack is back and healthy after the reboot", back_after_reboot),
    ("its data, backup and image are as before the reboot", data_after_reboot),
    ("the renewed certificate is still served", certificate_after_reboot),
    ("a query answers after the reboot", query_after_reboot),
    ("no process of the stack runs as root after the reboot", nothing_runs_as_root),
    (
        "compose.yaml with podman-compose as the user (units stopped, their volumes removed): "
        "healthy, an expert imported, a query through its nginx, down",
        compose_stack,
    ),
]


def main() -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    state.boots += 1
    steps = {1: FIRST_BOOT, 2: SECOND_BOOT}.get(state.boots)
    rb.say(f"-- boot {state.boots}")
    status = 0
    try:
        if steps is None:
            raise Failure(f"boot {state.boots}: the test reboots the host once only")
        for name, check in steps:
            with rb.step(name):
                check()
    except Exception as exc:  # the step has said what failed
        if not isinstance(exc, Failure) or steps is None:
            rb.say(str(exc))
        rb.say("FAILED")
        status = 1
    state.timings[f"boot{state.boots}_scenario_s"] = round(time.monotonic() - rb.start, 1)
    state.save()
    (OUT / "timings.json").write_text(json.dumps(state.timings, indent=2) + "\n")
    collect(f"-boot{state.boots}")
    if status == 0 and state.boots == 1:
        rb.say("-- rebooting the host; the second boot checks what comes back")
        subprocess.run(["systemctl", "--no-block", "reboot"], check=True)
    elif status == 0:
        rb.say("PASS")
        subprocess.run(["systemctl", "--no-block", "exit", "0"], check=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
