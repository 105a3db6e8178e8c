"""Lay out the two images' file trees; run by `images/build` inside a Debian 13 root.

It runs with that root's own Python 3.13, so the service's virtual environment is built for
the interpreter the image carries, and `ldd` resolves libraries against the same Debian
release the binaries come from. Each tree gets only what its entry point and health command
need: the binaries, every shared library they load (copied, not linked), a passwd/group with
the service user, and the volumes' mount points owned by that user, so that a new named
volume, which Podman fills from the image's directory, is writable by it.

usage (inside the root): python3.13 assemble.py SPEC REPO STAGE
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

PYTHON = "/usr/bin/python3.13"
VENV = Path("/opt/experts-panel")
# Debian merges /bin, /lib, /lib64 and /sbin into /usr; the images keep the same links, so
# the interpreter path compiled into every binary (/lib64/ld-linux-x86-64.so.2) resolves.
MERGED_USR = {"bin": "usr/bin", "lib": "usr/lib", "lib64": "usr/lib64", "sbin": "usr/sbin"}
# Loaded with dlopen, so ldd cannot see them: glibc needs libgcc_s to unwind a thread.
DLOPENED = ["/usr/lib/x86_64-linux-gnu/libgcc_s.so.1"]
# Parts of the standard library a server never imports, and test extension modules.
STDLIB_SKIP = re.compile(
    r"^(test|idlelib|tkinter|turtledemo|ensurepip|venv|pydoc_data|_pyrepl|config-3\.13-.*"
    r"|EXTERNALLY-MANAGED|(_test|_xxtest|xxlimited|xxsubtype|_ctypes_test).*\.so)$"
)


def run(*cmd: str) -> str:
    done = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"assemble: {' '.join(cmd)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def base_tree(tree: Path, user: dict[str, Any]) -> None:
    """Directories, merged-/usr links and the accounts every image has."""
    for d in ("usr/bin", "usr/lib", "usr/lib64", "usr/sbin", "etc", "run", "var/tmp"):
        (tree / d).mkdir(parents=True, exist_ok=True)
    for link, target in MERGED_USR.items():
        (tree / link).symlink_to(target)
    tmp = tree / "tmp"
    tmp.mkdir()
    tmp.chmod(0o1777)
    (tree / "var/tmp").chmod(0o1777)
    name, uid, gid, home = user["name"], user["uid"], user["gid"], user["home"]
    (tree / "etc/passwd").write_text(
        "root:x:0:0:root:/root:/usr/sbin/nologin\n"
        f"{name}:x:{uid}:{gid}:Experts Panel:{home}:/usr/sbin/nologin\n"
    )
    (tree / "etc/group").write_text(f"root:x:0:\n{name}:x:{gid}:\n")
    (tree / "etc/nsswitch.conf").write_text("passwd: files\ngroup: files\nhosts: files dns\n")


def owned_dirs(tree: Path, paths: list[str], user: dict[str, Any]) -> None:
    """Directories the service user must be able to write (volumes, tmpfs mount points)."""
    for p in paths:
        d = tree / p.lstrip("/")
        d.mkdir(parents=True, exist_ok=True)
        os.chown(d, user["uid"], user["gid"])
        d.chmod(0o755)


def copy_file(src: str, tree: Path, dest: str | None = None) -> None:
    """Copy SRC's content (following links, as `cp -L`) to DEST (default: the same path)."""
    target = tree / (dest or src).lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, target)


def is_elf(path: Path) -> bool:
    if path.is_symlink() or not path.is_file():
        return False
    with path.open("rb") as f:
        return f.read(4) == b"\x7fELF"


def add_libraries(tree: Path) -> int:
    """Copy into TREE every shared library its ELF files load that it does not hold yet."""
    elves = sorted(str(p) for p in tree.rglob("*") if is_elf(p))
    needed: set[str] = set(DLOPENED)
    missing: list[str] = []
    for elf in elves:
        for line in run("ldd", elf).splitlines():
            line = line.strip()
            if "not found" in line:
                missing.append(f"{elf}: {line}")
            elif "=>" in line:
                path = line.split("=>")[1].split("(")[0].strip()
                if path:
                    needed.add(path)
            elif line.startswith("/"):
                needed.add(line.split()[0])
    if missing:
        sys.exit("assemble: libraries not found:\n" + "\n".join(missing))
    added = 0
    for lib in sorted(needed):
        # Libraries a wheel bundles are found through its own RPATH inside the tree.
        if lib.startswith(str(tree)) or (tree / lib.lstrip("/")).exists():
            continue
        copy_file(lib, tree)
        added += 1
    return added


def build_venv(repo: Path) -> None:
    """The service and its locked dependencies, as wheels only (the root has no compiler)."""
    run(PYTHON, "-m", "venv", str(VENV))
    pip = [str(VENV / "bin/python"), "-m", "pip", "--quiet", "--disable-pip-version-check"]
    lock = repo / "app/requirements.lock"
    # pyaes (telethon's) is pure Python and published only as an sdist: built here, no compiler
    # needed.
    only_wheels = ["--only-binary=:all:", "--no-binary=pyaes"]
    run(*pip, "install", "--no-compile", *only_wheels, "--require-hashes", "-r", str(lock))
    wheels = Path("/tmp/experts-panel-wheel")
    run(*pip, "wheel", "--no-deps", "--wheel-dir", str(wheels), str(repo / "app"))
    (wheel,) = wheels.glob("experts_panel-*.whl")
    run(*pip, "install", "--no-compile", "--no-deps", "--no-index", str(wheel))
    # The installer and the activation scripts have no use at run time, and nothing in the
    # image should fetch code.
    run(*pip, "uninstall", "--yes", "pip")
    for script in [*(VENV / "bin").glob("activate*"), VENV / "bin/Activate.ps1"]:
        script.unlink()
    # The root is read-only at run time, so compile now; hash-based files stay valid whatever
    # the files' dates are, and unchecked ones skip the source comparison at every start.
    site = VENV / "lib/python3.13/site-packages"
    run(PYTHON, "-m", "compileall", "-q", "-j0", "--invalidation-mode", "unchecked-hash", str(site))


def api_tree(tree: Path, spec: dict[str, Any]) -> None:
    image = spec["images"]["api"]
    user = spec["user"]
    base_tree(tree, user)
    copy_file(PYTHON, tree)
    (tree / "usr/bin/python3").symlink_to("python3.13")
    shutil.copytree(
        "/usr/lib/python3.13",
        tree / "usr/lib/python3.13",
        symlinks=True,
        ignore=lambda _d, names: [n for n in names if STDLIB_SKIP.match(n)],
    )
    shutil.copytree(VENV, tree / str(VENV).lstrip("/"), symlinks=True)
    entry = Path(image["entrypoint"][0])
    (tree / str(entry).lstrip("/")).symlink_to(VENV / "bin" / entry.name)
    copy_file("/usr/bin/sqlite3", tree)
    owned_dirs(tree, [user["home"], *image["volumes"].values()], user)


def web_tree(tree: Path, spec: dict[str, Any], repo: Path) -> None:
    image = spec["images"]["web"]
    user = spec["user"]
    base_tree(tree, user)
    copy_file("/usr/sbin/nginx", tree, image["entrypoint"][0])
    copy_file("/usr/bin/curl", tree, image["health"]["cmd"][0])
    copy_file("/etc/nginx/mime.types", tree)
    shutil.copytree(repo / "nginx", tree / "etc/nginx", dirs_exist_ok=True)
    shutil.copytree(repo / "frontend/dist", tree / "srv/experts-panel")
    # Debian's nginx creates its compiled-in temporary directories at start unless the
    # configuration moves them (nginx/nginx.conf puts them in /tmp); they exist here so that a
    # configuration that keeps them still starts on the read-only root.
    temp = [f"/var/lib/nginx/{d}" for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi")]
    owned_dirs(tree, [*image["volumes"].values(), "/var/log/nginx", *temp], user)


def main() -> None:
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    spec_path, repo, stage = (Path(a) for a in sys.argv[1:])
    spec = json.loads(spec_path.read_text())
    build_venv(repo)
    api_tree(stage / "api", spec)
    web_tree(stage / "web", spec, repo)
    for name in ("api", "web"):
        print(f"{name}: {add_libraries(stage / name)} libraries added", flush=True)


if __name__ == "__main__":
    main()
