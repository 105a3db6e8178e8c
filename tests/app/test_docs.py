"""The docs must keep up with the code: every setting, command and table is documented."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import typer

from experts_panel.cli import app, experts_app, settings_app, telegram_app
from experts_panel.db.migrations import migrate
from experts_panel.settings import Settings

ROOT = Path(__file__).parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme_table() -> None:
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", README, re.MULTILINE))
    assert documented == set(Settings.model_fields)


def _names(typer_app: typer.Typer) -> list[str]:
    # A command registered without a name takes its function's, as typer does.
    return [
        c.name or getattr(c.callback, "__name__", "").replace("_", "-")
        for c in typer_app.registered_commands
    ]


def test_every_command_is_in_the_readme() -> None:
    commands = _names(app)
    commands += [f"experts {name}" for name in _names(experts_app)]
    commands += [f"settings {name}" for name in _names(settings_app)]
    commands += [f"telegram {name}" for name in _names(telegram_app)]
    assert len(commands) == 17
    for command in commands:
        assert f"`experts-panel {command}" in README, command


def test_every_table_is_in_the_data_model_doc(tmp_path: Path) -> None:
    migrate(tmp_path / "e.db", tmp_path / "b")
    conn = sqlite3.connect(tmp_path / "e.db")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    # SQLite's own shadow tables behind each FTS5 table are not ours to document.
    fts = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE sql LIKE '%fts5%'")}
    shadows = ("_data", "_idx", "_content", "_docsize", "_config")
    tables -= {f"{name}{suffix}" for name in fts for suffix in shadows}
    doc = (ROOT / "docs" / "data-model.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", doc, re.MULTILINE))
    assert documented == tables


def test_every_phase_and_event_type_is_in_the_pipeline_doc() -> None:
    from experts_panel.pipeline.contract import EVENT_TYPES
    from experts_panel.pipeline.runner import PHASES

    doc = (ROOT / "docs" / "pipeline.md").read_text(encoding="utf-8")
    phases = re.findall(r"^\| \d \| `([a-z_]+)` \|", doc, re.MULTILINE)
    assert phases == [name for name, _ in PHASES] + ["assembly"]
    events = re.findall(r"^\| `([a-z_]+)` \| ", doc, re.MULTILINE)
    assert set(EVENT_TYPES) <= set(events)
