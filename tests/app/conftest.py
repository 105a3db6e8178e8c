from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from experts_panel.db.database import Database
from experts_panel.settings import Settings, load_settings
from tests.support import demo_db
from tests.support.fake_openai import fake_openai_fixture  # noqa: F401  (the `fake_openai` fixture)
from tests.support.server import Server, ServerFactory, start_server


@pytest.fixture(scope="session")
def demo_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo experts imported and indexed once; tests take copies (`demo_path`)."""
    return demo_db.build(tmp_path_factory.mktemp("demo-source"))


@pytest.fixture
def demo_path(demo_source: Path, tmp_path: Path) -> Path:
    return demo_db.copy(demo_source, tmp_path / "demo")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "experts.db"


@pytest.fixture
def settings(db_path: Path) -> Settings:
    return load_settings({"DATABASE_URL": f"sqlite+aiosqlite:///{db_path}"})


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    opened, _ = await Database.open(settings)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def server_factory() -> Iterator[ServerFactory]:
    started: list[Server] = []

    def factory(db_path: Path, *, log: Path | None = None, **extra_env: str) -> Server:
        server = start_server(db_path, log=log, **extra_env)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()
