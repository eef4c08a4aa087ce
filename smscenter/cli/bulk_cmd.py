"""The ``bulk`` command: send to every row of a CSV file, with live progress, a result file, a
message store to resume from, and a summary table.

Preparing the run and carrying it (the store, the transports) is :mod:`smscenter.cli.bulk_run`;
reading the file and counting is :mod:`smscenter.cli.bulk`. Registered on the ``smscenter``
group by :mod:`smscenter.cli.app`.
"""

from __future__ import annotations

import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from smscenter._gc import tuned_gc
from smscenter.cli import bulk as bulk_mod
from smscenter.cli._common import (
    EXIT_INCOMPLETE,
    EXIT_INTERRUPTED,
    _console,
    _err_console,
    _fail,
    _Interrupts,
    _mcon_option,
    _reports_errors,
    _run,
    _state,
    _summary_table,
    _target,
)
from smscenter.cli.bulk_run import _bulk_job, _export, _plan_over_store, _settle, _Tracking
from smscenter.cli.bulk_store import default_store_path
from smscenter.cli.errors import explain
from smscenter.cli.settings import scrub

__all__ = ("bulk",)


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


@click.command()
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
                        # A long send in a process of its own: the collector set for it, as
                        # `smscenter worker` does (smscenter.fleet.tuned_gc).
                        with tuned_gc():
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
