"""The ``listen`` command: delivery receipts and incoming messages as they arrive, pushed over
SMPP or polled over HTTP, printed as lines or JSON.

Registered on the ``smscenter`` group by :mod:`smscenter.cli.app`.
"""

from __future__ import annotations

import json
import math
from contextlib import AsyncExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import click

from smscenter.cli._common import (
    _jsonable,
    _mcon_option,
    _reports_errors,
    _run,
    _state,
    _stop_on_signal,
    _target,
    _until,
)
from smscenter.cli.settings import Settings
from smscenter.models import DeliveryReport, IncomingMessage, MessageStatus

__all__ = ("listen",)


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


@click.command()
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
