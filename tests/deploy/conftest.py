from __future__ import annotations

from pathlib import Path

import pytest

from .support import trixie_rootfs


@pytest.fixture(scope="session")
def rootfs() -> Path:
    """The Debian 13 root file system with Podman 5.4 (Quadlet), systemd 257 and nginx; read
    only: run commands in it through support.in_rootfs."""
    return trixie_rootfs()
