from __future__ import annotations

from pathlib import Path

import pytest

from experts_panel.settings import Settings, SettingsError, env_example, load_settings
from tests.support.server import cli_env, run_cli


def test_defaults_are_the_documented_ones() -> None:
    settings = load_settings({})
    assert settings.API_HOST == "127.0.0.1"
    assert settings.API_PORT == 8000
    assert settings.DATABASE_URL == "sqlite+aiosqlite:///./data/experts.db"
    assert settings.database_path == Path("data/experts.db")
    assert settings.ENVIRONMENT == "development"
    assert settings.openrouter_configured is False


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("API_PORT", "eighty", "API_PORT: Input should be a valid integer"),
        ("API_PORT", "70000", "API_PORT: Input should be less than or equal to 65535"),
        ("ENVIRONMENT", "staging", "ENVIRONMENT: Input should be 'development' or 'production'"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL: Input should be"),
        ("MAX_POSTS_LIMIT", "0", "MAX_POSTS_LIMIT: Input should be greater than or equal to 1"),
        ("CHUNK_SIZE", "-5", "CHUNK_SIZE: Input should be greater than or equal to 1"),
        ("REQUEST_TIMEOUT", "0", "REQUEST_TIMEOUT: Input should be greater than 0"),
        ("DATABASE_URL", "postgresql://x/y", "DATABASE_URL: expected sqlite+aiosqlite:///PATH"),
        ("OPENROUTER_BASE_URL", "not a url", "OPENROUTER_BASE_URL: Input should be a valid URL"),
        ("PRODUCTION_ORIGIN", "https://x.org/app", "PRODUCTION_ORIGIN: expected an origin"),
    ],
)
def test_a_wrong_value_names_the_variable(name: str, value: str, expected: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({name: value})
    message = str(caught.value)
    assert message.startswith(expected), message
    assert "\n" not in message


def test_each_wrong_variable_gets_its_own_line() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"API_PORT": "x", "CHUNK_SIZE": "y"})
    lines = str(caught.value).splitlines()
    assert [line.split(":")[0] for line in lines] == ["API_PORT", "CHUNK_SIZE"]


def test_log_level_is_case_insensitive() -> None:
    assert load_settings({"LOG_LEVEL": "debug"}).LOG_LEVEL == "DEBUG"


def test_secret_from_file(tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text("sk-or-real-key\n")
    settings = load_settings({"OPENROUTER_API_KEY_FILE": str(secret)})
    assert settings.OPENROUTER_API_KEY is not None
    assert settings.OPENROUTER_API_KEY.get_secret_value() == "sk-or-real-key"
    assert settings.openrouter_configured


def test_a_secret_file_of_only_a_newline_means_no_key(tmp_path: Path) -> None:
    """Podman refuses an empty secret, so "no key" is stored as a newline: embedded model."""
    secret = tmp_path / "key"
    secret.write_text("\n")
    settings = load_settings({"OPENROUTER_API_KEY_FILE": str(secret), "ENVIRONMENT": "production"})
    assert not settings.openrouter_configured


def test_secret_file_missing_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"^OPENROUTER_API_KEY_FILE: cannot read .*/nope"):
        load_settings({"OPENROUTER_API_KEY_FILE": str(tmp_path / "nope")})


def test_secret_and_file_together_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text("a")
    with pytest.raises(SettingsError, match="set either OPENROUTER_API_KEY or"):
        load_settings({"OPENROUTER_API_KEY": "b", "OPENROUTER_API_KEY_FILE": str(secret)})


def test_a_secret_value_is_never_echoed() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"OPENROUTER_API_KEY": "changeme", "ENVIRONMENT": "production"})
    assert "placeholder" in str(caught.value)
    assert "changeme" not in str(caught.value)


def test_origin_is_normalised() -> None:
    settings = load_settings({"PRODUCTION_ORIGIN": "https://panel.example.org/"})
    assert settings.PRODUCTION_ORIGIN == "https://panel.example.org"


def test_env_example_documents_every_setting() -> None:
    text = env_example()
    for name in Settings.model_fields:
        assert f"\n{name}=" in text, name
    committed = Path(__file__).parents[2] / ".env.example"
    assert committed.read_text(encoding="utf-8") == text, "regenerate .env.example"


def test_cli_stops_with_one_line_naming_the_variable(tmp_path: Path) -> None:
    result = run_cli("migrate", env=cli_env(tmp_path / "x.db", API_PORT="abc"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: API_PORT: Input should be a valid integer, unable to parse string as an "
        "integer, got 'abc'"
    ]
    assert not (tmp_path / "x.db").exists()
