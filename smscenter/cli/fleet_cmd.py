"""Fleet mode in the CLI: ``smscenter worker --redis URL``, ``bulk SOURCE --redis URL`` (enqueue)
and ``report --redis URL`` (a campaign's progress from any machine).

Every machine points at the same Redis server; the provider login (``--login``) names the keys
(``smsc:{<login>}:...``), so one server can serve several logins. Registered on the
``smscenter`` group by :mod:`smscenter.cli.app`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import timedelta
from typing import Any, TextIO

import anyio
import click

from smscenter.cli._common import (
    _console,
    _err_console,
    _Interrupts,
    _print_json,
    _reports_errors,
    _run,
    _state,
    _summary_table,
    _target,
)
from smscenter.models import Message

__all__ = (
    "enqueue_campaign",
    "queue_rows",
    "redis_option",
    "source_messages",
    "worker",
)


#: ``--redis URL`` (also ``$SMSC_REDIS_URL``), shared by the fleet verbs.
redis_option = click.option(
    "--redis",
    "redis_url",
    envvar="SMSC_REDIS_URL",
    metavar="URL",
    help="Redis server of the fleet (redis://host:6379/0) [env SMSC_REDIS_URL].",
)
#: The queue the CLI verbs use (``WorkQueue(name=...)`` for others, programmatically).
QUEUE = "outbox"


def _login() -> str:
    """The login whose keys the fleet verbs use (``--login`` or ``SMSC_LOGIN``; no password
    is needed to queue a campaign or read its progress)."""
    state = _state()
    # The login alone names the keys: no password needed (one is asked for only to send).
    login = state.flags.get("login") or os.environ.get("SMSC_LOGIN")
    if not login:
        credentials = state.settings().credentials  # the config file's
        login = credentials.login if credentials is not None else None
    if not login:
        raise click.UsageError("fleet mode needs --login (the Redis keys are per login)")
    return str(login)


def source_messages(
    source: TextIO, name: str, template: str | None, sender: str | None
) -> list[Message]:
    """The messages of a bulk SOURCE, each with its client id: the row's ``id`` (or
    ``client_id``) column, else ``<file name>-<row>`` (the same on every run of the same file,
    so enqueuing it again queues nothing twice), as ``bulk --store`` gives them."""
    from smscenter.cli.bulk import read_recipients
    from smscenter.cli.bulk_store import with_client_ids

    recipients = with_client_ids(read_recipients(source, template=template), name)
    return [
        Message(to=r.phone, text=r.text, sender=sender, client_id=r.client_id) for r in recipients
    ]


def enqueue_campaign(redis_url: str, messages: Iterable[Message], queue_name: str = QUEUE) -> None:
    """``bulk SOURCE --redis URL``: queue every message (idempotent by client id) and print
    what was queued and what the store already knew."""
    from smscenter.fleet import WorkQueue
    from smscenter.store.redis import RedisStore

    login = _login()

    async def main() -> Any:
        async with RedisStore(redis_url, login=login) as store:
            queue = WorkQueue(store, name=queue_name)
            result = await queue.enqueue(messages)
            return result, await queue.progress()

    result, progress = _run(main)
    rows: list[tuple[str, object]] = [
        ("queued now", result.queued),
        ("known before (not queued again)", result.known),
        ("waiting in the queue", progress.waiting),
        ("taken by workers", progress.taken),
    ]
    _console().print(_summary_table(f"enqueued to {queue_name}", rows))
    _err_console().print("start workers with: smscenter worker --redis URL (any machine)")


def queue_rows(progress: Any) -> list[tuple[str, object]]:
    """The queue's lines of a report."""
    rows: list[tuple[str, object]] = [
        ("waiting in the queue", progress.waiting),
        ("taken by workers", progress.taken),
    ]
    rows += [(f"  worker {name}", held) for name, held in sorted(progress.consumers.items())]
    return rows


@click.command()
@redis_option
@click.option(
    "--binds",
    type=click.IntRange(1, 9),
    default=1,
    show_default=True,
    help="SMPP binds of this worker (each holds one of the fleet's --mcon bind slots).",
)
@click.option(
    "--mcon",
    type=click.IntRange(1, 9),
    default=1,
    show_default=True,
    help="The account's MCONn: binds of the login across the whole fleet.",
)
@click.option(
    "--window",
    type=click.IntRange(1, 10_000),
    default=50,
    show_default=True,
    help="SMPP requests in flight per bind.",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0, min_open=True),
    default=25.0,
    show_default=True,
    help="Message parts per second of the whole fleet, counted on the Redis server's clock "
    "(with the fleet's small burst on top: 25 keeps under the provider's default 30).",
)
@click.option(
    "--batch",
    type=click.IntRange(1, 10_000),
    default=100,
    show_default=True,
    help="Messages a worker takes from the queue at once (per lane; two lanes).",
)
@click.option(
    "--claim-idle",
    type=click.FloatRange(0.1),
    default=60.0,
    show_default=True,
    help="Seconds after which the entries of a worker that stopped are taken over.",
)
@click.option(
    "--until-empty", is_flag=True, help="Exit once the queue is empty (all entries done)."
)
@click.option(
    "--resend-unknown",
    is_flag=True,
    help="Also resend messages of unknown outcome (they may be delivered twice).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the worker's counts as JSON.")
@_reports_errors
def worker(
    redis_url: str | None,
    binds: int,
    mcon: int,
    window: int,
    rate: float,
    batch: int,
    claim_idle: float,
    until_empty: bool,
    resend_unknown: bool,
    as_json: bool,
) -> None:
    """Send a campaign's messages from the fleet's work queue (run one or more per machine).

    Takes messages that `bulk SOURCE --redis URL` queued, sends them over SMPP and records
    every outcome and receipt in the Redis message store; a message is acknowledged in the
    queue only once its outcome is stored. Entries of a worker that stopped are taken over
    after --claim-idle seconds; its messages that may have gone out are marked unknown, never
    resent (unless --resend-unknown). Ctrl-C (SIGTERM) finishes the messages in hand and exits.
    """
    if redis_url is None:
        raise click.UsageError("give the fleet's Redis server: --redis URL (or SMSC_REDIS_URL)")
    state = _state()
    settings = state.settings()
    credentials = settings.require_credentials()
    login = _login()
    state.target = _target(settings, "smpp")
    interrupts = _Interrupts(anyio.Event())

    async def main() -> Any:
        from smscenter.config import Limits, SMPPOptions, Timeouts
        from smscenter.fleet import Fleet, WorkQueue, tuned_gc
        from smscenter.fleet.worker import run_worker
        from smscenter.smpp.client.pool import SMPPPool
        from smscenter.store.redis import RedisStore

        host, port = settings.smpp_address()
        if binds > mcon:
            raise click.UsageError(f"--binds {binds} exceeds the fleet's --mcon {mcon}")
        async with (
            RedisStore(redis_url, login=login) as store,
            Fleet(redis_url, login=login, rate=rate, mcon=mcon) as fleet,
            SMPPPool(
                host,
                port,
                credentials,
                limits=Limits(connections=binds, window=window, max_rate=None),
                timeouts=Timeouts(pool=600),
                tls=settings.smpp_tls,
                options=SMPPOptions(read_ahead=2 * batch),
                store=store,
                fleet=fleet,
            ) as pool,
            anyio.create_task_group() as group,
        ):
            await group.start(interrupts.watch, group.cancel_scope)
            queue = WorkQueue(store, name=QUEUE, claim_idle=timedelta(seconds=claim_idle))
            # An application's entry point: its set-up done, settle the collector (freeze
            # what lives as long as the process, fewer young collections).
            with tuned_gc():
                stats = await run_worker(
                    pool,
                    queue,
                    batch=batch,
                    until_empty=until_empty,
                    resend_unknown=resend_unknown,
                    stop=interrupts.stop,
                )
            group.cancel_scope.cancel()
            return stats

    stats = _run(main)
    data = {
        "taken": stats.taken,
        "claimed": stats.claimed,
        "accepted": stats.accepted,
        "already_done": stats.already_done,
        "unknown": stats.unknown,
        "failed": stats.failed,
        "elsewhere": stats.elsewhere,
        "acknowledged": stats.acknowledged,
        "store_errors": stats.store_errors,
        "pool_store_errors": stats.pool_store_errors,
    }
    if as_json:
        _print_json(dict(data))
        return
    _console().print(_summary_table(f"worker on {QUEUE}", list(data.items())))
