"""Fleet mode in the CLI against a real redis-server: ``bulk SOURCE --redis`` queues a
campaign once, ``worker --redis`` sends it through the simulator and records every outcome."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import anyio
from click.testing import Result

from smscenter.fleet import WorkQueue
from smscenter.store import TrackedState
from smscenter.store.redis import RedisStore

from .conftest import SimThread


def _campaign(tmp_path: Path, count: int) -> Path:
    source = tmp_path / "spring sale.csv"
    rows = "".join(f"+7999{i:07d}\n" for i in range(count))
    source.write_text("phone\n" + rows, encoding="utf-8")
    return source


def _read(url: str, login: str) -> tuple[dict[TrackedState, int], int, list[str]]:
    async def read() -> tuple[dict[TrackedState, int], int, list[str]]:
        async with RedisStore(url, login=login) as store:
            ids = [r.client_id async for r in store.records(limit=3)]
            progress = await WorkQueue(store).progress()
            return dict(await store.counts()), progress.remaining, ids

    return anyio.run(read, backend="asyncio")


def test_bulk_redis_queues_a_campaign_once(
    run: Callable[..., Result], redis_url: str, tmp_path: Path
) -> None:
    source = _campaign(tmp_path, 5)
    env = {"SMSC_LOGIN": "acme"}  # the login names the keys; queuing needs no password
    args = ("bulk", str(source), "--text", "Sale {phone}", "--redis", redis_url)
    first = run(*args, env=env)
    assert first.exit_code == 0, first.output
    assert "queued now" in first.output
    again = run(*args, env=env)
    assert again.exit_code == 0, again.output
    counts, remaining, ids = _read(redis_url, "acme")
    assert counts == {TrackedState.QUEUED: 5} and remaining == 5
    assert ids == ["spring_sale-1", "spring_sale-2", "spring_sale-3"]


def test_worker_sends_the_queue_and_records_every_outcome(
    run: Callable[..., Result], redis_url: str, tmp_path: Path, sim_thread: SimThread
) -> None:
    env = sim_thread.env
    source = _campaign(tmp_path, 40)
    queued = run("bulk", str(source), "--text", "Sale {phone}", "--redis", redis_url, env=env)
    assert queued.exit_code == 0, queued.output
    args = ("worker", "--redis", redis_url, "--rate", "1000", "--until-empty", "--json")
    done = run(*args, env=env)
    assert done.exit_code == 0, done.output
    stats = json.loads(done.output.strip().splitlines()[-1])
    assert stats["accepted"] == 40 and stats["acknowledged"] == 40
    counts, remaining, _ = _read(redis_url, "demo")
    assert remaining == 0
    assert sum(counts.values()) == 40
    assert all(state.was_accepted for state in counts)
    assert sim_thread.call(lambda: len(sim_thread.sim.sent)) == 40
    # Run again: nothing left to send, nothing sent twice.
    again = run(*args, env=env)
    assert json.loads(again.output.strip().splitlines()[-1])["taken"] == 0
    assert sim_thread.call(lambda: len(sim_thread.sim.sent)) == 40
    # The campaign's progress, from any machine: the store's states and the queue.
    report = run("report", "--redis", redis_url, "--json", env=env)
    assert report.exit_code == 0, report.output
    data = json.loads(report.output)
    assert data["total"] == 40 and data["accepted"] == 40 and data["failures"] == 0
    assert data["queue"] == {"waiting": 0, "taken": 0, "workers": {}}
    table = run("report", "--redis", redis_url, env=env)
    assert table.exit_code == 0 and "waiting in the queue" in table.output and "40" in table.output


def test_report_redis_needs_one_source(run: Callable[..., Result], redis_url: str) -> None:
    env = {"SMSC_LOGIN": "acme"}
    both = run("report", "--redis", redis_url, "--store", "x.db", env=env)
    assert both.exit_code != 0 and "--store PATH or --redis URL (one)" in both.output
    empty = run("report", "--redis", redis_url, "--json", env=env)
    assert empty.exit_code == 0, empty.output
    assert json.loads(empty.output)["total"] == 0  # nothing queued: an empty campaign
