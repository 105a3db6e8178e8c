"""The service's settings: one pydantic class is the single table of every variable.

`.env.example` and the docs are generated from (and tested against) `Settings.model_fields`,
so a variable cannot exist in code without being documented.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

# Secrets may come from a file named by `<NAME>_FILE` (Podman and systemd credentials).
SECRET_FIELDS: tuple[str, ...] = ("OPENROUTER_API_KEY", "TELEGRAM_API_HASH")

_PLACEHOLDER_SECRETS = {"changeme", "change-me", "your-key-here", "sk-...", "xxx", "todo"}


class SettingsError(Exception):
    """A setting is wrong; `str()` is one line per variable, each naming it."""


class Settings(BaseModel):
    """Every setting, named as its environment variable.

    Built by `load_settings` from a mapping rather than read from `os.environ` implicitly, so
    tests and the CLI pass exactly the environment they mean.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    DATABASE_URL: str = Field(
        default="sqlite+aiosqlite:///./data/experts.db",
        description="SQLite database, as `sqlite+aiosqlite:///PATH` (relative to the working "
        "directory) or `sqlite+aiosqlite:////ABSOLUTE/PATH`.",
    )
    BACKUP_DIR: Path | None = Field(
        default=None,
        description="Where the service puts the backup it takes before a schema migration. "
        "Default: a `backups` folder beside the database file.",
    )
    WRITE_WAIT_SECONDS: Annotated[float, Field(gt=0, le=86_400)] = Field(
        default=600.0,
        description="Seconds a command (`import`, `index`, `analyze-drift`, `experts`) waits "
        "for another process's write (an import holds the file for its whole run) before it "
        "gives up with an error.",
    )
    OPENROUTER_API_KEY: SecretStr | None = Field(
        default=None,
        description="Key for OpenRouter or another OpenAI-compatible endpoint. Unset: the "
        "embedded model answers. May come from `OPENROUTER_API_KEY_FILE` instead.",
    )
    OPENROUTER_BASE_URL: AnyHttpUrl = Field(
        default=AnyHttpUrl("https://openrouter.ai/api/v1"),
        description="Base URL of the OpenAI-compatible API (OpenRouter, llama.cpp, vLLM, ...).",
    )
    PRODUCTION_ORIGIN: str | None = Field(
        default=None,
        description="The public origin of the web front end (`https://panel.example.org`), "
        "allowed by CORS; outside production the Vite development server is allowed too.",
    )
    API_HOST: str = Field(default="127.0.0.1", description="Address the HTTP server binds to.")
    API_PORT: Annotated[int, Field(ge=1, le=65535)] = Field(
        default=8000, description="Port the HTTP server binds to (1-65535)."
    )
    ENVIRONMENT: Literal["development", "production"] = Field(
        default="development",
        description="`production` logs JSON, hides the OpenAPI docs and refuses placeholder "
        "secrets.",
    )
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO", description="Least severe log level written."
    )
    MAX_POSTS_LIMIT: Annotated[int, Field(ge=1, le=10_000)] = Field(
        default=500, description="Upper bound for a query's `max_posts` (1-10000)."
    )
    CHUNK_SIZE: Annotated[int, Field(ge=1, le=1_000)] = Field(
        default=100, description="Posts per model call in the map phase (1-1000)."
    )
    REQUEST_TIMEOUT: Annotated[float, Field(gt=0, le=3_600)] = Field(
        default=300.0, description="Seconds a whole query may take before it is cancelled."
    )
    MAP_CANDIDATES: Annotated[int, Field(ge=1, le=2_000)] = Field(
        default=60,
        description="Posts per expert that retrieval hands to the map phase (1-2000): the "
        "model sees these, not every post.",
    )
    MAX_CONCURRENT_QUERIES: Annotated[int, Field(ge=1, le=256)] = Field(
        default=4,
        description="Queries worked on at the same time (1-256); others wait their turn, "
        "with their event stream already open.",
    )
    MAX_CONCURRENT_EXPERTS: Annotated[int, Field(ge=1, le=64)] = Field(
        default=3, description="Experts a query works on at the same time (1-64)."
    )
    MAX_CONCURRENT_MODEL_CALLS: Annotated[int, Field(ge=1, le=256)] = Field(
        default=8, description="Model API calls in flight at once, across all queries (1-256)."
    )
    MODEL_MAP: str = Field(
        default="google/gemini-2.5-flash-lite", description="Model for the map phase."
    )
    MODEL_MEDIUM_SCORING: str = Field(
        default="google/gemini-2.5-flash-lite", description="Model for medium scoring."
    )
    MODEL_REDUCE: str = Field(
        default="google/gemini-2.5-flash", description="Model that writes the answer."
    )
    MODEL_TRANSLATION: str = Field(
        default="google/gemini-2.5-flash-lite", description="Model for language validation."
    )
    MODEL_COMMENT_GROUPS: str = Field(
        default="google/gemini-2.5-flash-lite",
        description="Model that matches drifted discussions to the question and finds drift "
        "(`experts-panel analyze-drift`).",
    )
    MODEL_COMMENT_SYNTHESIS: str = Field(
        default="google/gemini-2.5-flash", description="Model for comment synthesis."
    )
    MODEL_MODERATOR: str | None = Field(
        default=None,
        description="Model that compares the experts' answers (the query's `moderator`); "
        "unset: the value of MODEL_REDUCE.",
    )
    MODEL_TIMEOUT: Annotated[float, Field(gt=0, le=600)] = Field(
        default=60.0, description="Seconds one model call may take before it is retried."
    )
    MODEL_MAX_ATTEMPTS: Annotated[int, Field(ge=1, le=10)] = Field(
        default=4, description="Attempts per model call (429, 5xx and time-outs are retried)."
    )
    TRANSLATION_TIMEOUT: Annotated[float, Field(gt=0, le=600)] = Field(
        default=30.0,
        description="Seconds a reader waits for a post's translation (and its comments', all "
        "together) before getting the originals; retries included.",
    )
    DAILY_TOKEN_BUDGET: Annotated[int, Field(ge=0)] = Field(
        default=2_000_000,
        description="Model API tokens (prompt + completion) per UTC day; past it queries run "
        "on the embedded model. 0: no limit.",
    )
    REQUEST_BODY_TIMEOUT: Annotated[float, Field(gt=0, le=300)] = Field(
        default=30.0,
        description="Seconds a request's body may take to arrive in full; past them the request "
        "is answered 408 and its connection closed, so clients that send slowly cannot hold "
        "connections open.",
    )
    SSE_KEEPALIVE_SECONDS: Annotated[float, Field(gt=0, le=300)] = Field(
        default=10.0,
        description="Seconds between keep-alive comments on a query's event stream, so proxies "
        "do not close it during long phases.",
    )
    METRICS_PORT: Annotated[int, Field(ge=1, le=65535)] | None = Field(
        default=None,
        description="Port of the Prometheus metrics listener (`/metrics`), a listener of its "
        "own beside the API's, never on API_PORT. Unset: no metrics are kept or served.",
    )
    METRICS_HOST: str = Field(
        default="127.0.0.1",
        description="Address the metrics listener binds to; loopback keeps it off the network.",
    )
    BACKUP_STATUS_FILE: Path | None = Field(
        default=None,
        description="The status file `experts-panel-backup` writes after each verified backup "
        "(read for the backup's age, size and verification). Default: `last-backup.json` in "
        "BACKUP_DIR.",
    )
    TLS_CERT_FILE: Path | None = Field(
        default=None,
        description="The certificate the web server presents (PEM), read for its expiry. "
        "Unset: no certificate is checked.",
    )
    TELEGRAM_API_ID: Annotated[int, Field(ge=1)] | None = Field(
        default=None,
        description="The api_id of the Telegram application (my.telegram.org) that "
        "`experts-panel telegram login`, `experts add` and `sync` use. Unset: those commands "
        "say so and do nothing.",
    )
    TELEGRAM_API_HASH: SecretStr | None = Field(
        default=None,
        description="The api_hash of that application. May come from `TELEGRAM_API_HASH_FILE` "
        "instead.",
    )
    TELEGRAM_SESSION_FILE: Path | None = Field(
        default=None,
        description="The Telegram session (`telegram login` writes it, mode 0600; whoever "
        "holds it reads Telegram as the account). Default: `telegram.session` beside the "
        "database file.",
    )
    SYNC_REREAD_DAYS: Annotated[int, Field(ge=0, le=365)] = Field(
        default=7,
        description="Days of recent posts `experts-panel sync` reads again for edits, views, "
        "reactions and new comments (0-365).",
    )
    SYNC_MAX_FLOOD_WAIT: Annotated[int, Field(ge=0, le=86_400)] = Field(
        default=300,
        description="Longest flood wait (seconds) `experts-panel sync` sleeps through when "
        "Telegram asks it to; a longer one ends the run, what was stored kept.",
    )
    STATIC_DIR: Path | None = Field(
        default=None,
        description="Built front end to serve at `/` (for a one-process local run). Unset: "
        "the API alone.",
    )

    @field_validator("LOG_LEVEL", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("DATABASE_URL")
    @classmethod
    def _sqlite_only(cls, value: str) -> str:
        if not value.startswith("sqlite+aiosqlite:///") or value == "sqlite+aiosqlite:///":
            raise ValueError("expected sqlite+aiosqlite:///PATH (only SQLite is supported)")
        if ":memory:" in value:
            raise ValueError("expected a file path; an in-memory database loses everything")
        return value

    @field_validator("PRODUCTION_ORIGIN")
    @classmethod
    def _origin_only(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("expected an origin such as https://panel.example.org")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError("expected an origin (scheme and host only, no path)")
        return f"{parts.scheme}://{parts.netloc}"

    @model_validator(mode="after")
    def _no_placeholder_secret_in_production(self) -> Settings:
        key = self.OPENROUTER_API_KEY
        if (
            self.ENVIRONMENT == "production"
            and key is not None
            and key.get_secret_value().strip().lower() in _PLACEHOLDER_SECRETS
        ):
            raise ValueError("OPENROUTER_API_KEY: a placeholder value is refused in production")
        return self

    @model_validator(mode="after")
    def _metrics_apart_from_the_api(self) -> Settings:
        if self.METRICS_PORT is not None and self.METRICS_PORT == self.API_PORT:
            raise ValueError(
                "METRICS_PORT: must differ from API_PORT (metrics never share the API's port)"
            )
        return self

    @property
    def database_path(self) -> Path:
        return Path(self.DATABASE_URL.removeprefix("sqlite+aiosqlite:///"))

    @property
    def backup_dir(self) -> Path:
        return self.BACKUP_DIR or self.database_path.parent / "backups"

    @property
    def telegram_session_file(self) -> Path:
        return self.TELEGRAM_SESSION_FILE or self.database_path.parent / "telegram.session"

    @property
    def backup_status_file(self) -> Path:
        return self.BACKUP_STATUS_FILE or self.backup_dir / "last-backup.json"

    def secret_values(self) -> list[str]:
        """Every secret set, as plain text: what logs and readers must never see."""
        values = []
        for name in SECRET_FIELDS:
            secret = getattr(self, name)
            if isinstance(secret, SecretStr) and secret.get_secret_value():
                values.append(secret.get_secret_value())
        return values

    @property
    def moderator_model(self) -> str:
        """The model the moderator runs on: MODEL_MODERATOR, else MODEL_REDUCE's value."""
        return self.MODEL_MODERATOR or self.MODEL_REDUCE

    @property
    def openrouter_configured(self) -> bool:
        return self.OPENROUTER_API_KEY is not None and bool(
            self.OPENROUTER_API_KEY.get_secret_value()
        )


def _read_secret_files(environ: Mapping[str, str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name in SECRET_FIELDS:
        file_var = f"{name}_FILE"
        path = environ.get(file_var)
        if not path:
            continue
        if environ.get(name):
            raise SettingsError(f"{file_var}: set either {name} or {file_var}, not both")
        try:
            values[name] = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingsError(f"{file_var}: cannot read {path}: {exc.strerror}") from exc
    return values


def _describe(error: Mapping[str, object], environ: Mapping[str, str]) -> str:
    loc = error.get("loc") or ()
    name = str(loc[0]) if isinstance(loc, tuple) and loc else ""
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    if not name:
        return message
    got = environ.get(name)
    shown = "" if got is None or name in SECRET_FIELDS else f", got {got!r}"
    return f"{name}: {message}{shown}"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from `environ` (default: the process environment).

    Raises `SettingsError` whose message names every wrong variable, one per line.
    """
    env = dict(os.environ if environ is None else environ)
    overrides = _read_secret_files(env)
    source = {name: env[name] for name in Settings.model_fields if name in env}
    source.update(overrides)
    # Empty strings mean "unset" for optional values, as in most env-file conventions.
    source = {k: v for k, v in source.items() if v != ""}
    try:
        return Settings.model_validate(source)
    except ValidationError as exc:
        lines = [_describe(err, env) for err in exc.errors()]
        raise SettingsError("\n".join(lines)) from None


def env_example() -> str:
    """The text of `.env.example`: every variable, its help and its default."""
    out = [
        "# Experts Panel settings. Generated from experts_panel/settings.py",
        "# (`experts-panel settings env-example`); a test keeps the two in step.",
        "",
    ]
    for name, field in Settings.model_fields.items():
        out.append(f"# {field.description}")
        default = field.default
        if isinstance(default, AnyHttpUrl):
            default = str(default)
        shown = "" if default is None else str(default)
        out.append(f"{name}={shown}")
        if name in SECRET_FIELDS:
            out.append(f"# {name}_FILE=/run/secrets/{name.lower()}")
        out.append("")
    return "\n".join(out)
