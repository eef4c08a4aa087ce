"""The ``report`` command, and the ``--store`` side of ``status``: a campaign read from its
message store (:mod:`smscenter.cli.track` does the reading and the tables).

Registered on the ``smscenter`` group by :mod:`smscenter.cli.app`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from smscenter.cli import track
from smscenter.cli._common import _console, _print_json, _reports_errors, _run, _summary_table
from smscenter.cli.fleet_cmd import QUEUE, queue_rows
from smscenter.cli.fleet_cmd import _login as fleet_login
from smscenter.store import TrackedMessage

__all__ = ("report", "show_store_status")


_store_path = click.Path(dir_okay=False, path_type=Path)
# The fleet verbs' --redis (smscenter.cli.fleet_cmd.redis_option), with help that says what
# report reads there.
_redis_option = click.option(
    "--redis",
    "redis_url",
    envvar="SMSC_REDIS_URL",
    metavar="URL",
    help="Read the fleet's store and queue on this Redis server instead "
    "(redis://host:6379/0) [env SMSC_REDIS_URL].",
)


@click.command()
@click.option(
    "--store",
    "store_path",
    type=_store_path,
    help="The message store file (bulk writes SOURCE.smsc.db by default).",
)
@_redis_option
@click.option(
    "--failures",
    type=click.IntRange(0),
    default=10,
    show_default=True,
    help="How many failed, refused or unknown messages to list.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_reports_errors
def report(store_path: Path | None, redis_url: str | None, failures: int, as_json: bool) -> None:
    """Summarise a campaign from its message store: messages by state, cost, failures.

    Reads the store that `bulk --store` (or a program given `store=`) wrote, or with --redis
    the fleet's store and work queue (`bulk --redis`, `worker`); sends nothing. The failures
    listed are the first (oldest) messages refused, failed, of unknown outcome, expired or
    undeliverable, with their client id, recipient and error.
    """
    if (store_path is None) == (redis_url is None):
        raise click.UsageError("give the store to read: --store PATH or --redis URL (one)")
    if redis_url is not None:
        _report_fleet(redis_url, failures, as_json)
        return
    assert store_path is not None
    opened = track.open_store(store_path)

    async def main() -> track.CampaignSummary:
        async with opened as store:
            return await track.summarize(store, failures=failures)

    summary = _run(main)
    if as_json:
        _print_json(track.summary_json(summary, store_path))
        return
    _console().print(track.render_summary(summary, title=f"campaign in {store_path}"))


def _report_fleet(redis_url: str, failures: int, as_json: bool) -> None:
    """``report --redis URL``: the fleet's store (the login's keys) and its queue."""
    login = fleet_login()

    async def main() -> tuple[track.CampaignSummary, Any]:
        from smscenter.fleet import WorkQueue
        from smscenter.store.redis import RedisStore

        # A report changes nothing: no retention run (nor the settings check's warnings).
        async with RedisStore(redis_url, login=login, retention=None, check_config=False) as store:
            summary = await track.summarize(store, failures=failures)
            return summary, await WorkQueue(store, name=QUEUE).progress()

    summary, progress = _run(main)
    if as_json:
        data = track.summary_json(summary, Path(redis_url))
        data["store"] = f"redis {login}"
        data["queue"] = {
            "waiting": progress.waiting,
            "taken": progress.taken,
            "workers": dict(progress.consumers),
        }
        _print_json(data)
        return
    console = _console()
    console.print(track.render_summary(summary, title=f"campaign of {login} in Redis"))
    console.print(_summary_table(f"queue {QUEUE}", queue_rows(progress)))


def show_store_status(store_path: Path, client_id: str | None, as_json: bool) -> None:
    """``status --store PATH [CLIENT_ID]``: one record with its reports, or the counts by
    state (without the failures list: ``report`` has it)."""
    opened = track.open_store(store_path)
    if client_id is None:

        async def counts() -> track.CampaignSummary:
            async with opened as store:
                return await track.summarize(store, failures=0)

        summary = _run(counts)
        if as_json:
            data = track.summary_json(summary, store_path)
            del data["first_failures"]
            _print_json(data)
            return
        _console().print(track.render_summary(summary, title=f"{store_path}", with_failures=False))
        return

    async def one() -> TrackedMessage:
        async with opened as store:
            return await store.get(client_id)

    record = _run(one)
    if as_json:
        _print_json(track.record_json(record))
        return
    _console().print(track.render_record(record))
