"""The one-message verbs over HTTP: ``send``, ``cost``, ``status`` and ``balance``.

Registered on the ``smscenter`` group by :mod:`smscenter.cli.app`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from smscenter.cli._common import (
    _client,
    _console,
    _kv_table,
    _print_json,
    _reports_errors,
    _run,
    _state,
)
from smscenter.models import DeliveryReport, Message, MessageKind

__all__ = ("balance", "cost", "send", "status")

P = ParamSpec("P")
T = TypeVar("T")


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


@click.command()
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


@click.command()
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


@click.command()
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


@click.command()
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
