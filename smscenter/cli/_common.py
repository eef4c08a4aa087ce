"""What every ``smscenter`` command shares: the run's state (settings, secrets, what it talks
to), the one-line error report, the asyncio runner, the rich consoles and tables, JSON output,
and Ctrl-C handling.

The verbs live in their own modules (``send_cmd``, ``bulk_cmd``, ``listen_cmd``, ``simulate_cmd``,
``report_cmd``, ``fleet_cmd``); :mod:`smscenter.cli.app` is the group that registers them.
"""

from __future__ import annotations

import functools
import json
import math
import signal
import sys
import traceback
from collections.abc import Awaitable, Callable
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
from rich.table import Table

from smscenter.cli import bulk as bulk_mod
from smscenter.cli.errors import Target, explain, primary_error
from smscenter.cli.settings import ConfigError, Settings, resolve_settings, scrub
from smscenter.exceptions import SMSCenterError
from smscenter.models import MessageStatus

__all__ = ("EXIT_INCOMPLETE", "EXIT_INTERRUPTED")


P = ParamSpec("P")
T = TypeVar("T")

#: Exit status of a bulk run that finished with some messages failed or of unknown outcome.
EXIT_INCOMPLETE = 3
#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130


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
