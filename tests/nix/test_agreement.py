"""The Nix images, images/spec.json, the host test's images and the Quadlet units agree.

Each of the four is read the way its own tool reads it: the Nix image configuration is
evaluated by Nix itself (nix/spec.nix, which nix/images.nix passes to streamLayeredImage), the
host test's image configuration comes from images/build's own function, and the units are
parsed as INI files with repeated keys. Names, tags, ports, volumes, user, entry points,
environment and health commands must be the same everywhere; the last tests alter a copy of
spec.json and of a unit and show that the comparison then fails.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import shutil
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "images/spec.json"
QUADLET = REPO / "quadlet"
TRIXIE_NIX = REPO / "tests/nix/trixie-nix"

Units = dict[str, dict[str, dict[str, list[str]]]]


def nix_images(spec_dir: Path | None = None) -> dict[str, Any]:
    """nix/spec.nix's image configurations, evaluated by Nix (from spec_dir/spec.json if given)."""
    args = "{ specFile = /extra/spec.json; }" if spec_dir else "{ }"
    cmd = [str(TRIXIE_NIX)]
    if spec_dir:
        cmd += ["--extra", str(spec_dir)]
    expr = f"(import /src/nix/spec.nix {args}).images"
    cmd += ["nix-instantiate", "--eval", "--strict", "--json", "-E", expr]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def images_build() -> ModuleType:
    """images/build as a module, to call the function that writes the image configuration."""
    path = REPO / "images/build"
    loader = importlib.machinery.SourceFileLoader("images_build", str(path))
    spec = importlib.util.spec_from_loader("images_build", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    assert hasattr(module, "image_config"), "images/build no longer has image_config()"
    return module


def host_images(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    build = images_build()
    return {
        key: build.image_config(spec, image, "sha256:" + "0" * 64)["config"]
        for key, image in spec["images"].items()
    }


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A systemd/Quadlet unit: section -> key -> every value given (keys repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"{path.name}: a key before any section: {line}"
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def quadlet_units(directory: Path = QUADLET) -> Units:
    suffixes = (".pod", ".container", ".volume", ".timer")
    return {p.name: parse_unit(p) for p in sorted(directory.iterdir()) if p.suffix in suffixes}


def one(units: Units, unit: str, section: str, key: str) -> str | None:
    values = units.get(unit, {}).get(section, {}).get(key, [])
    return values[-1] if values else None


def disagreements(
    spec: dict[str, Any], nix: dict[str, Any], host: dict[str, Any], units: Units
) -> list[str]:
    """Every way the Nix images, the host test's images and the units differ from spec.json."""
    found: list[str] = []

    def check(what: str, actual: object, expected: object) -> None:
        if actual != expected:
            found.append(f"{what}: {actual!r}, spec.json says {expected!r}")

    user = spec["user"]
    owner = f"{user['uid']}:{user['gid']}"
    pod = spec["pod"]
    check("pod unit present", pod["unit"] in units, True)
    check("pod PodName", one(units, pod["unit"], "Pod", "PodName"), pod["name"])
    check("pod ServiceName", one(units, pod["unit"], "Pod", "ServiceName"), pod["service"])
    published = set(units.get(pod["unit"], {}).get("Pod", {}).get("PublishPort", []))
    check("pod PublishPort", published, {f"{p['host']}:{p['container']}" for p in pod["publish"]})
    check(
        "pod UserNS",
        one(units, pod["unit"], "Pod", "UserNS"),
        f"keep-id:uid={user['uid']},gid={user['gid']}",
    )
    volume_names = {
        unit: one(units, unit, "Volume", "VolumeName") for unit in units if unit.endswith(".volume")
    }
    check("volume units", set(volume_names.values()), set(spec["volumes"].values()))

    exposed: set[int] = set()
    for key, image in spec["images"].items():
        exposed |= set(image["ports"])
        reference = f"{image['name']}:{image['tag']}"
        health = image["health"]
        ports: dict[str, dict[str, Any]] = {f"{port}/tcp": {} for port in image["ports"]}
        paths: dict[str, dict[str, Any]] = {path: {} for path in image["volumes"].values()}
        env = sorted(f"{name}={value}" for name, value in image["env"].items())
        test = ["CMD", *health["cmd"]]
        for source, config in (("nix", nix[key]["config"]), ("images/build", host[key])):
            where = f"{source} {key} image"
            check(f"{where} User", config["User"], owner)
            check(f"{where} Entrypoint", config["Entrypoint"], image["entrypoint"])
            check(f"{where} ExposedPorts", config["ExposedPorts"], ports)
            check(f"{where} Volumes", config["Volumes"], paths)
            check(f"{where} Env", sorted(config["Env"]), env)
            check(f"{where} StopSignal", config["StopSignal"], image["stop_signal"])
            check(f"{where} health command", config["Healthcheck"]["Test"], test)
            check(f"{where} health retries", config["Healthcheck"]["Retries"], health["retries"])
        check(f"nix {key} name", f"{nix[key]['name']}:{nix[key]['tag']}", reference)
        for field in ("Interval", "Timeout", "StartPeriod"):
            check(
                f"nix {key} health {field}",
                nix[key]["config"]["Healthcheck"][field],
                host[key]["Healthcheck"][field],
            )

        unit = image["unit"]
        if unit not in units:
            found.append(f"{unit}: missing from quadlet/")
            continue
        where = f"{unit} [Container]"

        def get(name: str, unit: str = unit) -> str | None:
            return one(units, unit, "Container", name)

        check(f"{where} Image", get("Image"), reference)
        check(f"{where} ContainerName", get("ContainerName"), image["container"])
        check(f"{where} Pod", get("Pod"), pod["unit"])
        health_cmd = get("HealthCmd")
        check(f"{where} HealthCmd", json.loads(health_cmd) if health_cmd else None, health["cmd"])
        check(f"{where} HealthInterval", get("HealthInterval"), health["interval"])
        check(f"{where} HealthTimeout", get("HealthTimeout"), health["timeout"])
        check(f"{where} HealthRetries", get("HealthRetries"), str(health["retries"]))
        check(f"{where} HealthStartPeriod", get("HealthStartPeriod"), health["start_period"])
        startup_cmd = get("HealthStartupCmd")
        check(
            f"{where} HealthStartupCmd",
            json.loads(startup_cmd) if startup_cmd else None,
            health["cmd"],
        )
        check(
            f"{where} HealthStartupInterval",
            get("HealthStartupInterval"),
            health["startup_interval"],
        )
        check(f"{where} StopSignal", get("StopSignal"), image["stop_signal"])
        mounts = set()
        for volume in units[unit]["Container"].get("Volume", []):
            source, path = volume.split(":")[:2]
            mounts.add((volume_names.get(source, source), path))
        wanted = {(spec["volumes"][name], path) for name, path in image["volumes"].items()}
        check(f"{where} Volume", mounts, wanted)
        if key == "api":
            secret = get("Secret") or ""
            check(f"{where} Secret name", secret.split(",")[0], spec["secret"]["name"])
            check(
                f"{where} Secret target",
                f"target={spec['secret']['target']}" in secret.split(","),
                True,
            )
    for publish in pod["publish"]:
        check(f"pod publishes {publish['container']}", publish["container"] in exposed, True)
    found += sync_disagreements(spec, units, volume_names)
    return found


def sync_disagreements(
    spec: dict[str, Any], units: Units, volume_names: dict[str, Any]
) -> list[str]:
    """The sync container: the api image with another command, outside the pod, mapped to the
    images' user, on the data volume alone, with the Telegram secret where the spec says."""
    sync = spec["sync"]
    unit = sync["unit"]
    if unit not in units:
        return [f"{unit}: missing from quadlet/"]
    if sync["timer"] not in units:
        return [f"{sync['timer']}: missing from quadlet/"]
    found: list[str] = []
    where = f"{unit} [Container]"

    def check(what: str, actual: object, expected: object) -> None:
        if actual != expected:
            found.append(f"{where} {what}: {actual!r}, spec.json says {expected!r}")

    def get(name: str) -> str | None:
        return one(units, unit, "Container", name)

    image = spec["images"][sync["image"]]
    user = spec["user"]
    check("Image", get("Image"), f"{image['name']}:{image['tag']}")
    check("ContainerName", get("ContainerName"), sync["container"])
    check("Pod", get("Pod"), None)
    check("UserNS", get("UserNS"), f"keep-id:uid={user['uid']},gid={user['gid']}")
    entrypoint = get("Entrypoint") or ""
    command = [entrypoint, *(get("Exec") or "").split()]
    check("Entrypoint and Exec", command, sync["command"])
    check("entry point's program", entrypoint, image["entrypoint"][0])
    mounts = set()
    for volume in units[unit]["Container"].get("Volume", []):
        source, path = volume.split(":")[:2]
        mounts.add((volume_names.get(source, source), path))
    check("Volume", mounts, {(spec["volumes"][k], path) for k, path in sync["volumes"].items()})
    check(
        "data volume's path",
        sync["volumes"]["data"],
        image["volumes"]["data"],
    )
    secret = (get("Secret") or "").split(",")
    check("Secret name", secret[0], sync["secret"]["name"])
    check("Secret target", f"target={sync['secret']['target']}" in secret, True)
    env = units[unit]["Container"].get("Environment", [])
    check(
        "Environment",
        f"{sync['secret']['env']}={sync['secret']['target']}" in env,
        True,
    )
    check("PodmanArgs", get("PodmanArgs"), f"--memory={sync['memory']}")
    timer_unit = units[sync["timer"]].get("Timer", {}).get("Unit", [])
    check("timer's Unit", timer_unit, [])  # the same name: the generated .service
    return found


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SPEC.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def nix(spec: dict[str, Any]) -> dict[str, Any]:
    return nix_images()


def test_nix_images_host_images_and_units_agree_with_spec(spec: dict[str, Any], nix: Any) -> None:
    assert disagreements(spec, nix, host_images(spec), quadlet_units()) == []


def test_nix_images_built_from_another_spec_are_caught(
    tmp_path: Path, spec: dict[str, Any]
) -> None:
    altered = json.loads(json.dumps(spec))
    altered["images"]["web"]["ports"] = [8080, 9443]
    altered["images"]["api"]["health"]["cmd"] = ["/bin/experts-panel", "serve"]
    (tmp_path / "spec.json").write_text(json.dumps(altered), encoding="utf-8")
    found = disagreements(spec, nix_images(tmp_path), host_images(spec), quadlet_units())
    assert any(f.startswith("nix web image ExposedPorts") for f in found), found
    assert any(f.startswith("nix api image health command") for f in found), found
    assert not any(f.startswith("images/build") or ".container" in f for f in found), found


def test_a_unit_that_drifts_is_caught(tmp_path: Path, spec: dict[str, Any], nix: Any) -> None:
    units = tmp_path / "quadlet"
    shutil.copytree(QUADLET, units)
    web = units / spec["images"]["web"]["unit"]
    text = web.read_text(encoding="utf-8")
    assert "HealthCmd=" in text and "experts-panel-acme.volume:" in text
    text = text.replace("/nginx-health", "/elsewhere").replace(
        "experts-panel-acme.volume:/var/www/acme", "experts-panel-acme.volume:/srv/acme"
    )
    web.write_text(text, encoding="utf-8")
    found = disagreements(spec, nix, host_images(spec), quadlet_units(units))
    assert any("[Container] HealthCmd" in f for f in found), found
    assert any("[Container] Volume" in f for f in found), found


def test_a_sync_unit_that_drifts_is_caught(tmp_path: Path, spec: dict[str, Any], nix: Any) -> None:
    units = tmp_path / "quadlet"
    shutil.copytree(QUADLET, units)
    sync = units / spec["sync"]["unit"]
    text = sync.read_text(encoding="utf-8")
    assert "Exec=sync\n" in text and "telegram_api_hash" in text
    text = text.replace("Exec=sync\n", "Exec=serve\n").replace(
        "target=/run/secrets/telegram_api_hash", "target=/run/secrets/hash"
    )
    sync.write_text(text + "[Container]\nPod=experts-panel.pod\n", encoding="utf-8")
    found = disagreements(spec, nix, host_images(spec), quadlet_units(units))
    assert any("Entrypoint and Exec" in f for f in found), found
    assert any("Secret target" in f for f in found), found
    assert any("[Container] Pod" in f for f in found), found

    (units / spec["sync"]["timer"]).unlink()
    found = disagreements(spec, nix, host_images(spec), quadlet_units(units))
    assert f"{spec['sync']['timer']}: missing from quadlet/" in found, found


def test_a_spec_duration_nix_cannot_read_is_an_error_naming_it(
    tmp_path: Path, spec: dict[str, Any]
) -> None:
    altered = json.loads(json.dumps(spec))
    altered["images"]["api"]["health"]["interval"] = "half a minute"
    (tmp_path / "spec.json").write_text(json.dumps(altered), encoding="utf-8")
    with pytest.raises(AssertionError, match=r"images\.api\.health\.interval"):
        nix_images(tmp_path)
