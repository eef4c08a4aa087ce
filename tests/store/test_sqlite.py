"""SQLiteStore's own behaviour: the file, its settings, disk errors, group commit."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import anyio
import pytest

from smscenter import DeliveryReport, MessageStatus, Transport
from smscenter.store import NotTrackedError, PlannedSend, SQLiteStore, StoreError, TrackedState


def send(client_id: str) -> PlannedSend:
    return PlannedSend(client_id=client_id, recipient="79001234567", transport=Transport.SMPP)


def test_sqlite_store_loads_on_first_use() -> None:
    probe = (
        "import sys, smscenter.store; print('aiosqlite' in sys.modules);"
        "smscenter.store.SQLiteStore; print('aiosqlite' in sys.modules)"
    )
    out = subprocess.run(
        [__import__("sys").executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "True"]


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="synchronous"):
        SQLiteStore("x.db", synchronous="OFF")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="retention"):
        SQLiteStore("x.db", retention=timedelta(0))


@pytest.mark.parametrize("synchronous", ["FULL", "NORMAL"])
async def test_the_file_is_wal_with_the_asked_durability(tmp_path: Path, synchronous: str) -> None:
    path = tmp_path / "s.sqlite3"
    async with SQLiteStore(path, synchronous=synchronous) as store:  # type: ignore[arg-type]
        assert store.path == path
        await store.prepare([send("a")])
        writer = store._writer  # the one writer connection (its thread idles now)
        assert writer is not None
        row = writer.db.execute("PRAGMA synchronous").fetchone()
        assert row[0] == {"FULL": 2, "NORMAL": 1}[synchronous]
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT state, cost FROM messages").fetchall() == [("unknown", None)]


async def test_concurrent_writes_share_commits(tmp_path: Path) -> None:
    async with SQLiteStore(tmp_path / "s.sqlite3") as store:
        keys = [str(i) for i in range(300)]
        await store.prepare([send(k) for k in keys])
        before = store.commits
        async with anyio.create_task_group() as tg:
            for k in keys:
                report = DeliveryReport(
                    message_id=f"1{k}", status=MessageStatus.DELIVERED, client_id=k, phone=k
                )
                tg.start_soon(store.record, report)
        # 300 calls, each durable when it returns, in far fewer transactions.
        assert store.commits - before < 100
        assert (await store.counts()) == {TrackedState.DELIVERED: 300}


async def test_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "no" / "such" / "dir" / "s.sqlite3"
    with pytest.raises(StoreError) as caught:
        async with SQLiteStore(path):
            pass
    assert str(path) in str(caught.value)
    assert "cannot open" in str(caught.value)


async def test_an_sqlite_too_old_for_the_store_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Python's sqlite3 uses the system's SQLite on many Linux systems (3.37 on Ubuntu 22.04),
    # older than the JSON operators the store's writes use: a clear error before any file.
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 37, 2))
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.37.2")
    path = tmp_path / "s.sqlite3"
    for read_only in (False, True):
        with pytest.raises(StoreError, match=r"needs SQLite 3\.38\.0 or newer") as caught:
            async with SQLiteStore(path, read_only=read_only):
                pass
        assert "uses SQLite 3.37.2" in str(caught.value)
        assert str(path) in str(caught.value)
    assert not path.exists()


async def test_a_file_that_is_no_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    path.write_bytes(b"this is a CSV, not a store\n" * 200)
    with pytest.raises(StoreError, match="not a valid SQLite database") as caught:
        async with SQLiteStore(path):
            pass
    assert str(path) in str(caught.value)


async def test_another_sqlite_file_is_not_taken_for_a_store(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER)")
        db.execute("INSERT INTO meta VALUES ('schema', 99)")
    with pytest.raises(StoreError, match="schema 99"):
        async with SQLiteStore(path):
            pass


async def test_read_only_mode_reads_and_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    async with SQLiteStore(path) as store:
        await store.prepare([send("a")])
        await store.settle([])
        async with SQLiteStore(path, read_only=True) as viewer:
            assert (await viewer.get("a")).state is TrackedState.SENDING
            with pytest.raises(StoreError, match="read-only"):
                await viewer.prepare([send("b")])
            with pytest.raises(StoreError, match="read-only"):
                await viewer.purge(older_than=timedelta(0))
    with pytest.raises(StoreError, match="no such file"):
        async with SQLiteStore(tmp_path / "missing.sqlite3", read_only=True):
            pass


@pytest.fixture
def immutable() -> Iterator[list[Path]]:
    """Paths made immutable with ``chattr +i`` (root cannot write them either: chmod would not
    stop root), made mutable again afterwards."""
    if shutil.which("chattr") is None:
        pytest.skip("no chattr here")
    marked: list[Path] = []
    yield marked
    for path in marked:
        subprocess.run(["chattr", "-i", str(path)], check=False)  # again: a failed test


def _chattr(path: Path, marked: list[Path]) -> None:
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    if done.returncode:
        pytest.skip(f"chattr +i does not work here: {done.stderr.decode().strip()}")
    marked.append(path)


async def test_a_read_only_file_is_a_clear_error_and_nothing_is_taken(
    tmp_path: Path, immutable: list[Path]
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "s.sqlite3"
    async with SQLiteStore(path) as store:
        await store.prepare([send("a")])
        await store.settle([])
    # The file and its folder (where the WAL and shared-memory files go) both immutable.
    for marked in (path, folder):
        _chattr(marked, immutable)
    with pytest.raises(StoreError) as caught:
        async with SQLiteStore(path) as store:
            await store.prepare([send("b")])
    message = str(caught.value)
    assert str(path) in message
    assert "read-only" in message or "cannot open" in message
    for marked in immutable:
        await anyio.run_process(["chattr", "-i", str(marked)])
    async with SQLiteStore(path) as store:
        with pytest.raises(NotTrackedError):
            await store.get("b")


async def test_a_read_only_file_fails_the_write_not_the_reads(
    tmp_path: Path, immutable: list[Path]
) -> None:
    path = tmp_path / "s.sqlite3"
    async with SQLiteStore(path) as store:
        await store.prepare([send("a")])
        _chattr(path, immutable)
        # The open connection keeps reading; a write now cannot reach the file... on Linux an
        # open descriptor still writes, so open a new store on the file instead.
        with pytest.raises(StoreError) as caught:
            async with SQLiteStore(path) as other:
                await other.prepare([send("b")])
        assert str(path) in str(caught.value)
        assert "read-only" in str(caught.value)
        assert (await store.get("a")).state is TrackedState.SENDING


async def test_a_full_disk_fails_the_whole_batch(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    async with SQLiteStore(path, max_bytes=96 * 1024) as store:
        recorded = 0
        with pytest.raises(StoreError) as caught:
            for batch in range(1000):
                keys = [f"{batch}-{i}-{'x' * 40}" for i in range(50)]
                await store.prepare([send(k) for k in keys])
                recorded = batch + 1
        message = str(caught.value)
        assert str(path) in message and "full" in message and "max_bytes" in message
        assert 0 < recorded < 1000
        counts = await store.counts()
        # Every batch that returned is there, the failed one not at all.
        assert counts == {TrackedState.SENDING: recorded * 50}
        for i in range(50):
            with pytest.raises(NotTrackedError):
                await store.get(f"{recorded}-{i}-{'x' * 40}")
        # The store keeps working for what fits (reads, small writes after a purge).
        assert await store.purge(older_than=timedelta(0)) == recorded * 50
        assert await store.prepare([send("after")]) == [None]


async def test_retention_applies_when_the_store_opens(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    async with SQLiteStore(path) as store:
        await store.prepare([send("old")])
        await store.record(
            DeliveryReport(message_id="77", status=MessageStatus.DELIVERED, phone="1")
        )  # never matched
    async with SQLiteStore(path, retention=timedelta(days=1)) as store:
        assert (await store.get("old")).state is TrackedState.UNKNOWN  # young enough
    async with SQLiteStore(path, retention=timedelta(microseconds=1)) as store:
        assert await store.counts() == {}
        await store.prepare([send("new")])
        await store.settle([])
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM reports").fetchone() == (0,)
    async with SQLiteStore(path, retention=None) as store:
        assert list(await store.counts()) == [TrackedState.UNKNOWN]


async def test_a_lock_held_past_busy_timeout_fails_the_batch_whole(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    async with SQLiteStore(path, busy_timeout=0.2) as store:
        await store.prepare([send("a")])
        other = sqlite3.connect(path, isolation_level=None)  # another process's writer
        try:
            other.execute("BEGIN IMMEDIATE")
            failed = await asyncio.gather(
                store.prepare([send("b")]),
                store.record(DeliveryReport(message_id="1", status=DONE)),
                return_exceptions=True,
            )
            for error in failed:
                assert isinstance(error, StoreError)
                assert str(path) in str(error) and "busy_timeout" in str(error)
            assert failed[0] is not failed[1]  # each caller its own exception
            other.execute("ROLLBACK")
        finally:
            other.close()
        with pytest.raises(NotTrackedError):
            await store.get("b")
        # Free again: the same calls now go through.
        assert await store.prepare([send("b")]) == [None]


DONE = MessageStatus.DELIVERED


async def test_a_report_refused_by_a_full_disk_is_recorded_when_it_comes_again(
    tmp_path: Path,
) -> None:
    async with SQLiteStore(tmp_path / "s.sqlite3", max_bytes=64 * 1024) as store:
        await store.prepare([send("a")])
        await store.settle([])
        with pytest.raises(StoreError, match="full"):
            for filler in range(1000):
                await store.prepare([send(f"fill-{filler}-{i}-{'x' * 60}") for i in range(40)])
        report = DeliveryReport(message_id="5", status=DONE, client_id="a", phone="1")
        big = [
            DeliveryReport(message_id=f"{n}", status=DONE, phone="1" * 60) for n in range(6, 400)
        ]
        with pytest.raises(StoreError, match="full"):
            await store.record(report, *big)
        record = await store.get("a")
        assert record.reports == () and record.state is TrackedState.SENDING
        await store.purge(older_than=timedelta(0))
        await store.prepare([send("a")])
        await store.record(report)  # the SMSC sends it again: now it lands, once
        await store.record(report)
        record = await store.get("a")
        assert len(record.reports) == 1 and record.state is TrackedState.DELIVERED


async def test_a_queued_record_goes(tmp_path: Path) -> None:
    # QUEUED records come from a queue that records messages before any transport has them;
    # here one is written as such a queue would.
    path = tmp_path / "s.sqlite3"
    async with SQLiteStore(path) as store:
        await store.prepare([send("q")])
        await store.settle([])
    with sqlite3.connect(path) as db:
        db.execute("UPDATE messages SET state = 'queued', attempts = 0, owner = NULL")
    async with SQLiteStore(path) as store:
        assert (await store.get("q")).state is TrackedState.QUEUED
        assert await store.prepare([send("q")]) == [None]
        record = await store.get("q")
        assert (record.state, record.attempts) == (TrackedState.SENDING, 1)


async def test_wrong_items_fail_their_own_call_not_the_batch(tmp_path: Path) -> None:
    async with SQLiteStore(tmp_path / "s.sqlite3") as store:
        results = await asyncio.gather(
            store.prepare(["a"]),  # type: ignore[list-item]
            store.prepare([send("b")]),
            store.settle([send("b")]),  # type: ignore[list-item]
            store.record(send("b")),  # type: ignore[arg-type]
            return_exceptions=True,
        )
        assert [type(r).__name__ for r in results] == [
            "TypeError",
            "list",
            "TypeError",
            "TypeError",
        ]
        assert (await store.get("b")).state is TrackedState.SENDING


async def test_retention_runs_again_while_the_store_is_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import smscenter.store.sqlite as module

    monkeypatch.setattr(module, "_RETENTION_EVERY", 0.05)  # an hour, shortened
    async with SQLiteStore(tmp_path / "s.sqlite3", retention=timedelta(milliseconds=1)) as store:
        await store.prepare([send("a")])
        for _ in range(500):  # bounded: 10 s at most
            if not await store.counts():
                break
            await anyio.sleep(0.02)
        with pytest.raises(NotTrackedError):
            await store.get("a")
