"""The click commands of ``smscenter``.

Each command resolves its settings (:mod:`smscenter.cli.settings`), runs one coroutine on
asyncio and prints through rich. Every error is reported as one line on stderr, scrubbed of
every secret the run has seen, with exit status 1; ``-v`` logs (scrubbed too) to stderr.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import signal
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn, ParamSpec, TypeVar

import anyio
import anyio.abc
import attrs
import click
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from smscenter._version import __version__
from smscenter.cli import bulk as bulk_mod
from smscenter.cli.bulk_store import (
    default_store_path,
    describe_client_ids,
    export_results,
    load_records,
    plan_from_store,
    read_store,
    with_client_ids,
)
from smscenter.cli.errors import Target, explain, primary_error
from smscenter.cli.settings import ConfigError, Settings, resolve_settings, scrub
from smscenter.exceptions import SMSCenterError
from smscenter.models import (
    DeliveryReport,
    IncomingMessage,
    Message,
    MessageKind,
    MessageStatus,
)
from smscenter.store import MessageStore

__all__ = ("cli",)

P = ParamSpec("P")
T = TypeVar("T")

#: Exit status of a bulk run that finished with some messages failed or of unknown outcome.
EXIT_INCOMPLETE = 3
#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130


# --- shared state, errors, logging ------------------------------------------------------------


@attrs.define
class _State:
    flags: dict[str, object | None] = attrs.field(repr=False)  # holds secrets
    config_path: Path | None
    verbose: int
    secrets: list[str] = attrs.field(factory=list, repr=False)
    #: What the command is talking to now (named in its error line).
    target: Target | None = None
    _settings: Settings | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = resolve_settings(
                self.flags,
                config_path=self.config_path,
                ask_password=_prompt_password if sys.stdin.isatty() else None,
            )
            self.secrets.extend(s for s in self._settings.secrets if s not in self.secrets)
            for warning in self._settings.warnings:
                click.echo(f"warning: {warning}", err=True)
        return self._settings


def _prompt_password(login: str) -> str:
    """Ask for the password on the terminal, without echoing it."""
    typed: str = click.prompt(f"Password for {login}", hide_input=True, err=True)
    return typed


class _ScrubFilter(logging.Filter):
    """Rewrites every record so no secret of this run reaches the log output."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage(), self._secrets)
        record.args = None
        if record.exc_info:
            record.exc_text = scrub(
                "".join(traceback.format_exception(*record.exc_info)), self._secrets
            )
            record.exc_info = None
        return True


def _setup_logging(verbose: int, secrets: list[str]) -> Callable[[], None]:
    """Route logging for this run; returns the function that undoes it."""
    if not verbose:
        # Without -v, the library's warnings (a bind that dropped and came back ...) would
        # break into the tables and progress bars; errors are reported by the commands.
        quiet = logging.NullHandler()
        logging.getLogger("smscenter").addHandler(quiet)
        return lambda: logging.getLogger("smscenter").removeHandler(quiet)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_ScrubFilter(secrets))
    level = logging.INFO if verbose == 1 else logging.DEBUG
    loggers = [
        logging.getLogger(name)
        for name in (("smscenter", "httpx", "httpcore") if verbose > 1 else ("smscenter",))
    ]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(level)
        logger.addHandler(handler)

    def undo() -> None:
        for logger, old in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(old)

    return undo


def _state() -> _State:
    state = click.get_current_context().find_object(_State)
    assert state is not None
    return state


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"error: {scrub(message, _state().secrets)}", err=True)
    raise click.exceptions.Exit(code)


def _reports_errors(func: Callable[P, T]) -> Callable[P, T]:
    """Turn every error into one scrubbed line on stderr (what failed, where, what to check)
    and exit status 1; also one that comes out of a task group inside an ExceptionGroup."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        state = _state()
        try:
            return func(*args, **kwargs)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
        except BaseExceptionGroup as group:
            if group.subgroup(KeyboardInterrupt) is not None:
                click.echo("interrupted", err=True)
                raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
            if not isinstance(group, Exception):
                raise
            _report_error(group, state)
        except Exception as error:
            _report_error(error, state)

    return wrapper


def _report_error(caught: Exception, state: _State) -> NoReturn:
    error = primary_error(caught)
    if isinstance(error, click.exceptions.Exit | click.exceptions.Abort | click.ClickException):
        raise error
    if isinstance(error, ConfigError | bulk_mod.BulkError):
        _fail(str(error))
    if isinstance(error, SMSCenterError):
        _fail(explain(error, state.target))
    if isinstance(error, ValueError | OSError):
        _fail(str(error) or type(error).__name__)
    if state.verbose:
        text = "".join(traceback.format_exception(caught))
        click.echo(scrub(text, state.secrets), err=True)
    _fail(f"unexpected {type(error).__name__}: {error} (run with -v for the traceback)")


def _run(func: Callable[..., Awaitable[T]], *args: Any) -> T:
    # The simulator needs asyncio (uvicorn); the rest would run on trio too.
    return anyio.run(func, *args, backend="asyncio")


def _console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def _err_console() -> Console:
    # soft_wrap: a message line stays one line (a long store path is not cut), for logs and grep.
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _jsonable(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, MessageStatus):
        return value.value
    return value


def _print_json(data: dict[str, object]) -> None:
    click.echo(json.dumps({k: _jsonable(v) for k, v in data.items()}, ensure_ascii=False))


def _kv_table(rows: list[tuple[str, object]]) -> Table:
    table = Table(box=box.SIMPLE, show_header=False, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows:
        table.add_row(key, "-" if value is None else str(value))
    return table


# --- the group ---------------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML config file [default: $SMSC_CONFIG or ~/.config/smscenter/config.toml].",
)
@click.option("--login", help="Account login [env SMSC_LOGIN].")
@click.option(
    "--password",
    help="Password [env SMSC_PASSWORD]. Prefer the environment or the config file: "
    "command lines are visible to other users.",
)
@click.option("--password-md5", help="Lowercase hex MD5 of the password [env SMSC_PASSWORD_MD5].")
@click.option("--api-key", help="API key instead of login and password [env SMSC_API_KEY].")
@click.option("--base-url", help="Provider site [env SMSC_BASE_URL; default https://smsc.ru].")
@click.option("--smpp-host", help="SMPP host [env SMSC_SMPP_HOST; default smpp.<site>].")
@click.option("--smpp-port", type=int, help="SMPP port [env SMSC_SMPP_PORT; default 3700].")
@click.option("--smpp-tls/--no-smpp-tls", default=None, help="TLS for SMPP [env SMSC_SMPP_TLS].")
@click.option("-v", "--verbose", count=True, help="Log to stderr (-vv: also HTTP internals).")
@click.version_option(__version__, prog_name="smscenter")
@click.pass_context
def cli(
    ctx: click.Context,
    config_path: Path | None,
    login: str | None,
    password: str | None,
    password_md5: str | None,
    api_key: str | None,
    base_url: str | None,
    smpp_host: str | None,
    smpp_port: int | None,
    smpp_tls: bool | None,
    verbose: int,
) -> None:
    """Send and track messages through SMS Center (smsc.ru / smscentre.com).

    Credentials come from the flags, the environment (SMSC_LOGIN, SMSC_PASSWORD, SMSC_API_KEY,
    ...) or the config file, in that order. Try `smscenter demo` (no account needed) or
    `smscenter simulate` to get a local stand-in for the provider.
    """
    flags: dict[str, object | None] = {
        "login": login,
        "password": password,
        "password_md5": password_md5,
        "api_key": api_key,
        "base_url": base_url,
        "smpp_host": smpp_host,
        "smpp_port": smpp_port,
        "smpp_tls": smpp_tls,
    }
    state = _State(flags=flags, config_path=config_path, verbose=verbose)
    # Secrets known before any file is read; the file's are added when it is.
    state.secrets.extend(s for s in (password, password_md5, api_key) if s)
    for var in ("SMSC_PASSWORD", "SMSC_PASSWORD_MD5", "SMSC_API_KEY"):
        if os.environ.get(var):
            state.secrets.append(os.environ[var])
    ctx.obj = state
    ctx.call_on_close(_setup_logging(verbose, state.secrets))


# --- send / cost / status / balance -----------------------------------------------------------


def _read_text(text: str) -> str:
    if text == "-":
        return sys.stdin.read().rstrip("\n")
    return text


def _message(phones: str, text: str, sender: str | None, translit: bool, flash: bool) -> Message:
    return Message(
        to=phones,
        text=_read_text(text),
        sender=sender,
        translit=translit,
        kind=MessageKind.FLASH if flash else MessageKind.SMS,
    )


def _message_options(func: Callable[P, T]) -> Callable[P, T]:
    func = click.option("--json", "as_json", is_flag=True, help="Print JSON.")(func)
    func = click.option("--flash", is_flag=True, help="A flash SMS (shown, not stored).")(func)
    func = click.option("--translit", is_flag=True, help="Transliterate Cyrillic.")(func)
    func = click.option("--sender", help="Registered sender name.")(func)
    func = click.argument("text")(func)
    return click.argument("phones")(func)


def _target(settings: Settings, via: str) -> Target:
    """What a command using ``via`` talks to, for its error line."""
    if via == "http":
        return Target.http(settings.base_url)
    host, port = settings.smpp_address()
    return Target.smpp(host, port, settings.smpp_tls)


def _client(settings: Settings) -> Any:
    from smscenter.http.client import HTTPClient

    _state().target = _target(settings, "http")
    return HTTPClient(settings.require_credentials(), base_url=settings.base_url)


@cli.command()
@_message_options
@_reports_errors
def send(
    phones: str, text: str, sender: str | None, translit: bool, flash: bool, as_json: bool
) -> None:
    """Send TEXT to PHONES (comma-separated; TEXT '-' reads stdin) over HTTP.

    Prints the message id, the parts billed, the cost and the balance after it.
    """
    message = _message(phones, text, sender, translit, flash)
    settings = _state().settings()

    async def main() -> Any:
        async with _client(settings) as api:
            return await api.send(message)

    result = _run(main)
    data = {
        "message_id": result.message_id,
        "parts": result.parts,
        "cost": result.cost,
        "balance": result.balance,
    }
    if as_json:
        _print_json(data)
        return
    _console().print(
        _kv_table(
            [
                ("message id", result.message_id),
                ("parts", result.parts),
                ("cost", result.cost),
                ("balance", result.balance),
            ]
        )
    )


@cli.command()
@_message_options
@_reports_errors
def cost(
    phones: str, text: str, sender: str | None, translit: bool, flash: bool, as_json: bool
) -> None:
    """What sending TEXT to PHONES would cost; nothing is sent."""
    message = _message(phones, text, sender, translit, flash)
    settings = _state().settings()

    async def main() -> Any:
        async with _client(settings) as api:
            return await api.cost(message)

    quote = _run(main)
    if as_json:
        _print_json({"cost": quote.cost, "parts": quote.parts})
        return
    _console().print(_kv_table([("cost", quote.cost), ("parts", quote.parts)]))


def _report_rows(report: DeliveryReport) -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = [
        ("message id", report.message_id),
        ("phone", report.phone),
        ("status", f"{report.status.value} ({report.raw_status})"),
    ]
    if report.error:
        rows.append(("error", f"{report.error.name.lower()} ({int(report.error)})"))
    rows.append(("changed at", report.changed_at))
    optional: list[tuple[str, object]] = [
        ("sent at", report.submitted_at),
        ("parts", report.parts),
        ("cost", report.cost),
        ("sender", report.sender),
        ("text", report.text),
        ("country", report.country),
        ("operator", report.operator),
    ]
    rows.extend((k, v) for k, v in optional if v is not None)
    return rows


@cli.command()
@click.argument("message_id", required=False)
@click.argument("phone", required=False)
@click.option(
    "--detail",
    type=click.IntRange(0, 2),
    default=0,
    show_default=True,
    help="1: also text, cost, sender; 2: also country and operator.",
)
@click.option(
    "--store",
    "store_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read a message store instead of asking the provider: its counts by state, or the "
    "record of one client id (status --store PATH [CLIENT_ID]).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_reports_errors
def status(
    message_id: str | None,
    phone: str | None,
    detail: int,
    store_path: Path | None,
    as_json: bool,
) -> None:
    """The delivery status of message MESSAGE_ID to PHONE (asked over HTTP).

    With --store PATH, nothing is asked: the store's counts by state, or with a CLIENT_ID
    (in the place of MESSAGE_ID) that message's record and report history.
    """
    if store_path is not None:
        if phone is not None:
            raise click.UsageError("with --store, give at most one CLIENT_ID")
        from smscenter.cli.report_cmd import show_store_status

        show_store_status(store_path, message_id, as_json)
        return
    if message_id is None or phone is None:
        raise click.UsageError("give MESSAGE_ID and PHONE (or --store PATH)")
    settings = _state().settings()

    async def main() -> DeliveryReport:
        async with _client(settings) as api:
            report: DeliveryReport = await api.status(message_id, phone, detail=detail)
            return report

    report = _run(main)
    if as_json:
        data = {k.replace(" ", "_"): v for k, v in _report_rows(report)}
        data["status"] = report.status.value
        data["final"] = report.status.is_final
        _print_json(data)
        return
    _console().print(_kv_table(_report_rows(report)))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_reports_errors
def balance(as_json: bool) -> None:
    """The account balance."""
    settings = _state().settings()

    async def main() -> Any:
        async with _client(settings) as api:
            return await api.balance()

    result = _run(main)
    data = {"balance": result.balance, "currency": result.currency, "credit": result.credit}
    if as_json:
        _print_json(data)
        return
    rows: list[tuple[str, object]] = [("balance", f"{result.balance} {result.currency or ''}")]
    if result.credit is not None:
        rows.append(("credit", result.credit))
    _console().print(_kv_table(rows))


# --- bulk --------------------------------------------------------------------------------------


@attrs.define
class _Interrupts:
    """First Ctrl-C/SIGTERM: stop taking new messages; second: abort.

    ``on_stop`` runs on each (the SMPP job gives back what its pool queued but did not write,
    at once rather than at its next turn).
    """

    stop: anyio.Event
    count: int = 0
    on_stop: Callable[[], None] | None = None

    async def watch(
        self, abort: anyio.CancelScope, *, task_status: anyio.abc.TaskStatus[None]
    ) -> None:
        try:
            receiver = anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM)
            with receiver as signals:
                task_status.started()
                async for _ in signals:
                    self.count += 1
                    if self.count == 1:
                        click.echo(
                            "\ninterrupted: finishing the messages in flight "
                            "(Ctrl-C again to abort)",
                            err=True,
                        )
                        self.stop.set()
                        if self.on_stop is not None:
                            self.on_stop()
                    else:
                        if self.on_stop is not None:
                            self.on_stop()
                        abort.cancel()
                        return
        except (NotImplementedError, RuntimeError, ValueError):
            # No loop signal handling here (Windows, or not the main thread): the default
            # KeyboardInterrupt applies.
            task_status.started()


class _ProgressView:
    """The live progress of a bulk run on stderr (only when it is a terminal)."""

    def __init__(self, progress: bulk_mod.BulkProgress, console: Console, label: str) -> None:
        self.progress = progress
        self.enabled = console.is_terminal
        self.ui = Progress(
            TextColumn(f"[bold]{label}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            console=console,
            disable=not self.enabled,
            refresh_per_second=8,
        )
        self.task = self.ui.add_task(label, total=progress.total, counts="")

    def counts(self) -> str:
        p = self.progress
        waiting = p.queued() if p.queued is not None else 0
        text = (
            f"sent {p.sent - waiting}  [green]ack {p.acknowledged}[/]  "
            f"[red]failed {p.failed + p.invalid}[/]  [yellow]unknown {p.unknown}[/]  "
            f"{p.rate:,.0f}/s"
        )
        if p.throttled is not None:
            text += f"  throttled {p.throttled()}"
        return text

    def update(self) -> None:
        p = self.progress
        self.ui.update(self.task, completed=p.done + p.invalid, counts=self.counts())

    async def refresh_forever(self) -> None:
        while True:
            self.update()
            await anyio.sleep(0.125)


def _summary_table(title: str, rows: list[tuple[str, object]]) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAVY, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    for key, value in rows:
        table.add_row(key, str(value))
    return table


# Shared by bulk and listen: both may bind a login that other programs bind too.
_mcon_option = click.option(
    "--mcon",
    type=click.IntRange(1, 9),
    help="Declare the login's total binds (MCONn) when other programs bind it too; "
    "without it the provider closes their binds [default: the binds of this command].",
)


@cli.command()
@click.argument("source", type=click.File("r", encoding="utf-8-sig"))
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Result file; a run with an existing one resumes [default: SOURCE.results.csv].",
)
@click.option(
    "--store",
    "store_opt",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Message store that tracks every message and lets a rerun resume "
    "[default: SOURCE.smsc.db; from stdin, OUT.smsc.db].",
)
@click.option(
    "--no-store",
    is_flag=True,
    help="No message store: resume from the result file alone (the older way).",
)
@click.option("--text", "template", help="Text for rows without one; {phone}, {column} filled in.")
@click.option(
    "--via",
    type=click.Choice(["smpp", "http"]),
    default="smpp",
    show_default=True,
    help="Transport.",
)
@click.option("--sender", help="Registered sender name for every message.")
@click.option(
    "--redis",
    "redis_url",
    metavar="URL",
    help="Queue the campaign on this Redis server for fleet workers (`smscenter worker`) "
    "instead of sending it; queuing it again queues nothing twice.",
)
@click.option(
    "--resend-unknown",
    is_flag=True,
    help="Also resend rows whose outcome is unknown (they may be delivered twice).",
)
@click.option(
    "--binds",
    type=click.IntRange(1, 9),
    default=2,
    show_default=True,
    help="SMPP binds (MCONn).",
)
@_mcon_option
@click.option(
    "--window",
    type=click.IntRange(1, 100_000),
    default=500,
    show_default=True,
    help="SMPP requests in flight per bind.",
)
@click.option(
    "--rate",
    type=float,
    default=30.0,
    show_default=True,
    help="SMPP messages per second, whole pool (the provider's default limit is 30).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 14),
    default=5,
    show_default=True,
    help="HTTP requests in flight (the provider refuses 15).",
)
@_reports_errors
def bulk(
    source: Any,
    out_path: Path | None,
    store_opt: Path | None,
    no_store: bool,
    template: str | None,
    via: str,
    sender: str | None,
    redis_url: str | None,
    resend_unknown: bool,
    binds: int,
    mcon: int | None,
    window: int,
    rate: float,
    concurrency: int,
) -> None:
    """Send to every recipient in SOURCE (a CSV file, or '-' for stdin).

    Rows are `phone,text`, or `phone` only with --text. A header row names the columns
    (`phone`, `text`, `id` or `client_id`, and any others the --text template uses as {name}).
    Every message is tracked in the message store (--store; each row's client id is its `id`
    column, else SOURCE-ROW) and gets one row in the result file (row, phone, outcome, message
    id or error). Run the same command again to resume: acknowledged rows are skipped, and so
    are rows whose outcome is unknown unless --resend-unknown. Ctrl-C stops taking new messages
    and lets those in flight finish. `smscenter report --store PATH` summarises the campaign.

    With --redis URL nothing is sent here: the campaign is queued (client ids as above) for
    `smscenter worker --redis URL` processes on any machine; `report --redis URL` follows it.

    Exit status: 0 all acknowledged, 3 some failed or unknown (see the result file),
    1 error, 130 interrupted.
    """
    state = _state()
    name = getattr(source, "name", "-")
    if redis_url is not None:
        from smscenter.cli.fleet_cmd import enqueue_campaign, source_messages

        enqueue_campaign(redis_url, source_messages(source, name, template, sender))
        return
    if out_path is None:
        if name in ("-", "<stdin>"):
            raise click.UsageError("reading from stdin: name the result file with --out")
        out_path = Path(name).with_name(Path(name).name + ".results.csv")
    if no_store and store_opt is not None:
        raise click.UsageError("--store and --no-store exclude each other")
    store_path = None if no_store else store_opt or default_store_path(name, out_path)
    settings = state.settings()
    credentials = settings.require_credentials()
    recipients = bulk_mod.read_recipients(source, template=template)
    results = bulk_mod.ResultFile(out_path)
    err = _err_console()
    if store_path is not None and not store_path.exists() and results.read():
        # A run started without a store (or before stores existed): the result file is all
        # that knows what went out; starting a store now would send those rows again.
        if store_opt is not None:
            raise bulk_mod.BulkError(
                f"{out_path} holds an earlier run made without the message store {store_path}; "
                "resume it with --no-store, or choose another --out to start afresh"
            )
        err.print(f"{out_path} holds a run started without a message store: resuming it from there")
        store_path = None
    refused_before = 0
    if store_path is None:
        previous = results.read()
        _settle(previous, results, settings, credentials, err)
        planned = bulk_mod.plan(recipients, previous, resend_unknown=resend_unknown)
    else:
        recipients, planned, refused_before = _plan_over_store(
            recipients, name, store_path, resend_unknown, err, (via, settings, credentials)
        )
    state.target = _target(settings, via)
    progress = bulk_mod.BulkProgress(
        total=len(planned.todo),
        already_sent=planned.already_sent,
        skipped_unknown=planned.skipped_unknown,
    )
    if planned.already_sent or planned.skipped_unknown or refused_before:
        refused = f", {refused_before} refused earlier skipped" if refused_before else ""
        err.print(
            f"resuming {store_path or out_path}: {planned.already_sent} already sent, "
            f"{planned.skipped_unknown} of unknown outcome skipped{refused}"
            + ("" if resend_unknown else " (--resend-unknown sends those of unknown outcome)")
        )
    interrupts = _Interrupts(anyio.Event())

    async def main() -> None:
        view = _ProgressView(progress, err, f"bulk via {via}")
        results.open()
        try:
            async with AsyncExitStack() as stack:
                store = None
                if store_path is not None:
                    from smscenter.store import SQLiteStore

                    store = await stack.enter_async_context(SQLiteStore(store_path))
                with view.ui, anyio.CancelScope() as abort:
                    async with anyio.create_task_group() as group:
                        await group.start(interrupts.watch, abort)
                        if view.enabled:
                            group.start_soon(view.refresh_forever)
                        await _bulk_job(
                            progress,
                            planned.todo,
                            results,
                            interrupts,
                            via,
                            settings,
                            credentials,
                            sender,
                            binds,
                            mcon,
                            window,
                            rate,
                            concurrency,
                            _Tracking(store, resend_unknown),
                        )
                        group.cancel_scope.cancel()
                    view.update()
        finally:
            results.close()

    started = time.monotonic()
    try:
        _run(main)
    finally:
        if store_path is not None and store_path.exists():
            _export(store_path, recipients, results)
    interrupted = progress.fatal is None and (progress.stopped or interrupts.count > 0)
    # The rows add up: recipients = skipped + to send, and to send = acknowledged + failed +
    # unknown + invalid + not sent (+ pending: only after an abort over HTTP, settled by the
    # next run).
    pending = progress.sent - progress.done
    not_sent = len(planned.todo) - progress.done - progress.invalid - pending
    rows: list[tuple[str, object]] = [
        ("recipients", len(recipients)),
        ("already sent (skipped)", planned.already_sent),
        ("unknown outcome (skipped)", planned.skipped_unknown),
        *([("refused earlier (skipped)", refused_before)] if refused_before else []),
        ("to send", len(planned.todo)),
        ("  acknowledged", progress.acknowledged),
        ("  failed", progress.failed),
        ("  unknown outcome", progress.unknown),
        ("  invalid rows", progress.invalid),
        ("  not sent (stopped)", not_sent),
        *([("  pending (no answer recorded)", pending)] if pending else []),
        ("SMS parts", progress.parts),
        ("rate", f"{progress.rate:,.1f}/s"),
        ("time", f"{time.monotonic() - started:.1f} s"),
        ("result file", out_path),
        *([("message store", store_path)] if store_path is not None else []),
    ]
    _console().print(_summary_table(f"bulk via {via}", rows))
    for kind, count in sorted(progress.errors.items(), key=lambda kv: -kv[1])[:5]:
        err.print(f"  {count} x {scrub(kind, state.secrets)}")
    if progress.fatal is not None:
        _fail(f"stopped: {explain(progress.fatal, state.target)}")
    if interrupted:
        click.echo("interrupted; run the same command again to resume", err=True)
        raise click.exceptions.Exit(EXIT_INTERRUPTED)
    if (
        progress.failed
        or progress.unknown
        or progress.invalid
        or planned.skipped_unknown
        or refused_before
    ):
        # Rows skipped for an unknown outcome (or refused earlier) are not done either: say so
        # in the status.
        raise click.exceptions.Exit(EXIT_INCOMPLETE)


@attrs.frozen
class _Tracking:
    """The message store of a bulk run (``None``: none), and whether messages of unknown
    outcome are to be sent again."""

    store: MessageStore | None
    resend_unknown: bool


def _plan_over_store(
    recipients: list[bulk_mod.Recipient],
    source_name: str,
    store_path: Path,
    resend_unknown: bool,
    err: Console,
    transport: tuple[str, Settings, Any],
) -> tuple[list[bulk_mod.Recipient], bulk_mod.Plan, int]:
    """Give every row a client id, settle the HTTP sends of unknown outcome through
    status.php, and plan the run from the store's records."""
    own_ids = sum(1 for r in recipients if r.client_id)
    recipients = with_client_ids(recipients, source_name)
    existed = store_path.exists()
    ids = describe_client_ids(recipients, own_ids)
    err.print(f"message store: {store_path}{'' if existed else ' (new)'}; client ids: {ids}")
    via, settings, credentials = transport
    records: dict[str, Any] = {}
    if existed:
        open_http = None
        if via == "http":
            from smscenter.http.client import HTTPClient

            _state().target = _target(settings, "http")

            def open_http() -> HTTPClient:
                return HTTPClient(credentials, base_url=settings.base_url)

        def say(line: str) -> None:
            err.print(scrub(line, _state().secrets))

        records = _run(load_records, store_path, open_http, say)
    planned = plan_from_store(recipients, records, resend_unknown=resend_unknown)
    plan = bulk_mod.Plan(
        todo=planned.todo,
        already_sent=planned.already_sent,
        skipped_unknown=planned.skipped_unknown,
    )
    return recipients, plan, planned.skipped_refused


def _export(
    store_path: Path, recipients: list[bulk_mod.Recipient], results: bulk_mod.ResultFile
) -> None:
    """Rewrite the result file from the store (its view of every row)."""
    try:
        records = _run(read_store, store_path)
        export_results(results.path, recipients, records, results.read())
    except (OSError, bulk_mod.BulkError, SMSCenterError) as error:
        # The store has it all: a result file that could not be rewritten is no loss.
        click.echo(f"warning: the result file was not exported from the store: {error}", err=True)


def _settle(
    previous: dict[int, bulk_mod.ResultRow],
    results: bulk_mod.ResultFile,
    settings: Settings,
    credentials: Any,
    err: Console,
) -> None:
    """Settle an earlier run's rows of unknown outcome through status.php (HTTP sends only)."""
    if not any(
        r.client_id and r.outcome in (bulk_mod.Outcome.PENDING, bulk_mod.Outcome.UNKNOWN)
        for r in previous.values()
    ):
        return
    from smscenter.http.client import HTTPClient

    _state().target = _target(settings, "http")

    async def main() -> list[bulk_mod.ResultRow]:
        async with HTTPClient(credentials, base_url=settings.base_url) as api:
            return await bulk_mod.settle(api, previous)

    try:
        settled = _run(main)
    except SMSCenterError as error:
        text = scrub(f"{type(error).__name__}: {error}", _state().secrets)
        err.print(f"could not settle the rows of unknown outcome ({text})")
        return
    results.open()
    try:
        for row in settled:
            results.write(row)
            previous[row.row] = row
    finally:
        results.close()
    went = sum(1 for r in settled if r.outcome is bulk_mod.Outcome.SENT)
    err.print(
        f"settled {len(settled)} rows of unknown outcome through status.php: {went} had gone "
        f"out, {len(settled) - went} had not (they are sent now)"
    )


async def _bulk_job(
    progress: bulk_mod.BulkProgress,
    todo: list[bulk_mod.Recipient],
    results: bulk_mod.ResultFile,
    interrupts: _Interrupts,
    via: str,
    settings: Settings,
    credentials: Any,
    sender: str | None,
    binds: int,
    mcon: int | None,
    window: int,
    rate: float,
    concurrency: int,
    tracking: _Tracking,
) -> None:
    # With a store, the transports record every send before its bytes go out and settle it
    # when its answer comes.
    if via == "http":
        from smscenter.http.client import HTTPClient

        async with HTTPClient(credentials, base_url=settings.base_url, store=tracking.store) as api:
            http_sender = bulk_mod.HTTPBulkSender(
                api, concurrency=concurrency, resend_unknown=tracking.resend_unknown
            )
            await bulk_mod.run_bulk(
                todo,
                http_sender,
                progress,
                results=results,
                stop=interrupts.stop,
                sender_name=sender,
            )
        return
    from smscenter.config import Limits, SMPPOptions, Timeouts
    from smscenter.smpp.client.pool import SMPPPool
    from smscenter.smpp.constants import BindMode

    host, port = settings.smpp_address()
    limits = Limits(connections=binds, window=window, max_rate=rate)
    system_type = f"MCON{mcon}" if mcon is not None else ""
    # Messages taken from the input wait in the pool's queue for the rate limit. Keep about 20
    # seconds' worth there (more only adds waiting), and let one wait up to 10 minutes: if the
    # SMSC throttles the pool far below --rate, they are late, not failed.
    read_ahead = max(100, min(int(rate * 20), 2 * window * binds))
    # Without a store, transmitter binds: the receipts are left to a receiving bind
    # (`smscenter listen`, or the provider keeps them until one binds) instead of piling up
    # unread here. With one, transceivers: the pool writes each receipt to the store before
    # acknowledging it, whether anything reads them or not.
    async with SMPPPool(
        host,
        port,
        credentials,
        mode=BindMode.TRANSMITTER if tracking.store is None else BindMode.TRANSCEIVER,
        limits=limits,
        timeouts=Timeouts(pool=600),
        tls=settings.smpp_tls,
        system_type=system_type,
        options=SMPPOptions(read_ahead=read_ahead),
        store=tracking.store,
    ) as pool:
        progress.throttled = lambda: pool.statistics().throttled
        progress.queued = lambda: pool.statistics().queued
        smpp_sender = bulk_mod.SMPPBulkSender(pool, resend_unknown=tracking.resend_unknown)
        interrupts.on_stop = smpp_sender.withdraw
        try:
            await bulk_mod.run_bulk(
                todo,
                smpp_sender,
                progress,
                results=results,
                stop=interrupts.stop,
                sender_name=sender,
            )
        finally:
            interrupts.on_stop = None


# --- listen ------------------------------------------------------------------------------------


def _event_line(event: DeliveryReport | IncomingMessage) -> str:
    if isinstance(event, IncomingMessage):
        to = f" to {event.to}" if event.to else ""
        return f"incoming  from {event.phone}{to}: {event.text}"
    error = f" error={event.error.name.lower()}" if event.error else ""
    return f"receipt   {event.message_id} {event.phone or ''} {event.status.value}{error}".rstrip()


def _event_json(event: DeliveryReport | IncomingMessage) -> str:
    if isinstance(event, IncomingMessage):
        data: dict[str, object] = {
            "type": "incoming",
            "phone": event.phone,
            "to": event.to,
            "text": event.text,
            "message_id": event.message_id,
            "reply_to_id": event.reply_to_id,
            "received_at": event.received_at,
        }
    else:
        data = {
            "type": "receipt",
            "message_id": event.message_id,
            "phone": event.phone,
            "status": event.status,
            "error": int(event.error),
            "final": event.status.is_final,
            "changed_at": event.changed_at,
        }
    return json.dumps({k: _jsonable(v) for k, v in data.items()}, ensure_ascii=False)


class _Printer:
    def __init__(self, as_json: bool, count: int | None, done: anyio.Event) -> None:
        self.as_json = as_json
        self.count = count
        self.seen = 0
        self.done = done

    def __call__(self, event: DeliveryReport | IncomingMessage) -> None:
        if self.done.is_set():
            return
        stamp = datetime.now().strftime("%H:%M:%S")
        line = _event_json(event) if self.as_json else f"{stamp}  {_event_line(event)}"
        click.echo(line)
        self.seen += 1
        if self.count is not None and self.seen >= self.count:
            self.done.set()


@cli.command()
@click.option(
    "--via",
    type=click.Choice(["smpp", "http"]),
    default="smpp",
    show_default=True,
    help="SMPP: receipts and incoming messages pushed by the SMSC. HTTP: polling (fallback).",
)
@click.option("--for", "duration", type=float, help="Stop after this many seconds.")
@click.option("--count", type=click.IntRange(1), help="Stop after this many events.")
@click.option(
    "--interval",
    type=float,
    default=30.0,
    show_default=True,
    help="HTTP: seconds between polls (get.php allows 3 identical requests a minute).",
)
@_mcon_option
@click.option(
    "--store",
    "store_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SMPP: also record every receipt in this message store (bulk's SOURCE.smsc.db), "
    "before it is acknowledged.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@_reports_errors
def listen(
    via: str,
    duration: float | None,
    count: int | None,
    interval: float,
    mcon: int | None,
    store_path: Path | None,
    as_json: bool,
) -> None:
    """Print delivery receipts and incoming messages as they arrive, until Ctrl-C.

    Over SMPP they are pushed on one bind. The provider lets a login hold several binds only
    when each says how many (MCONn): while `bulk --binds 2` runs, listen with --mcon 3 (and
    give bulk --mcon 3), or one bind closes the other. Over HTTP the command polls the
    incoming messages (get_answers) and the statuses of the 100 most recent messages
    (get_messages) and prints what changed.
    """
    if store_path is not None and via != "smpp":
        raise click.UsageError("--store records the receipts of an SMPP listen (--via smpp)")
    settings = _state().settings()
    credentials = settings.require_credentials()
    _state().target = _target(settings, via)
    done = anyio.Event()
    printer = _Printer(as_json, count, done)

    async def main() -> None:
        # The listeners leave their connections normally once `done` is set (by --for, --count
        # or Ctrl-C): closing an SMPP bind from a cancelled scope could not unbind cleanly.
        async with anyio.create_task_group() as group:
            group.start_soon(_stop_on_signal, done)
            if via == "smpp":
                await _listen_smpp(settings, credentials, printer, mcon, duration, store_path)
            else:
                await _listen_http(settings, credentials, printer, interval, duration)
            group.cancel_scope.cancel()

    _run(main)


async def _stop_on_signal(done: anyio.Event) -> None:
    """Set ``done`` on Ctrl-C or SIGTERM, so the command can close its connections cleanly."""
    try:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                done.set()
                return
    except (NotImplementedError, RuntimeError, ValueError):
        return  # no loop signal handling here (Windows): Ctrl-C raises KeyboardInterrupt


async def _until(done: anyio.Event, duration: float | None) -> None:
    with anyio.move_on_after(duration if duration is not None else math.inf):
        await done.wait()


async def _listen_smpp(
    settings: Settings,
    credentials: Any,
    printer: _Printer,
    mcon: int | None,
    duration: float | None,
    store_path: Path | None = None,
) -> None:
    from smscenter.smpp.client.pool import SMPPPool
    from smscenter.smpp.constants import BindMode

    async with AsyncExitStack() as stack:
        store = None
        if store_path is not None:
            from smscenter.store import SQLiteStore

            # The pool writes each receipt here before acknowledging it to the SMSC.
            store = await stack.enter_async_context(SQLiteStore(store_path))
        host, port = settings.smpp_address()
        system_type = f"MCON{mcon}" if mcon is not None else ""
        pool = SMPPPool(
            host,
            port,
            credentials,
            mode=BindMode.RECEIVER,
            tls=settings.smpp_tls,
            system_type=system_type,
            store=store,
        )
        await _consume_reports(pool, printer, duration)


async def _consume_reports(pool: Any, printer: _Printer, duration: float | None) -> None:
    async def consume() -> None:
        async with pool.reports() as stream:
            async for event in stream:
                printer(event)
                if printer.done.is_set():
                    break  # leaving normally acknowledges the last event too
        printer.done.set()  # the count was reached, or the pool closed

    async with pool, anyio.create_task_group() as group:
        group.start_soon(consume)
        await _until(printer.done, duration)
        group.cancel_scope.cancel()


async def _listen_http(
    settings: Settings,
    credentials: Any,
    printer: _Printer,
    interval: float,
    duration: float | None,
) -> None:
    from smscenter.http.client import HTTPClient

    async with HTTPClient(credentials, base_url=settings.base_url) as api:
        with anyio.move_on_after(duration if duration is not None else math.inf):
            await _poll(api, printer, interval)


async def _poll(api: Any, printer: _Printer, interval: float) -> None:
    statuses: dict[tuple[str, str | None], MessageStatus] = {}
    incoming_seen: set[str] = set()
    last_incoming: str | None = None
    first = True
    while not printer.done.is_set():
        answers = await api.incoming(hours=None if last_incoming else 24, after_id=last_incoming)
        # Oldest first; ids are decimal strings, so shorter is older.
        for message in sorted(answers, key=lambda m: (len(m.message_id or ""), m.message_id or "")):
            key = message.message_id or f"{message.phone}:{message.text}"
            if key in incoming_seen:
                continue
            incoming_seen.add(key)
            if message.message_id:
                last_incoming = message.message_id
            if not first:
                printer(message)
        history = await api.history(count=100)
        current: dict[tuple[str, str | None], MessageStatus] = {}
        for report in reversed(history):
            key2 = (report.message_id, report.phone)
            current[key2] = report.status
            if statuses.get(key2) is not report.status and not first:
                printer(report)
        statuses = current  # only the last 100 are tracked
        first = False
        with anyio.move_on_after(interval):
            await printer.done.wait()


# --- simulate and demo -------------------------------------------------------------------------


def _import_demo() -> Any:
    """smscenter.cli.demo, or an install hint when the simulator's extra is missing."""
    try:
        import smscenter.cli.demo as demo_module
    except ImportError as error:
        _fail(
            "the simulator needs the 'testing' extra: pip install 'smscenter[cli,testing]' "
            f"({error})"
        )
    return demo_module


@cli.command()
@click.option("--http-port", type=int, default=0, help="HTTP port [default: a free one].")
@click.option("--smpp-port", type=int, default=0, help="SMPP port [default: a free one].")
@click.option("--seed", type=int, default=0, show_default=True, help="Seeds delivery outcomes.")
@click.option(
    "--delivery-delay",
    type=float,
    default=5.0,
    show_default=True,
    help="Seconds until a message's final status.",
)
@click.option(
    "--failure-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of messages that end undeliverable.",
)
@click.option(
    "--smpp-throughput",
    type=float,
    default=30.0,
    show_default=True,
    help="SMPP submits per second the account may make (the provider's default is 30).",
)
@click.option("--for", "duration", type=float, help="Stop after this many seconds.")
@_reports_errors
def simulate(
    http_port: int,
    smpp_port: int,
    seed: int,
    delivery_delay: float,
    failure_rate: float,
    smpp_throughput: float,
    duration: float | None,
) -> None:
    """Run the embedded provider simulator in the foreground until Ctrl-C.

    Prints its HTTP base URL, SMPP address and the demo account's credentials, ready to be used
    as SMSC_BASE_URL, SMSC_SMPP_HOST, SMSC_SMPP_PORT, SMSC_LOGIN and SMSC_PASSWORD. Statuses
    move on in real time. Needs the `testing` extra.
    """
    start_simulator = _import_demo().start_simulator

    async def main() -> None:
        async with start_simulator(
            seed=seed,
            http_port=http_port,
            smpp_port=smpp_port,
            delivery_delay=delivery_delay,
            failure_rate=failure_rate,
        ) as sim:
            smpp_knobs = getattr(sim.behaviour, "smpp", None)
            if smpp_knobs is not None:
                smpp_knobs.throughput = smpp_throughput
            creds = sim.credentials
            smpp = getattr(sim, "smpp_port", None)
            lines = [
                f"SMSC_BASE_URL={sim.base_url}",
                *(
                    [f"SMSC_SMPP_HOST={sim.smpp_host}", f"SMSC_SMPP_PORT={smpp}"]
                    if smpp is not None
                    else []
                ),
                f"SMSC_LOGIN={creds.login}",
                f"SMSC_PASSWORD={creds.password}",
            ]
            api_key_line = f"SMSC_API_KEY={sim.api_key_credentials.api_key}"
            click.echo("smscenter simulator running (Ctrl-C stops it); its demo account:")
            for line in lines:
                click.echo(f"  export {line}")
            click.echo(f"  # or, instead of login and password: export {api_key_line}")
            sys.stdout.flush()
            done = anyio.Event()
            async with anyio.create_task_group() as group:
                group.start_soon(_stop_on_signal, done)
                await _until(done, duration)
                group.cancel_scope.cancel()
            click.echo("simulator stopped")

    try:
        _run(main)
    except Exception as caught:  # also out of a task group
        error = primary_error(caught)
        if not isinstance(error, OSError):
            raise
        ports = f"HTTP port {http_port or 'any'}, SMPP port {smpp_port or 'any'}"
        _fail(
            f"cannot start the simulator on 127.0.0.1 ({ports}): {error.strerror or error}; "
            "check --http-port and --smpp-port (0 picks a free port)"
        )


@cli.command()
@click.option(
    "--messages",
    type=click.IntRange(1, 100_000),
    default=2000,
    show_default=True,
    help="Messages in the SMPP bulk job.",
)
@click.option(
    "--binds", type=click.IntRange(1, 9), default=3, show_default=True, help="SMPP binds (MCONn)."
)
@click.option(
    "--rate",
    type=float,
    default=1000.0,
    show_default=True,
    help="SMPP send rate limit, messages per second.",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Seeds delivery outcomes.")
@click.option(
    "--delivery-delay",
    type=click.FloatRange(0.1, 30),
    default=2.0,
    show_default=True,
    help="Seconds the simulated operators take to report.",
)
@click.option("--http-only", is_flag=True, help="Skip the SMPP part.")
@_reports_errors
def demo(
    messages: int, binds: int, rate: float, seed: int, delivery_delay: float, http_only: bool
) -> None:
    """Start the simulator and run a realistic job against it (no account needed).

    Sends a few messages over HTTP (ids, parts, cost, balance), checks their statuses, then a
    bulk job over an SMPP pool with receipts coming back, and prints a summary.
    """
    run_demo = _import_demo().run_demo
    summary = _run(
        functools.partial(
            run_demo,
            _console(),
            messages=messages,
            binds=binds,
            rate=rate,
            seed=seed,
            smpp=not http_only,
            delivery_delay=delivery_delay,
        )
    )
    if not summary.consistent:
        _fail("the demo's numbers do not add up")


# --- commands kept in their own modules (they import the helpers above) -----------------------

# Fleet mode: the worker verb (bulk --redis and report --redis call into the same module).
from smscenter.cli.fleet_cmd import worker as _worker  # noqa: E402
from smscenter.cli.report_cmd import report as _report  # noqa: E402

cli.add_command(_report)
cli.add_command(_worker)
