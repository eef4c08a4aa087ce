"""How the ``bulk`` command prepares and carries a run: planning it over the message store (or
settling an earlier result file's rows of unknown outcome through status.php), the transports
that send it (HTTP or an SMPP pool), and the result file rewritten from the store afterwards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import click
from rich.console import Console

from smscenter.cli import bulk as bulk_mod
from smscenter.cli._common import _Interrupts, _run, _state, _target
from smscenter.cli.bulk_store import (
    describe_client_ids,
    export_results,
    load_records,
    plan_from_store,
    read_store,
    with_client_ids,
)
from smscenter.cli.settings import Settings, scrub
from smscenter.exceptions import SMSCenterError
from smscenter.store import MessageStore

__all__ = ()


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
