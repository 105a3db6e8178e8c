"""The Quadlet units and the systemd timers beside them (quadlet/): Podman's own generator and
systemd accept them with no complaint, laid out as an operator installs them; they agree with
images/spec.json; and compose.yaml describes the same containers."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from .support import (
    QUADLET,
    REPO,
    SPEC,
    Unit,
    in_rootfs,
    option_values,
    parse_unit,
    podman_options,
    size_bytes,
    split_dryrun,
    value,
    values,
)

# Where each file goes in the stack user's home (the operator's guide and the install script
# use the same layout).
QUADLET_DIR = ".config/containers/systemd"
SYSTEMD_DIR = ".config/systemd/user"
SCRIPT_DIR = ".local/lib/experts-panel"
QUADLET_TYPES = (".pod", ".container", ".volume")
SYSTEMD_TYPES = (".service", ".timer")
# Host-side programs the units run, and where they come from in the repository.
SCRIPTS = {
    "experts-panel-tls-placeholder": QUADLET / "bin",
    "experts-panel-certbot": QUADLET / "bin",
    "experts-panel-certbot-deploy": QUADLET / "bin",
    "experts-panel-notify": QUADLET / "bin",
    "experts-panel-backup": REPO / "backup",
}
HOME = "/home/panel"


def install(home: Path, quadlet_dir: Path = QUADLET) -> None:
    """Lays the units and scripts out in `home` as an operator installs them."""
    for sub in (QUADLET_DIR, SYSTEMD_DIR, SCRIPT_DIR, ".config/experts-panel"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    for path in sorted(quadlet_dir.iterdir()):
        if path.suffix in QUADLET_TYPES:
            shutil.copy(path, home / QUADLET_DIR)
        elif path.suffix in SYSTEMD_TYPES:
            shutil.copy(path, home / SYSTEMD_DIR)
    for name, folder in SCRIPTS.items():
        assert (folder / name).is_file(), f"{folder / name} is missing (a unit runs it)"
        shutil.copy(folder / name, home / SCRIPT_DIR)
    (home / ".config/experts-panel/env").write_text("PANEL_DOMAIN=panel.example.org\n")


def quadlet_dryrun(rootfs: Path, unit_dir: Path) -> tuple[dict[str, Unit], list[str]]:
    """Podman's generator on `unit_dir`: the units it generates, and its complaints (any line
    but its "Loading source unit file" notes, and a non-zero exit)."""
    run = in_rootfs(
        rootfs,
        "env",
        "QUADLET_UNIT_DIRS=/units",
        "/usr/libexec/podman/quadlet",
        "-dryrun",
        "-user",
        ro_binds={unit_dir: "/units"},
    )
    complaints = [
        line
        for line in run.stderr.splitlines()
        if line.strip() and "Loading source unit file" not in line
    ]
    if run.returncode != 0:
        complaints.append(f"quadlet exited with {run.returncode}")
    return split_dryrun(run.stdout), complaints


def generated_names(quadlet_dir: Path = QUADLET) -> list[str]:
    """The services Quadlet generates from the files in `quadlet_dir`."""
    names = []
    for path in sorted(quadlet_dir.iterdir()):
        if path.suffix == ".pod":
            service = values(parse_unit(path.read_text()), "Pod", "ServiceName")
            names.append(f"{service[0] if service else path.stem + '-pod'}.service")
        elif path.suffix == ".container":
            names.append(f"{path.stem}.service")
        elif path.suffix == ".volume":
            names.append(f"{path.stem}-volume.service")
    return names


def unit_names(quadlet_dir: Path = QUADLET) -> list[str]:
    """Every systemd unit an install has: the generated services and the plain units (the
    failure-report template instantiated as the backup's failure would)."""
    plain = [
        p.name.replace("@.", "@experts-panel-backup.service.")
        for p in sorted(quadlet_dir.iterdir())
        if p.suffix in SYSTEMD_TYPES
    ]
    return generated_names(quadlet_dir) + plain


def systemd_verify(rootfs: Path, home: Path, units: list[str]) -> list[str]:
    """`systemd-analyze --user --generators=true verify` as the stack's user with `home` as
    the home directory: systemd runs Podman's generator on the installed Quadlet files, then
    checks every unit (keys, values, specifiers, that each command exists and is executable,
    dependencies). It can exit 0 after a complaint, so every line it prints counts."""
    script = f"""
        useradd --uid 1000 --no-create-home --home-dir {HOME} panel
        chown -R panel:panel {HOME}
        install -d -m 0700 -o panel -g panel /run/user/1000
        cd {HOME}
        exec setpriv --reuid=panel --regid=panel --init-groups \
            env HOME={HOME} XDG_RUNTIME_DIR=/run/user/1000 SYSTEMD_COLORS=0 \
            systemd-analyze --user --generators=true verify "$@" 2>&1
    """
    run = in_rootfs(rootfs, "bash", "-c", script, "verify", *units, binds={home: HOME})
    lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    if run.returncode != 0:
        lines.append(f"systemd-analyze exited with {run.returncode}")
    return lines


# --- Podman's generator and systemd accept the units --------------------------------------


def test_quadlet_generates_every_unit_without_complaint(rootfs: Path) -> None:
    units, complaints = quadlet_dryrun(rootfs, QUADLET)
    assert complaints == []
    assert sorted(units) == sorted(generated_names())


def test_installed_units_pass_systemd_verify(rootfs: Path, tmp_path: Path) -> None:
    install(tmp_path / "home")
    assert systemd_verify(rootfs, tmp_path / "home", unit_names()) == []


def _add_to_section(path: Path, section: str, line: str) -> None:
    text = path.read_text()
    assert f"[{section}]\n" in text
    path.write_text(text.replace(f"[{section}]\n", f"[{section}]\n{line}\n", 1))


def _quadlet_key_podman_54_lacks(d: Path) -> None:
    _add_to_section(d / "experts-panel-api.container", "Container", "Memory=1G")


def _missing_pod(d: Path) -> None:
    path = d / "experts-panel-web.container"
    path.write_text(path.read_text().replace("Pod=experts-panel.pod", "Pod=experts-panl.pod"))


def _bad_calendar(d: Path) -> None:
    path = d / "experts-panel-backup.timer"
    path.write_text(path.read_text().replace("03:15:00", "27:15:00"))


def _unknown_key(d: Path) -> None:
    _add_to_section(d / "experts-panel-certbot.service", "Service", "ExecStrat=/bin/true")


def _missing_notify_template(d: Path) -> None:
    (d / "experts-panel-notify@.service").unlink()


@pytest.mark.parametrize(
    ("break_it", "complaint"),
    [
        (_quadlet_key_podman_54_lacks, "unsupported key 'Memory'"),
        (_missing_pod, "experts-panl.pod"),
        (_bad_calendar, "Failed to parse calendar"),
        (_unknown_key, "ExecStrat"),
        (_missing_notify_template, "experts-panel-notify@"),
    ],
    ids=["quadlet-key", "missing-pod", "calendar", "unknown-key", "missing-template"],
)
def test_the_checks_catch_a_broken_unit(
    rootfs: Path, tmp_path: Path, break_it: Callable[[Path], None], complaint: str
) -> None:
    broken = tmp_path / "quadlet"
    shutil.copytree(QUADLET, broken)
    break_it(broken)
    _, dryrun_complaints = quadlet_dryrun(rootfs, broken)
    install(tmp_path / "home", broken)
    # The intact list of units, so a deleted one is looked for and missed.
    verify_complaints = systemd_verify(rootfs, tmp_path / "home", unit_names())
    assert any(complaint in line for line in dryrun_complaints + verify_complaints), (
        dryrun_complaints + verify_complaints
    )


def test_verify_names_a_missing_script(rootfs: Path, tmp_path: Path) -> None:
    install(tmp_path / "home")
    (tmp_path / "home" / SCRIPT_DIR / "experts-panel-certbot").unlink()
    lines = systemd_verify(rootfs, tmp_path / "home", unit_names())
    assert any("experts-panel-certbot is not executable" in line for line in lines), lines


# --- The units agree with images/spec.json -------------------------------------------------


@pytest.fixture(scope="module")
def generated(rootfs: Path) -> dict[str, Unit]:
    units, complaints = quadlet_dryrun(rootfs, QUADLET)
    assert complaints == []
    return units


def test_pod_matches_spec(generated: dict[str, Unit]) -> None:
    pod = SPEC["pod"]
    unit = generated[f"{pod['service']}.service"]
    assert value(unit, "X-Pod", "PodName") == pod["name"]
    create = [v for v in values(unit, "Service", "ExecStartPre") if " pod create " in v]
    options, rest = podman_options(create[0], ["pod", "create"])
    assert rest == []
    assert option_values(options, "--name") == [pod["name"]]
    assert option_values(options, "--publish") == [
        f"{p['host']}:{p['container']}" for p in pod["publish"]
    ]
    user = SPEC["user"]
    assert option_values(options, "--userns") == [f"keep-id:uid={user['uid']},gid={user['gid']}"]
    published = {p["container"] for p in pod["publish"]}
    assert published == set(SPEC["images"]["web"]["ports"])
    assert values(unit, "Install", "WantedBy") == ["default.target"]


def test_volume_units_match_spec(generated: dict[str, Unit]) -> None:
    for key, name in SPEC["volumes"].items():
        unit = generated[f"{name}-volume.service"]
        assert value(unit, "X-Volume", "VolumeName") == name, key
        assert value(unit, "Service", "ExecStart").endswith(f"volume create --ignore {name}")


@pytest.mark.parametrize("image", ["api", "web"])
def test_container_matches_spec(generated: dict[str, Unit], image: str) -> None:
    spec = SPEC["images"][image]
    unit = generated[spec["unit"].removesuffix(".container") + ".service"]
    options, rest = podman_options(value(unit, "Service", "ExecStart"), ["run"])

    # The image's own entry point runs: nothing after the image, no --entrypoint.
    assert rest == [f"{spec['name']}:{spec['tag']}"]
    assert option_values(options, "--entrypoint") == []
    assert option_values(options, "--name") == [spec["container"]]
    assert option_values(options, "--pod-id-file") == [f"%t/{SPEC['pod']['service']}.pod-id"]
    assert option_values(options, "--pull") == ["never"]
    assert "io.containers.autoupdate=local" in option_values(options, "--label")

    mounts = {}
    for v in option_values(options, "-v", "--volume"):
        source, dest, *_ = v.split(":")
        mounts[source] = dest
    assert mounts == {SPEC["volumes"][k]: path for k, path in spec["volumes"].items()}

    # Health: exec form (a JSON array, so Podman runs it without a shell), and its timing.
    health = spec["health"]
    assert [json.loads(v) for v in option_values(options, "--health-cmd")] == [health["cmd"]]
    assert option_values(options, "--health-interval") == [health["interval"]]
    assert option_values(options, "--health-timeout") == [health["timeout"]]
    assert option_values(options, "--health-retries") == [str(health["retries"])]
    assert option_values(options, "--health-start-period") == [health["start_period"]]
    # The startup check: the same command, often, until it first passes (see the units).
    startup = option_values(options, "--health-startup-cmd")
    assert [json.loads(v) for v in startup] == [health["cmd"]]
    assert option_values(options, "--health-startup-interval") == [health["startup_interval"]]
    assert option_values(options, "--health-on-failure") == ["kill"]
    assert option_values(options, "--sdnotify") == ["healthy"]

    assert option_values(options, "--stop-signal") == [spec["stop_signal"]]
    assert [size_bytes(v) for v in option_values(options, "--memory")] == [
        size_bytes(spec["memory"])
    ]
    assert ("--read-only", "") in options
    assert option_values(options, "--cap-drop") == ["all"]
    assert "no-new-privileges" in option_values(options, "--security-opt")
    # The image's environment is the spec's; a unit may add to it, never contradict it.
    for pair in option_values(options, "-e", "--env"):
        name, _, val = pair.partition("=")
        assert spec["env"].get(name, val) == val, pair
    assert value(unit, "Service", "Restart") == "on-failure"
    assert values(unit, "Unit", "OnFailure") == ["experts-panel-notify@%n.service"]


def duration_ns(text: str) -> int:
    """2s, 5m, 1h (spec.json's durations) -> nanoseconds, as Podman's inspect gives them."""
    return int(text[:-1]) * {"s": 1, "m": 60, "h": 3600}[text[-1]] * 10**9


def podman_create_script(units: dict[str, Unit]) -> str:
    """A script that makes what the generated units would: the pod from its ExecStartPre,
    then each container from its ExecStart with `run` as `create` (nothing starts). systemd's
    specifiers are filled in as systemd would; the images are empty ones under the spec's
    names (nothing is pulled)."""

    def command(line: str, unit: str) -> str:
        words = [w for w in shlex.split(line) if w != "-d"]  # `create` has no --detach
        if words[1] == "run":
            words[1] = "create"
        text = shlex.join(words).replace("%t", "/run/units").replace("%N", unit)
        return text.replace("%h", "/root").replace("/usr/bin/podman", "$podman") + " >/dev/null"

    script = [
        "set -euo pipefail",
        'podman="podman --storage-driver vfs --cgroup-manager cgroupfs"',
        "mkdir -p /run/units /root/.config/experts-panel /tmp/empty",
        "touch /root/.config/experts-panel/env",
        "tar -C /tmp/empty -cf /tmp/empty.tar .",
        f"printf '\\n' | $podman secret create {SPEC['secret']['name']} - >/dev/null",
    ]
    for spec in SPEC["images"].values():
        script.append(f"$podman import -q /tmp/empty.tar {spec['name']}:{spec['tag']} >/dev/null")
    pod = SPEC["pod"]["service"]
    (create,) = values(units[f"{pod}.service"], "Service", "ExecStartPre")
    script.append(command(create, pod))
    names = [spec["container"] for spec in SPEC["images"].values()]
    for name in names:
        script.append(command(value(units[f"{name}.service"], "Service", "ExecStart"), name))
    script.append(f"$podman container inspect {' '.join(names)}")
    return "\n".join(script) + "\n"


def test_podman_reads_the_generated_commands_as_the_spec_says(
    rootfs: Path, generated: dict[str, Unit]
) -> None:
    """Podman itself (5.4, as root in the throwaway tree) parses the generated command lines:
    the health commands are exec form, the user is the spec's through the pod's keep-id user
    namespace, and limits, mounts and the secret are what the spec lists."""
    run = in_rootfs(rootfs, "bash", "-c", podman_create_script(generated))
    assert run.returncode == 0, run.stderr
    inspected = {c["Name"]: c for c in json.loads(run.stdout)}
    user = SPEC["user"]
    for spec in SPEC["images"].values():
        c = inspected[spec["container"]]
        health = c["Config"]["Healthcheck"]
        assert health["Test"] == ["CMD", *spec["health"]["cmd"]]
        assert health["Retries"] == spec["health"]["retries"]
        assert c["Config"]["HealthcheckOnFailureAction"] == "kill"
        startup = c["Config"]["StartupHealthCheck"]
        assert startup["Test"] == ["CMD", *spec["health"]["cmd"]]
        assert startup["Interval"] == duration_ns(spec["health"]["startup_interval"])
        assert c["Config"]["User"] == f"{user['uid']}:{user['gid']}"
        assert c["Config"]["StopSignal"] == spec["stop_signal"]
        assert c["HostConfig"]["Memory"] == size_bytes(spec["memory"])
        assert c["HostConfig"]["ReadonlyRootfs"] is True
        assert c["HostConfig"]["SecurityOpt"] == ["no-new-privileges"]
        assert c["HostConfig"]["CapAdd"] in (None, [])
        assert c["HostConfig"]["UsernsMode"].startswith("container:")  # the pod's
        assert c["Pod"]
        mounts = {m["Name"]: m["Destination"] for m in c["Mounts"]}
        assert mounts == {SPEC["volumes"][k]: path for k, path in spec["volumes"].items()}
    (secret,) = inspected[SPEC["images"]["api"]["container"]]["Config"]["Secrets"]
    assert (secret["Name"], secret["UID"], secret["Mode"]) == (
        SPEC["secret"]["name"],
        user["uid"],
        0o400,
    )


def test_api_secret_and_settings_match_spec(generated: dict[str, Unit]) -> None:
    api = SPEC["images"]["api"]
    unit = generated["experts-panel-api.service"]
    options, _ = podman_options(value(unit, "Service", "ExecStart"), ["run"])
    (secret,) = option_values(options, "--secret")
    name, *opts = secret.split(",")
    fields = dict(o.split("=", 1) for o in opts)
    assert name == SPEC["secret"]["name"]
    assert fields["type"] == "mount"
    assert fields["target"] == SPEC["secret"]["target"] == api["env"]["OPENROUTER_API_KEY_FILE"]
    assert (fields["uid"], fields["gid"]) == (str(SPEC["user"]["uid"]), str(SPEC["user"]["gid"]))
    assert option_values(options, "--env-file") == ["%h/.config/experts-panel/env"]


def test_web_starts_after_the_api_and_has_a_certificate_first(generated: dict[str, Unit]) -> None:
    unit = generated["experts-panel-web.service"]
    assert "experts-panel-api.service" in values(unit, "Unit", "After")
    assert "experts-panel-api.service" in values(unit, "Unit", "Wants")
    assert values(unit, "Service", "ExecStartPre") == [
        f"%h/{SCRIPT_DIR}/experts-panel-tls-placeholder"
    ]
    options, _ = podman_options(value(unit, "Service", "ExecStart"), ["run"])
    # Both volumes only read by nginx.
    assert all(v.endswith(":ro") for v in option_values(options, "-v"))
    # nginx writes its pid file and temp files to the tmpfs /tmp.
    assert ("--read-only-tmpfs", "") in options


def test_timers_and_their_services() -> None:
    backup = parse_unit((QUADLET / "experts-panel-backup.service").read_text())
    certbot = parse_unit((QUADLET / "experts-panel-certbot.service").read_text())
    for unit, script in ((backup, "experts-panel-backup"), (certbot, "experts-panel-certbot")):
        assert value(unit, "Service", "Type") == "oneshot"
        assert value(unit, "Service", "ExecStart") == f"%h/{SCRIPT_DIR}/{script}"
        assert value(unit, "Service", "EnvironmentFile") == "%h/.config/experts-panel/env"
        assert value(unit, "Unit", "OnFailure") == "experts-panel-notify@%n.service"

    renew = parse_unit((QUADLET / "experts-panel-certbot.timer").read_text())
    assert value(renew, "Timer", "OnCalendar") == "*-*-* 00,12:00:00"
    assert value(renew, "Timer", "RandomizedDelaySec")
    assert value(renew, "Timer", "Persistent") == "true"
    daily = parse_unit((QUADLET / "experts-panel-backup.timer").read_text())
    assert value(daily, "Timer", "Persistent") == "true"

    notify = parse_unit((QUADLET / "experts-panel-notify@.service").read_text())
    assert value(notify, "Service", "ExecStart") == f"%h/{SCRIPT_DIR}/experts-panel-notify %i"
    # Reporting must work even when the settings file is missing.
    assert value(notify, "Service", "EnvironmentFile").startswith("-")


# --- The Telegram sync: a short-lived container from the API's image, on its timer ----------

SYNC = SPEC["sync"]


def test_sync_runs_the_api_image_once_on_the_data_volume(generated: dict[str, Unit]) -> None:
    """experts-panel-sync.service (Quadlet's, from the .container) runs `experts-panel sync`
    in the API's image and ends: outside the pod, as the images' user, on the data volume
    alone, the api_hash as a mounted secret, and failures reported like the other units'."""
    api = SPEC["images"][SYNC["image"]]
    unit = generated[SYNC["unit"].removesuffix(".container") + ".service"]
    options, rest = podman_options(value(unit, "Service", "ExecStart"), ["run"])

    assert rest == [f"{api['name']}:{api['tag']}", *SYNC["command"][1:]]
    assert option_values(options, "--entrypoint") == SYNC["command"][:1]
    assert option_values(options, "--name") == [SYNC["container"]]
    assert ("--rm", "") in options
    # Not detached, no sd-notify: the unit is a oneshot that lasts as long as the sync.
    assert ("-d", "") not in options and option_values(options, "--sdnotify") == []
    assert value(unit, "Service", "Type") == "oneshot"
    assert values(unit, "Service", "RemainAfterExit") == []  # else the timer could not restart it
    assert values(unit, "Service", "Restart") in ([], ["no"])
    assert value(unit, "Service", "TimeoutStartSec")
    # Its own network namespace, the pod's user mapping.
    assert option_values(options, "--pod-id-file", "--pod") == []
    user = SPEC["user"]
    assert option_values(options, "--userns") == [f"keep-id:uid={user['uid']},gid={user['gid']}"]
    assert option_values(options, "--pull") == ["never"]
    # No auto-update label: auto-update restarts running units, and this one only runs briefly.
    assert not any("autoupdate" in v for v in option_values(options, "--label"))

    mounts = dict(v.split(":")[:2] for v in option_values(options, "-v", "--volume"))
    assert mounts == {SPEC["volumes"][k]: path for k, path in SYNC["volumes"].items()}
    assert SYNC["volumes"]["data"] == api["volumes"]["data"]
    (secret,) = option_values(options, "--secret")
    name, *opts = secret.split(",")
    fields = dict(o.split("=", 1) for o in opts)
    assert name == SYNC["secret"]["name"]
    assert (fields["type"], fields["target"], fields["mode"]) == (
        "mount",
        SYNC["secret"]["target"],
        "0400",
    )
    assert (fields["uid"], fields["gid"]) == (str(user["uid"]), str(user["gid"]))
    env = option_values(options, "-e", "--env")
    assert f"{SYNC['secret']['env']}={SYNC['secret']['target']}" in env
    # Nothing Telegram's in a process argument: the hash only as the mounted file.
    assert not any(v.startswith(("TELEGRAM_API_HASH=", "TELEGRAM_SESSION")) for v in env)
    assert option_values(options, "--env-file") == ["%h/.config/experts-panel/env"]
    # The image's health check is the API's, which this container never serves.
    assert option_values(options, "--health-cmd") == ["none"]
    assert ("--read-only", "") in options
    assert option_values(options, "--cap-drop") == ["all"]
    assert "no-new-privileges" in option_values(options, "--security-opt")
    assert [size_bytes(v) for v in option_values(options, "--memory")] == [
        size_bytes(SYNC["memory"])
    ]
    assert values(unit, "Unit", "OnFailure") == ["experts-panel-notify@%n.service"]
    # Started by its timer alone: Quadlet would enable a generated unit with an [Install].
    assert "Install" not in unit


def test_sync_timer_is_hourly_and_not_enabled_by_the_install() -> None:
    timer = parse_unit((QUADLET / SYNC["timer"]).read_text())
    # No Unit=: the timer starts the service of its own name, the one Quadlet generates.
    assert values(timer, "Timer", "Unit") == []
    assert Path(SYNC["timer"]).stem == Path(SYNC["unit"]).stem
    assert value(timer, "Timer", "OnCalendar") == "hourly"
    assert value(timer, "Timer", "RandomizedDelaySec") == "15min"
    assert value(timer, "Timer", "Persistent") == "true"
    # What `systemctl --user enable` acts on, when the operator chooses to.
    assert values(timer, "Install", "WantedBy") == ["timers.target"]
    # The install enables the other two timers, never this one (it needs a login first).
    install_host = (REPO / "scripts" / "install-host").read_text()
    enables = [line for line in install_host.splitlines() if "enable --now" in line]
    assert any("experts-panel-backup.timer" in line for line in enables), enables
    assert not any(SYNC["timer"] in line for line in enables), enables


def test_podman_reads_the_sync_command_as_the_spec_says(
    rootfs: Path, generated: dict[str, Unit]
) -> None:
    """Podman itself parses the generated sync command: the API image with the sync command
    instead of `serve`, no health check, the secret as a file for the images' user."""
    service = SYNC["unit"].removesuffix(".container")
    run_line = value(generated[f"{service}.service"], "Service", "ExecStart")
    words = [w for w in shlex.split(run_line) if w not in ("--cgroups=split",)]
    words[1] = "create"
    command = shlex.join(words).replace("%t", "/run/units").replace("%N", service)
    command = command.replace("%h", "/root").replace("/usr/bin/podman", "$podman")
    api = SPEC["images"][SYNC["image"]]
    script = "\n".join(
        [
            "set -euo pipefail",
            'podman="podman --storage-driver vfs --cgroup-manager cgroupfs"',
            "mkdir -p /run/units /root/.config/experts-panel /tmp/empty",
            "touch /root/.config/experts-panel/env",
            "tar -C /tmp/empty -cf /tmp/empty.tar .",
            f"printf 'hash\\n' | $podman secret create {SYNC['secret']['name']} - >/dev/null",
            # The image's own entry point (`serve`), which the sync replaces.
            f"$podman import -q --change 'ENTRYPOINT {json.dumps(api['entrypoint'])}'"
            f" /tmp/empty.tar {api['name']}:{api['tag']} >/dev/null",
            command + " >/dev/null",
            f"$podman container inspect {SYNC['container']}",
        ]
    )
    run = in_rootfs(rootfs, "bash", "-c", script + "\n")
    assert run.returncode == 0, run.stderr
    (c,) = json.loads(run.stdout)
    assert [*c["Config"]["Entrypoint"], *c["Config"]["Cmd"]] == SYNC["command"]
    # Podman's "no health check", which overrides the one in the API's image.
    assert c["Config"]["Healthcheck"]["Test"] == ["NONE"]
    assert c["Config"]["User"] == f"{SPEC['user']['uid']}:{SPEC['user']['gid']}"
    assert c["HostConfig"]["Memory"] == size_bytes(SYNC["memory"])
    assert c["HostConfig"]["ReadonlyRootfs"] is True
    assert not c["Pod"]
    assert {m["Name"]: m["Destination"] for m in c["Mounts"]} == {
        SPEC["volumes"][k]: path for k, path in SYNC["volumes"].items()
    }
    (secret,) = c["Config"]["Secrets"]
    assert (secret["Name"], secret["UID"], secret["Mode"]) == (
        SYNC["secret"]["name"],
        SPEC["user"]["uid"],
        0o400,
    )


def test_the_one_off_runner_runs_the_container_as_the_sync_unit_does(
    generated: dict[str, Unit], tmp_path: Path
) -> None:
    """quadlet/bin/experts-panel-run (the login, `experts add`, a sync by hand) gives Podman
    the sync unit's image, user, volume, settings, secret and hardening, and the operator's
    command in place of `sync`. A stand-in podman records what it is given."""
    fake = tmp_path / "bin"
    fake.mkdir()
    record = tmp_path / "podman-args"
    (fake / "podman").write_text(f'#!/bin/sh\nprintf "%s\\0" "$@" > {record}\n')
    (fake / "podman").chmod(0o755)
    home = tmp_path / "home"
    command = ["experts", "add", "ai_architect", "--username", "ai_architect_channel"]
    run = run_script("experts-panel-run", *command, env={"HOME": str(home)}, path=str(fake))
    assert run.returncode == 0, run.stderr
    given = record.read_text().split("\0")[:-1]
    options, rest = podman_options(shlex.join(["/usr/bin/podman", *given]), ["run"])

    service = SYNC["unit"].removesuffix(".container")
    unit_options, unit_rest = podman_options(
        value(generated[f"{service}.service"], "Service", "ExecStart"), ["run"]
    )
    api = SPEC["images"][SYNC["image"]]
    assert unit_rest == [f"{api['name']}:{api['tag']}", "sync"]
    assert rest == [f"{api['name']}:{api['tag']}", *command]
    # No terminal here (the test's stdin is not one): no -it, so scripts can use it too.
    assert ("--tty", "") not in options and ("--interactive", "") not in options
    for names in (
        ("--entrypoint",),
        ("--userns",),
        ("-v", "--volume"),
        ("--secret",),
        ("-e", "--env"),
        ("--health-cmd",),
        ("--cap-drop",),
        ("--security-opt",),
        ("--pull",),
    ):
        assert option_values(options, *names) == option_values(unit_options, *names), names
    assert option_values(options, "--env-file") == [
        v.replace("%h", str(home)) for v in option_values(unit_options, "--env-file")
    ]
    for flag in ("--rm", "--read-only"):
        assert (flag, "") in options and (flag, "") in unit_options


def test_the_one_off_runner_without_a_command_says_how() -> None:
    run = run_script("experts-panel-run")
    assert run.returncode == 2
    assert "experts-panel-run telegram login" in run.stderr


def test_auto_update_restarts_the_unit_that_waits_for_health(generated: dict[str, Unit]) -> None:
    """podman auto-update restarts the unit in the pod's infra label and rolls back when that
    restart fails; the pod's own start succeeds before any container is healthy, so the label
    must name experts-panel-healthy, whose restart restarts the pod and which fails when a
    container does not become active (healthy). The whole rollback runs in tests/host."""
    pod = SPEC["pod"]["service"]
    gate = "experts-panel-healthy.service"
    unit = generated[f"{pod}.service"]
    create = [v for v in values(unit, "Service", "ExecStartPre") if " pod create " in v]
    options, _ = podman_options(create[0], ["pod", "create"])
    assert option_values(options, "--label") == [f"PODMAN_SYSTEMD_UNIT={gate}"]
    # Quadlet's own Environment=PODMAN_SYSTEMD_UNIT=%n would replace the label: unset.
    assert "PODMAN_SYSTEMD_UNIT=%n" in values(unit, "Service", "Environment")
    assert values(unit, "Service", "UnsetEnvironment") == ["PODMAN_SYSTEMD_UNIT"]
    assert values(unit, "Unit", "PartOf") == [gate]
    assert gate in values(unit, "Unit", "Wants")

    healthy = parse_unit((QUADLET / gate).read_text())
    containers = [f"{i['container']}.service" for i in SPEC["images"].values()]
    assert values(healthy, "Unit", "BindsTo") == [f"{pod}.service"]
    assert values(healthy, "Unit", "Wants") == [" ".join(containers)]
    assert " ".join(containers) in values(healthy, "Unit", "After")
    # Requires= would stop the pod whenever the API is stopped (restore does).
    assert values(healthy, "Unit", "Requires") == []
    assert values(healthy, "Service", "ExecStart") == [
        f"/usr/bin/env systemctl --user is-active --quiet {name}" for name in containers
    ]
    assert value(healthy, "Service", "RemainAfterExit") == "yes"


# --- compose.yaml, as podman-compose itself reads it ---------------------------------------

PODMAN_COMPOSE = REPO / ".cache" / "deploy-tools" / "bin" / "podman-compose"


def compose_commands(tmp_path: Path) -> list[str]:
    """The `podman run` lines `podman-compose up` would run (its --dry-run prints them). The
    few podman calls it makes even then (volume inspect, network exists) go to a stub that
    answers yes."""
    assert PODMAN_COMPOSE.exists(), (
        f"{PODMAN_COMPOSE} is missing: tests/deploy/run installs podman-compose there"
    )
    stub = tmp_path / "podman"
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    compose = [str(PODMAN_COMPOSE), "--verbose", "--dry-run", "--podman-path", str(stub)]
    run = subprocess.run(
        [*compose, "-f", str(REPO / "compose.yaml"), "up", "-d"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=tmp_path,
    )
    prefix = f"INFO:podman_compose:{stub} run "
    return [
        "/usr/bin/podman run " + line.removeprefix(prefix)
        for line in run.stderr.splitlines()
        if line.startswith(prefix)
    ]


def test_compose_runs_the_same_containers(tmp_path: Path) -> None:
    commands = compose_commands(tmp_path)
    assert len(commands) == 2, commands
    by_name = {}
    for line in commands:
        options, rest = podman_options(line, ["run"])
        by_name[option_values(options, "--name")[0]] = (options, rest)

    user = SPEC["user"]
    for key, spec in SPEC["images"].items():
        options, rest = by_name[spec["container"]]
        assert rest == [f"{spec['name']}:{spec['tag']}"], key
        mounts = {v.split(":")[0]: v.split(":")[1] for v in option_values(options, "-v")}
        assert mounts == {SPEC["volumes"][k]: path for k, path in spec["volumes"].items()}
        assert option_values(options, "--pull") == ["never"]
        assert option_values(options, "--stop-signal") == [spec["stop_signal"]]
        assert [size_bytes(v) for v in option_values(options, "-m")] == [size_bytes(spec["memory"])]
        assert ("--read-only", "") in options
        assert option_values(options, "--cap-drop") == ["ALL"]
        assert "no-new-privileges" in option_values(options, "--security-opt")

    api_options, _ = by_name["experts-panel-api"]
    assert option_values(api_options, "--userns") == [
        f"keep-id:uid={user['uid']},gid={user['gid']}"
    ]
    published = [p.rsplit(":", 1)[1] for p in option_values(api_options, "-p")]
    assert published == [str(p) for p in SPEC["images"]["web"]["ports"]]
    web_options, _ = by_name["experts-panel-web"]
    assert option_values(web_options, "--network") == ["container:experts-panel-api"]
    assert option_values(web_options, "--userns") == ["container:experts-panel-api"]


def test_the_api_reads_the_shared_env_file_and_a_newline_secret(tmp_path: Path) -> None:
    """The units rely on two things the service does: it ignores the host-side variables in
    the env file it shares with the timers, and a key file holding only a newline (Podman
    refuses an empty secret) means "no key": the embedded model answers."""
    from experts_panel.settings import load_settings

    key = tmp_path / "openrouter_api_key"
    key.write_text("\n")
    env = {**SPEC["images"]["api"]["env"], "OPENROUTER_API_KEY_FILE": str(key)}
    env.update(PANEL_DOMAIN="panel.example.org", ACME_EMAIL="", NOTIFY_COMMAND="true")
    env.update(BACKUP_KEEP_DAILY="7", BACKUP_KEEP_WEEKLY="4", BACKUP_OFFSITE_COMMAND="")
    settings = load_settings(env)
    assert settings.OPENROUTER_API_KEY is None and not settings.openrouter_configured
    key.write_text("sk-or-test\n")
    assert load_settings(env).openrouter_configured


# --- The host-side scripts the units run ---------------------------------------------------

BIN = QUADLET / "bin"


def test_scripts_pass_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is missing: tests/deploy/run installs it"
    lib = REPO / "tests" / "lib"
    scripts = [*sorted(BIN.iterdir()), lib / "in-rootfs", lib / "trixie-rootfs"]
    run = subprocess.run([shellcheck, *map(str, scripts)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout


def run_script(
    name: str, *args: str, env: dict[str, str] | None = None, path: str = ""
) -> subprocess.CompletedProcess[str]:
    base = {"PATH": f"{path}:/usr/bin:/bin" if path else "/usr/bin:/bin", "HOME": "/nonexistent"}
    return subprocess.run(
        [str(BIN / name), *args],
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_placeholder_certificate_is_made_once(tmp_path: Path) -> None:
    certs = tmp_path / "certs"
    certs.mkdir()
    first = run_script("experts-panel-tls-placeholder", str(certs))
    assert first.returncode == 0, first.stderr
    assert "placeholder" in first.stdout
    key, cert = certs / "privkey.pem", certs / "fullchain.pem"
    assert key.stat().st_mode & 0o777 == 0o600
    subject = subprocess.run(
        ["openssl", "x509", "-in", str(cert), "-noout", "-subject", "-issuer"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert subject.count("experts-panel placeholder") == 2  # self-signed
    assert sorted(p.name for p in certs.iterdir()) == ["fullchain.pem", "privkey.pem"]

    before = (key.read_bytes(), cert.read_bytes())
    again = run_script("experts-panel-tls-placeholder", str(certs))
    assert again.returncode == 0 and again.stdout == ""
    assert (key.read_bytes(), cert.read_bytes()) == before


def test_placeholder_names_a_wrong_directory(tmp_path: Path) -> None:
    run = run_script("experts-panel-tls-placeholder", str(tmp_path / "nowhere"))
    assert run.returncode == 1
    assert f"{tmp_path / 'nowhere'} is not a directory" in run.stderr


def test_notify_without_a_command_only_logs() -> None:
    run = run_script("experts-panel-notify", "experts-panel-backup.service")
    assert run.returncode == 0
    assert "experts-panel-backup.service failed" in run.stdout
    assert "NOTIFY_COMMAND is not set" in run.stdout


def test_notify_runs_the_command_with_the_unit(tmp_path: Path) -> None:
    out = tmp_path / "report"
    command = f"printf '%s %s\\n' \"$1\" \"$FAILED_UNIT\" > '{out}'; cat >/dev/null"
    run = run_script(
        "experts-panel-notify", "experts-panel-certbot.service", env={"NOTIFY_COMMAND": command}
    )
    assert run.returncode == 0, run.stderr
    assert out.read_text() == "experts-panel-certbot.service experts-panel-certbot.service\n"

    failing = run_script("experts-panel-notify", "x.service", env={"NOTIFY_COMMAND": "exit 7"})
    assert failing.returncode == 7


def _fake_bin(tmp_path: Path, volumes: dict[str, Path]) -> Path:
    """Test doubles for the two programs experts-panel-certbot calls: `certbot` records its
    arguments (the real certbot against a real ACME server is the whole-host test's part), and
    `podman` answers volume mount points and says the web container is stopped."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    calls = tmp_path / "certbot-calls"
    (bin_dir / "certbot").write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$*" >> {calls}\n',
    )
    cases = "\n".join(f'  *" {name}") echo {path} ;;' for name, path in volumes.items())
    (bin_dir / "podman").write_text(
        '#!/bin/sh\ncase "$*" in\n'
        f"{cases}\n"
        '  "container inspect"*) echo false ;;\n'
        '  *) echo "unexpected podman $*" >&2; exit 3 ;;\n'
        "esac\n"
    )
    for p in bin_dir.iterdir():
        p.chmod(0o755)
    return bin_dir


def _lineage(config: Path, names: list[str]) -> Path:
    """A certbot lineage as certbot leaves it: renewal/experts-panel.conf and live/ files."""
    live = config / "live" / "experts-panel"
    live.mkdir(parents=True)
    (config / "renewal").mkdir()
    (config / "renewal" / "experts-panel.conf").write_text("# certbot's\n")
    san = ",".join(f"DNS:{n}" for n in names)
    args = (
        "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
        f" -subj /CN={names[0]} -addext subjectAltName={san}"
        f" -keyout {live}/privkey.pem -out {live}/cert.pem"
    )
    subprocess.run(["openssl", *args.split()], check=True, capture_output=True)
    shutil.copy(live / "cert.pem", live / "fullchain.pem")
    return live


def test_certbot_issues_first_then_renews(tmp_path: Path) -> None:
    home, acme, certs = tmp_path / "home", tmp_path / "acme", tmp_path / "certs"
    for d in (home, acme, certs):
        d.mkdir()
    fake = _fake_bin(tmp_path, {"experts-panel-acme": acme, "experts-panel-certs": certs})
    calls = tmp_path / "certbot-calls"
    env = {
        "HOME": str(home),
        "PANEL_DOMAIN": "panel.example.org",
        "ACME_EMAIL": "ops@example.org",
        "ACME_SERVER": "https://localhost:14000/dir",
    }
    base = home / ".local/share/experts-panel/certbot"
    dirs = f"--config-dir {base}/config --work-dir {base}/work --logs-dir {base}/logs"

    first = run_script("experts-panel-certbot", env=env, path=str(fake))
    assert first.returncode == 0, first.stderr
    assert calls.read_text().splitlines() == [
        f"certonly {dirs} --non-interactive --cert-name experts-panel --webroot --webroot-path "
        f"{acme} --domains panel.example.org --agree-tos --email ops@example.org --server "
        f"https://localhost:14000/dir --deploy-hook {BIN / 'experts-panel-certbot-deploy'} "
        "--keep-until-expiring"
    ]

    # Issued: later runs renew, and the certs volume gets the certificate if it lacks it.
    live = _lineage(base / "config", ["panel.example.org"])
    calls.unlink()
    later = run_script("experts-panel-certbot", "--force-renewal", env=env, path=str(fake))
    assert later.returncode == 0, later.stderr
    assert calls.read_text().splitlines() == [
        f"renew {dirs} --non-interactive --cert-name experts-panel --no-random-sleep-on-renew "
        "--force-renewal"
    ]
    assert (certs / "fullchain.pem").read_bytes() == (live / "fullchain.pem").read_bytes()
    assert (certs / "privkey.pem").stat().st_mode & 0o777 == 0o600
    assert "experts-panel-web is not running" in later.stdout

    # Another domain in the settings: issue again for it.
    calls.unlink()
    moved = run_script(
        "experts-panel-certbot", env={**env, "PANEL_DOMAIN": "new.example.org"}, path=str(fake)
    )
    assert moved.returncode == 0, moved.stderr
    assert calls.read_text().startswith("certonly ")
    assert "--domains new.example.org" in calls.read_text()


@pytest.mark.parametrize(
    ("domain", "message"),
    [("", "PANEL_DOMAIN is not set"), ("panel.example.org;rm", "PANEL_DOMAIN must be")],
)
def test_certbot_names_a_bad_domain(tmp_path: Path, domain: str, message: str) -> None:
    run = run_script("experts-panel-certbot", env={"PANEL_DOMAIN": domain})
    assert run.returncode == 1
    assert message in run.stderr
