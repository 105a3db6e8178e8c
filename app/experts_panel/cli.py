"""The `experts-panel` command: serve, migrate, import, manage experts, run the demo."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy.exc import DBAPIError

from experts_panel.db.database import Database, is_locked
from experts_panel.db.engine import BUSY_TIMEOUT_MS
from experts_panel.db.migrations import MigrationError, migrate
from experts_panel.experts import (
    ExpertError,
    check_slug,
    check_username,
    get_expert,
    list_experts,
    remove_expert,
    rename_expert,
)
from experts_panel.importing.comments import CommentImportSummary, import_comments
from experts_panel.importing.posts import PostImportSummary, import_posts
from experts_panel.importing.source import LISTED_DUPLICATES, ImportFailed, open_export
from experts_panel.logs import configure_logging
from experts_panel.redaction import Redactor
from experts_panel.settings import (
    SECRET_FIELDS,
    Settings,
    SettingsError,
    env_example,
    load_settings,
)

app = typer.Typer(
    help="Experts Panel: answers from several Telegram-channel experts side by side.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
experts_app = typer.Typer(help="Add, list, rename and remove experts.", no_args_is_help=True)
settings_app = typer.Typer(help="Show the settings the service reads.", no_args_is_help=True)
telegram_app = typer.Typer(
    help="Sign the Telegram account that `sync` reads with in and out.", no_args_is_help=True
)
app.add_typer(experts_app, name="experts")
app.add_typer(settings_app, name="settings")
app.add_typer(telegram_app, name="telegram")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")


def fail(message: str, code: int = 1) -> NoReturn:
    for line in message.splitlines():
        err.print(f"error: {line}", highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(code)


def settings_or_exit(overrides: dict[str, str] | None = None) -> Settings:
    import os

    environ = dict(os.environ)
    environ.update(overrides or {})
    try:
        settings = load_settings(environ)
    except SettingsError as exc:
        fail(str(exc), code=2)
    configure_logging(
        settings.LOG_LEVEL,
        json_output=settings.ENVIRONMENT == "production",
        redact=Redactor.of(settings.secret_values()),
    )
    return settings


def run_writing(settings: Settings, main: Callable[[Database], Awaitable[T]], outcome: str) -> T:
    """Run a command that writes, on the database opened for it and closed after; another
    writer that outlasts the wait is one line, not a traceback. `outcome` says what became of
    the work (kept, or nothing imported)."""

    async def run_main() -> T:
        async with opened_database(settings) as database:
            return await main(database)

    try:
        return asyncio.run(run_main())
    except DBAPIError as exc:
        if not is_locked(exc):
            raise
        fail(
            f"another process kept the database locked for more than "
            f"{settings.WRITE_WAIT_SECONDS:g} s (WRITE_WAIT_SECONDS); {outcome}"
        )


def run_reading(settings: Settings, main: Callable[[Database], Awaitable[T]]) -> T:
    """Run a command that only reads, on the database opened for it and closed after."""

    async def run_main() -> T:
        async with opened_database(settings) as database:
            return await main(database)

    return asyncio.run(run_main())


@asynccontextmanager
async def opened_database(
    settings: Settings, busy_timeout_ms: int | None = None
) -> AsyncIterator[Database]:
    """The database, migrated and connected, closed when the block ends however it ends; a
    command's writes wait `WRITE_WAIT_SECONDS` for other writers. Every command opens it here."""
    if busy_timeout_ms is None:
        busy_timeout_ms = int(settings.WRITE_WAIT_SECONDS * 1000)
    try:
        database, report = await Database.open(settings, busy_timeout_ms)
    except MigrationError as exc:
        fail(str(exc))
    if report.applied:
        backup = f" (backup: {report.backup})" if report.backup else ""
        err.print(
            f"schema {report.from_version} -> {report.to_version}: applied "
            f"{', '.join(report.applied)}{backup}",
            highlight=False,
        )
    try:
        yield database
    finally:
        await database.close()


@contextmanager
def progress_bar(label: str, total: int) -> Iterator[Callable[[int], None] | None]:
    """A byte-count progress bar on a terminal; nothing when output is not a terminal."""
    if not err.is_terminal:
        yield None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Overrides API_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Overrides API_PORT.")] = None,
) -> None:
    """Serve the HTTP API (and the built front end when STATIC_DIR is set) with hypercorn."""
    overrides = {}
    if host is not None:
        overrides["API_HOST"] = host
    if port is not None:
        overrides["API_PORT"] = str(port)
    settings = settings_or_exit(overrides)
    _serve(settings)


def _serve(settings: Settings) -> None:
    from experts_panel.api.app import create_app
    from experts_panel.in_use import InUseError, serving
    from experts_panel.observability.listener import MetricsEndpoint
    from experts_panel.server import Listener, ServeError, bind_socket
    from experts_panel.server import serve as serve_app

    try:  # fail on a taken port before migrating or opening anything
        bind_socket(settings.API_HOST, settings.API_PORT).close()
        if settings.METRICS_PORT is not None:
            bind_socket(settings.METRICS_HOST, settings.METRICS_PORT).close()
    except ServeError as exc:
        fail(str(exc))

    async def main() -> None:
        # The service's own writes are queued and retried; its readers never wait long.
        async with opened_database(settings, BUSY_TIMEOUT_MS) as database:
            api = create_app(settings, database)
            others = []
            if settings.METRICS_PORT is not None:
                endpoint = MetricsEndpoint(api, api.state.metrics)
                others.append(
                    Listener(endpoint, settings.METRICS_HOST, settings.METRICS_PORT, "metrics")
                )
            await serve_app(api, settings.API_HOST, settings.API_PORT, others)

    # Held from before the migration until the process ends, so `demo` never recreates the
    # file this service has open (see in_use.py).
    try:
        with serving(settings.database_path):
            asyncio.run(main())
    except (ServeError, InUseError) as exc:
        fail(str(exc))


def local_url(host: str, port: int) -> str:
    """Where the service listening on HOST is reached from this machine: a wildcard address
    through loopback."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}/"


@app.command("healthcheck")
def healthcheck_command(
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the answer.")] = 5.0,
) -> None:
    """Exit 0 when the running service's /health answers 200 (the container's health check)."""
    import httpx

    settings = settings_or_exit()
    url = f"{local_url(settings.API_HOST, settings.API_PORT)}health"
    try:
        response = httpx.get(url, timeout=timeout)
    except httpx.HTTPError as exc:
        fail(f"{url}: no answer ({exc.__class__.__name__}: {exc})")
    if response.status_code != 200:
        fail(f"{url}: {response.status_code} {response.text[:200]}")
    typer.echo(f"{url}: {response.status_code} {response.text[:200]}")


@app.command("status")
def status_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for /health.")] = 5.0,
) -> None:
    """Whether all is well: health, provider, today's tokens, experts, backup, certificate.

    Exit 0 when all is well, 1 when something needs the operator (the alert rules'
    conditions), 2 when it cannot tell (the service does not answer).
    """
    from experts_panel.observability import status

    settings = settings_or_exit()
    # httpx logs each request at INFO; the report is the command's only output.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    url = f"{local_url(settings.API_HOST, settings.API_PORT)}health"
    health = status.fetch_health(url, timeout)
    if isinstance(health, str):
        report = status.cannot_tell(health)
    else:
        answered = health

        async def main(database: Database) -> status.Report:
            now = datetime.now(UTC)
            return status.assess(answered, await status.stored_readings(settings, database, now))

        report = run_reading(settings, main)
    if as_json:
        typer.echo(json.dumps(status.as_json(report), ensure_ascii=False, indent=2))
    else:
        typer.echo(status.as_text(report), nl=False)
    raise typer.Exit(report.exit_code)


@app.command("migrate")
def migrate_command() -> None:
    """Apply pending schema migrations (after a backup) and say what was done."""
    settings = settings_or_exit()
    try:
        report = migrate(settings.database_path, settings.backup_dir)
    except MigrationError as exc:
        fail(str(exc))
    if report.applied:
        backup = f"; backup {report.backup}" if report.backup else ""
        out.print(
            f"schema {report.from_version} -> {report.to_version}: applied "
            f"{', '.join(report.applied)}{backup}",
            highlight=False,
        )
    else:
        out.print(f"schema {report.to_version}: up to date", highlight=False)


def _print_post_summary(s: PostImportSummary) -> None:
    verb = "created" if s.expert_created else "updated"
    out.print(
        f"{s.source}: expert {s.expert_id} {verb} from {s.chat.type} {s.chat.name!r} ({s.chat.id})",
        highlight=False,
    )
    skipped = ", ".join(f"{n} {kind}" for kind, n in sorted(s.skipped.items())) or "none"
    out.print(
        f"  messages {s.messages_seen}: posts added {s.posts_added}, updated {s.posts_updated}, "
        f"unchanged {s.posts_unchanged}; skipped {skipped}",
        highlight=False,
    )
    if s.duplicates:
        _print_duplicates(s.duplicates, s.duplicate_ids)
    out.print(
        f"  links: {s.reply_links} reply, {s.mention_links} mention; "
        f"{s.dangling_references} to posts not in the archive; "
        f"{s.external_mentions} mentions of other channels kept as metadata",
        highlight=False,
    )


def _print_duplicates(copies: int, ids: list[int]) -> None:
    more = len(ids) == LISTED_DUPLICATES  # the summary lists no more than that
    listed = ", ".join(map(str, ids)) + (", ..." if more else "")
    out.print(
        f"  duplicate ids: {copies} {'copy' if copies == 1 else 'copies'} of "
        f"{len(ids)}{' or more' if more else ''} {'id' if len(ids) == 1 else 'ids'} skipped, "
        f"the first copy kept: {listed}",
        highlight=False,
    )


def _print_comment_summary(s: CommentImportSummary) -> None:
    out.print(f"{s.source}: comments from {s.discussion_chat!r}", highlight=False)
    out.print(
        f"  post copies {s.copies_seen}: matched {s.copies_matched}, "
        f"unmatched {len(s.unmatched_copies)}",
        highlight=False,
    )
    for copy in s.unmatched_copies[:20]:
        out.print(
            f"    unmatched copy {copy['id']} of {copy['date']}: {copy['text']!r}",
            highlight=False,
        )
    if len(s.unmatched_copies) > 20:
        out.print(f"    ... and {len(s.unmatched_copies) - 20} more", highlight=False)
    if s.duplicates:
        _print_duplicates(s.duplicates, s.duplicate_ids)
    out.print(
        f"  comments {s.comments_seen}: added {s.comments_added}, updated {s.comments_updated}, "
        f"unchanged {s.comments_unchanged} ({s.author_comments} by the channel); "
        f"not under a post {s.not_under_a_post}, under unmatched copies {s.under_unmatched_copy}",
        highlight=False,
    )


@app.command("import")
def import_command(
    export: Annotated[Path, typer.Argument(help="The channel's (or group's) export JSON.")],
    expert: Annotated[str, typer.Option("--expert", help="Expert id (a slug).")],
    username: Annotated[
        str | None, typer.Option(help="The channel's public username, for t.me links.")
    ] = None,
    chat: Annotated[
        str | None, typer.Option(help="In a full-account export: the chat's name or id.")
    ] = None,
    comments: Annotated[
        Path | None, typer.Option(help="The export of the channel's discussion group.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Import a Telegram Desktop export: all of it, or nothing if any part fails."""
    settings = settings_or_exit()
    # What can be checked without the database is checked before it is opened.
    try:
        check_slug(expert)
        if username is not None:
            check_username(username)
        open_export(export, chat)
        if comments is not None:
            open_export(comments)
    except (ImportFailed, ExpertError) as exc:
        fail(f"{exc} (nothing was imported)")

    async def main(database: Database) -> tuple[PostImportSummary, CommentImportSummary | None]:
        async with database.write() as conn:
            with progress_bar(export.name, _size(export)) as on_read:
                posts = await import_posts(conn, export, expert, username, chat, on_read)
            found = None
            if comments is not None:
                with progress_bar(comments.name, _size(comments)) as on_read:
                    found = await import_comments(conn, comments, expert, on_read)
        return posts, found

    try:
        posts, found = run_writing(settings, main, "nothing was imported")
    except (ImportFailed, ExpertError) as exc:
        fail(f"{exc} (nothing was imported)")
    if as_json:
        payload: dict[str, Any] = {"posts": posts.as_dict()}
        if found is not None:
            payload["comments"] = found.as_dict()
        out.print_json(json.dumps(payload, ensure_ascii=False))
        return
    _print_post_summary(posts)
    if found is not None:
        _print_comment_summary(found)
    out.print(f"next: `experts-panel index --expert {expert}` makes the new posts searchable")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


@app.command("index")
def index_command(
    expert: Annotated[
        str | None, typer.Option("--expert", help="One expert (default: all of them).")
    ] = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Redo every post, not only the changed ones.")
    ] = False,
) -> None:
    """Build the search index and the embeddings of new and changed posts."""
    settings = settings_or_exit()
    from experts_panel.retrieval.embedder import UniversalSentenceEncoder
    from experts_panel.retrieval.indexer import IndexReport, index_expert

    async def main(database: Database) -> list[IndexReport]:
        async with database.read() as conn:
            known = [s.expert.id for s in await list_experts(conn)]
        if expert is not None and expert not in known:
            fail(f"no expert {expert!r}")
        embedder = UniversalSentenceEncoder()
        reports = []
        for expert_id in [expert] if expert else known:
            with index_progress(expert_id) as progress:
                reports.append(await index_expert(database, expert_id, embedder, progress, rebuild))
        return reports

    reports = run_writing(settings, main, "the batches done are kept: run it again")
    for report in reports:
        out.print(
            f"{report.expert_id}: {report.searchable_updated} posts made searchable, "
            f"{report.embedded} embedded with {report.model}",
            highlight=False,
        )


@app.command("analyze-drift")
def analyze_drift_command(
    expert: Annotated[str, typer.Option("--expert", help="The expert whose comments to read.")],
    redo: Annotated[
        bool, typer.Option("--redo", help="Analyse again posts already analysed.")
    ] = False,
) -> None:
    """Find discussions that drifted from their post's topic (fills comment_group_drift)."""
    settings = settings_or_exit()
    from experts_panel.drift import DriftReport, analyze_expert
    from experts_panel.model_setup import Models
    from experts_panel.pipeline.model import Usage

    usage = Usage()

    async def main(database: Database) -> DriftReport:
        async with database.read() as conn:
            if await get_expert(conn, expert) is None:
                fail(f"no expert {expert!r}")
        models = Models.from_settings(settings)
        try:
            analyse, by = models.drift_analyser(usage)
            with index_progress(expert) as progress:
                step = (lambda done, total: progress("drift", done, total)) if progress else None
                return await analyze_expert(database, expert, analyse, by, redo, step)
        finally:
            await models.aclose()

    from experts_panel.pipeline.model import ModelError

    try:
        report = run_writing(settings, main, "the posts done are kept: run it again")
    except ModelError as exc:
        fail(f"the model failed, analysis stopped (what was done is kept): {exc}")
    out.print(
        f"{report.expert_id}: {report.analyzed} discussions analysed by {report.analyzed_by}, "
        f"{report.drifted} drifted"
        + (
            f" ({usage.model_calls} model calls, {usage.prompt_tokens} prompt tokens)"
            if usage.model_calls
            else ""
        ),
        highlight=False,
    )


@contextmanager
def index_progress(expert_id: str) -> Iterator[Callable[[str, int, int], None] | None]:
    if not err.is_terminal:
        yield None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} posts"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(f"{expert_id}: {stage}", total=total)
            progress.update(tasks[stage], completed=done)

        yield update


@experts_app.command("list")
def experts_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the experts with their counts."""
    settings = settings_or_exit()

    async def main(database: Database) -> list[Any]:
        async with database.read() as conn:
            return await list_experts(conn)

    stats = run_reading(settings, main)
    if as_json:
        rows = [
            {
                "id": s.expert.id,
                "name": s.expert.display_name,
                "channel_username": s.expert.channel_username,
                "posts": s.post_count,
                "comments": s.comment_count,
                "first_post_at": s.first_post_at,
                "last_post_at": s.last_post_at,
            }
            for s in stats
        ]
        out.print_json(json.dumps(rows, ensure_ascii=False))
        return
    if not stats:
        out.print("no experts yet: add one with `experts-panel import EXPORT.json --expert ID`")
        return
    table = Table("id", "name", "channel", "posts", "comments", "from", "to")
    for s in stats:
        table.add_row(
            s.expert.id,
            s.expert.display_name,
            f"@{s.expert.channel_username}" if s.expert.channel_username else "-",
            str(s.post_count),
            str(s.comment_count),
            (s.first_post_at or "-")[:10],
            (s.last_post_at or "-")[:10],
        )
    out.print(table)


@experts_app.command("rename")
def experts_rename(
    expert_id: Annotated[str, typer.Argument(help="The expert's id.")],
    name: Annotated[str, typer.Argument(help="The new display name.")],
) -> None:
    """Change an expert's display name (its id stays)."""
    settings = settings_or_exit()

    async def main(database: Database) -> None:
        async with database.write() as conn:
            await rename_expert(conn, expert_id, name)

    try:
        run_writing(settings, main, "nothing was changed")
    except ExpertError as exc:
        fail(str(exc))
    out.print(f"expert {expert_id} is now {name.strip()!r}", highlight=False)


@experts_app.command("remove")
def experts_remove(
    expert_id: Annotated[str, typer.Argument(help="The expert's id.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove an expert and every post, link and comment it owns, and nothing else."""
    if not yes:
        if not sys.stdin.isatty():
            fail("removing an expert needs --yes when not run from a terminal")
        typer.confirm(f"Remove expert {expert_id} and all its posts and comments?", abort=True)
    settings = settings_or_exit()

    async def main(database: Database) -> int:
        async with database.write() as conn:
            return await remove_expert(conn, expert_id)

    try:
        count = run_writing(settings, main, "nothing was removed")
    except ExpertError as exc:
        fail(str(exc))
    out.print(f"removed expert {expert_id} and its {count} posts", highlight=False)


@experts_app.command("add")
def experts_add(
    expert_id: Annotated[str, typer.Argument(help="The new expert's id (a slug).")],
    username: Annotated[
        str, typer.Option("--username", help="The channel's or supergroup's username.")
    ],
) -> None:
    """Add an expert from a channel or supergroup the Telegram account can read (its name
    and id from Telegram; `sync` then fills it)."""
    from experts_panel.experts import create_expert
    from experts_panel.telegram_sync.account import signed_in
    from experts_panel.telegram_sync.failures import SyncFailed
    from experts_panel.telegram_sync.sync import chat_type, resolve

    settings = settings_or_exit()
    try:
        check_slug(expert_id)
        name = check_username(username.removeprefix("@"))
    except ExpertError as exc:
        fail(str(exc))
    credentials = _credentials(settings)

    async def main(database: Database) -> Any:
        async with database.read() as conn:
            if await get_expert(conn, expert_id) is not None:
                fail(f"expert {expert_id!r} already exists")
        async with signed_in(credentials) as source:
            entity = await resolve(source, name)
        async with database.write() as conn:
            await create_expert(
                conn,
                expert_id,
                display_name=entity.title,
                channel_username=entity.username or name,
                channel_id=entity.id,
                chat_type=chat_type(entity),
            )
        return entity

    try:
        entity = run_writing(settings, main, "nothing was added")
    except (SyncFailed, ExpertError, ConnectionError) as exc:
        fail(f"{exc} (nothing was added)")
    out.print(
        f"expert {expert_id} added: {chat_type(entity)} {entity.title!r} ({entity.id}); "
        f"next: `experts-panel sync --expert {expert_id}`",
        highlight=False,
    )


def _credentials(settings: Settings) -> Any:
    from experts_panel.telegram_sync.account import Credentials, NotConfigured

    try:
        return Credentials.of(settings)
    except NotConfigured as exc:
        fail(str(exc), code=2)


@telegram_app.command("login")
def telegram_login() -> None:
    """Sign in to Telegram (phone, the code Telegram sends, the two-step password if set);
    the session goes to TELEGRAM_SESSION_FILE, mode 0600."""
    from experts_panel.telegram_sync.account import login

    settings = settings_or_exit()
    credentials = _credentials(settings)
    if not sys.stdin.isatty():
        fail("signing in asks for the phone, a code and maybe a password: run it in a terminal")
    try:
        who = asyncio.run(
            login(
                credentials,
                phone=lambda: str(typer.prompt("Phone number (international, +...)")),
                code=lambda: str(typer.prompt("The code Telegram sent")),
                password=lambda: str(typer.prompt("Two-step password", hide_input=True)),
            )
        )
    except Exception as exc:  # Telethon's errors are many; each is one line here
        fail(f"sign-in failed: {type(exc).__name__}: {exc}")
    out.print(f"signed in as {who}; session {credentials.session}", highlight=False)


@telegram_app.command("logout")
def telegram_logout() -> None:
    """End the session at Telegram and delete the session file."""
    from experts_panel.telegram_sync.account import logout

    settings = settings_or_exit()
    credentials = _credentials(settings)
    try:
        ended = asyncio.run(logout(credentials))
    except ConnectionError as exc:
        fail(f"Telegram cannot be reached ({exc}); the session file is left as it was")
    out.print(
        "signed out; session file removed" if ended else "no session was signed in; file removed",
        highlight=False,
    )


@app.command("sync")
def sync_command(
    expert: Annotated[
        str | None,
        typer.Option("--expert", help="One expert (default: every one with a username)."),
    ] = None,
    index: Annotated[
        bool, typer.Option("--index/--no-index", help="Index what changed afterwards.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summaries as JSON.")] = False,
) -> None:
    """Fetch new posts, recent edits and comments from Telegram for experts with a username."""
    from experts_panel.telegram_sync.account import signed_in
    from experts_panel.telegram_sync.failures import (
        FloodWaitTooLong,
        SessionInvalid,
        SyncFailed,
    )
    from experts_panel.telegram_sync.one_at_a_time import SyncRunning, only_sync
    from experts_panel.telegram_sync.sync import SyncOptions, SyncSummary, sync_expert

    settings = settings_or_exit()
    credentials = _credentials(settings)
    options = SyncOptions(
        reread_days=settings.SYNC_REREAD_DAYS, max_flood_wait=settings.SYNC_MAX_FLOOD_WAIT
    )
    failures: list[str] = []

    async def main(database: Database) -> list[SyncSummary]:
        async with database.read() as conn:
            stats = await list_experts(conn)
        chosen = [s.expert for s in stats if expert in (None, s.expert.id)]
        if expert is not None and not chosen:
            fail(f"no expert {expert!r}")
        chosen = [e for e in chosen if e.channel_username]
        if expert is not None and not chosen:
            fail(f"expert {expert!r} has no channel username to sync from")
        done: list[SyncSummary] = []
        async with signed_in(credentials) as source:
            for one in chosen:
                try:
                    done.append(await sync_expert(database, source, one, options))
                except (SessionInvalid, FloodWaitTooLong) as exc:
                    # The session and the flood limits are the account's: no other expert
                    # would fare better now.
                    failures.append(str(exc))
                    break
                except SyncFailed as exc:
                    failures.append(str(exc))
        if index:
            await _index_changed(database, [s.expert_id for s in done if s.changed])
        return done

    try:
        with only_sync(settings.database_path):
            summaries = run_writing(settings, main, "the batches stored are kept: run it again")
    except (SyncRunning, SyncFailed, ConnectionError) as exc:
        fail(str(exc))
    if as_json:
        out.print_json(json.dumps([s.as_dict() for s in summaries], ensure_ascii=False))
    else:
        for summary in summaries:
            _print_sync_summary(summary)
    if failures:
        fail("\n".join(failures))


async def _index_changed(database: Database, expert_ids: list[str]) -> None:
    if not expert_ids:
        return
    from experts_panel.retrieval.embedder import UniversalSentenceEncoder
    from experts_panel.retrieval.indexer import index_expert

    embedder = UniversalSentenceEncoder()
    for expert_id in expert_ids:
        report = await index_expert(database, expert_id, embedder)
        out.print(
            f"{expert_id}: {report.searchable_updated} posts made searchable, "
            f"{report.embedded} embedded",
            highlight=False,
        )


def _print_sync_summary(s: Any) -> None:
    group = f", comments from {s.discussion_chat!r}" if s.discussion_chat else ""
    out.print(f"@{s.username}: expert {s.expert_id} from {s.chat_name!r}{group}", highlight=False)
    skipped = ", ".join(f"{n} {kind}" for kind, n in sorted(s.skipped.items())) or "none"
    out.print(
        f"  messages {s.messages_seen}: posts added {s.posts_added}, updated {s.posts_updated}, "
        f"unchanged {s.posts_unchanged}; skipped {skipped}",
        highlight=False,
    )
    out.print(
        f"  comments {s.comments_seen}: added {s.comments_added}, updated {s.comments_updated}, "
        f"unchanged {s.comments_unchanged} ({s.author_comments} by the channel)",
        highlight=False,
    )
    out.print(
        f"  links: {s.reply_links} reply, {s.mention_links} mention; "
        f"{s.dangling_references} to posts not in the archive; "
        f"{s.external_mentions} mentions of other channels kept as metadata",
        highlight=False,
    )
    if s.flood_waits:
        out.print(f"  flood waits: {s.flood_waits}, {s.flood_wait_s} s slept", highlight=False)


@settings_app.command("env-example")
def settings_env_example() -> None:
    """Print `.env.example`: every variable with its help and default."""
    sys.stdout.write(env_example())


@settings_app.command("check")
def settings_check() -> None:
    """Validate the current environment's settings and print them (secrets hidden)."""
    settings = settings_or_exit()
    for name, value in settings.model_dump().items():
        shown = "(set)" if name in SECRET_FIELDS and value else value
        out.print(f"{name}={'' if shown is None else shown}", highlight=False)


@app.command()
def demo(
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve once the demo is imported.")
    ] = True,
) -> None:
    """Recreate the demo database (default ./data/demo.db) from the bundled experts and serve
    it with the built front end (STATIC_DIR, else frontend/dist of this checkout)."""
    import os

    from experts_panel.demo import DEMO_DATABASE_URL, DemoError, build_demo
    from experts_panel.demo.front_end import find_front_end, not_found, package_checkout
    from experts_panel.in_use import InUseError

    overrides = {} if os.environ.get("DATABASE_URL") else {"DATABASE_URL": DEMO_DATABASE_URL}
    cwd, checkout = Path.cwd(), package_checkout()
    found = None if os.environ.get("STATIC_DIR") else find_front_end(cwd, checkout)
    if serve_after and found is not None:
        overrides["STATIC_DIR"] = str(found)
    settings = settings_or_exit(overrides)
    static = settings.STATIC_DIR
    if serve_after and static is not None and not (static / "index.html").is_file():
        fail(f"STATIC_DIR={static}: no index.html there; build the front end (./scripts/setup)")
    try:
        summaries = asyncio.run(build_demo(settings))
    except (DemoError, ImportFailed, MigrationError, InUseError) as exc:
        fail(str(exc))
    for posts, found_comments in summaries:
        _print_post_summary(posts)
        _print_comment_summary(found_comments)
    out.print(f"demo database: {settings.database_path}", highlight=False)
    if not serve_after:
        return
    url = local_url(settings.API_HOST, settings.API_PORT)
    if static is not None:
        out.print(f"front end: {static.resolve()}", highlight=False)
        out.print(f"open {url} (Ctrl+C stops)", highlight=False)
    else:
        err.print(f"warning: {not_found(cwd, checkout)}", highlight=False)
        out.print(f"open {url}api/docs for the API (Ctrl+C stops)", highlight=False)
    _serve(settings)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
