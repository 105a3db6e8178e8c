"""The Telegram commands' edges that need no Telegram: settings, the session file, the lock."""

from __future__ import annotations

import stat
from pathlib import Path

from experts_panel.settings import load_settings
from experts_panel.telegram_sync.one_at_a_time import only_sync
from tests.support.db import rows
from tests.support.server import cli_env, run_cli

API = {"TELEGRAM_API_ID": "12345", "TELEGRAM_API_HASH": "0123456789abcdef0123456789abcdef"}


def test_sync_without_the_api_settings_names_them(db_path: Path) -> None:
    done = run_cli("sync", env=cli_env(db_path))
    assert done.returncode == 2
    assert "TELEGRAM_API_ID and TELEGRAM_API_HASH" in done.stderr


def test_sync_without_a_login_says_so_and_the_session_file_is_private(db_path: Path) -> None:
    done = run_cli("sync", env=cli_env(db_path, **API))
    assert done.returncode == 1
    assert len([line for line in done.stderr.splitlines() if line.startswith("error:")]) == 1
    assert "no Telegram account is signed in" in done.stderr
    assert "experts-panel telegram login" in done.stderr
    session = db_path.parent / "telegram.session"
    assert stat.S_IMODE(session.stat().st_mode) == 0o600
    assert API["TELEGRAM_API_HASH"] not in done.stdout + done.stderr


def test_experts_add_without_a_login_adds_nothing(db_path: Path) -> None:
    done = run_cli("experts", "add", "new", "--username", "channel", env=cli_env(db_path, **API))
    assert done.returncode == 1
    assert "no Telegram account is signed in" in done.stderr
    assert "nothing was added" in done.stderr
    assert rows(db_path, "SELECT count(*) FROM experts") == [(0,)]


def test_a_second_sync_waits_for_no_one(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with only_sync(db_path):
        done = run_cli("sync", env=cli_env(db_path, **API))
    assert done.returncode == 1
    assert "another `experts-panel sync` is running" in done.stderr


def test_login_needs_a_terminal(db_path: Path) -> None:
    done = run_cli("telegram", "login", env=cli_env(db_path, **API))
    assert done.returncode == 1
    assert "run it in a terminal" in done.stderr


def test_the_api_hash_is_a_secret_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "hash"
    secret.write_text(API["TELEGRAM_API_HASH"] + "\n")
    settings = load_settings({"TELEGRAM_API_ID": "1", "TELEGRAM_API_HASH_FILE": str(secret)})
    assert settings.TELEGRAM_API_HASH is not None
    assert settings.TELEGRAM_API_HASH.get_secret_value() == API["TELEGRAM_API_HASH"]
    # What the logs' redactor is given (cli.settings_or_exit).
    assert API["TELEGRAM_API_HASH"] in settings.secret_values()
    assert settings.telegram_session_file == Path("data/telegram.session")


def test_settings_check_hides_the_api_hash(db_path: Path) -> None:
    done = run_cli("settings", "check", env=cli_env(db_path, **API))
    assert done.returncode == 0
    assert "TELEGRAM_API_HASH=(set)" in done.stdout
    assert API["TELEGRAM_API_HASH"] not in done.stdout
