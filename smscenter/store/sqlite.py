"""The embedded message store: one SQLite file.

See :class:`SQLiteStore`. The tables are described in :mod:`._sqlite_schema`; the writes run
in a thread of their own (:mod:`._sqlite_writer`), one write transaction (group commit, its
decisions made in SQL) in :mod:`._sqlite_tx` (its rows rendered in :mod:`._sqlite_rows`), the
maintenance writes (recover, release, purge) in :mod:`._sqlite_maintain`; the reads (on
aiosqlite) in :mod:`._sqlite_reads`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import urllib.parse
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import aiosqlite

from smscenter.models import DeliveryReport
from smscenter.store._model import (
    PlannedSend,
    Settlement,
    StoreError,
    TrackedMessage,
)
from smscenter.store._owner import OwnerCheck, new_owner_token
from smscenter.store._sqlite_maintain import Maintenance
from smscenter.store._sqlite_reads import SQLiteReads
from smscenter.store._sqlite_schema import (
    SCHEMA,
    SCHEMA_VERSION,
)
from smscenter.store._sqlite_tx import PrepareCall, RecordCall, SettleCall
from smscenter.store._sqlite_writer import Pending, WriterThread

__all__ = ("SQLiteStore",)

logger = logging.getLogger(__name__)

# How often retention runs in a long-lived store (besides at open).
_RETENTION_EVERY = 3600.0
#: The oldest SQLite the store runs on (the JSON operators ``->>``, SQLite 3.38.0).
MIN_SQLITE = (3, 38, 0)


class SQLiteStore(SQLiteReads):
    """The embedded :class:`~smscenter.store.MessageStore`: one SQLite file (WAL mode).

    ::

        async with SQLiteStore("campaign.sqlite3") as store:
            async with SMPPPool(..., store=store) as pool:
                ...

    :param path: the database file (created, with its tables, if missing).
    :param retention: records that have not changed for this long, and unmatched reports as
        old, are deleted when the store opens and then about once an hour while it is open;
        ``None`` keeps everything (call :meth:`purge` yourself). Default 30 days: longer than
        a receipt can come (the provider's message validity is at most a few days).
    :param synchronous: SQLite's ``synchronous`` setting. ``"FULL"`` (default) makes every
        commit durable through a power loss; ``"NORMAL"`` survives a crash of the process but
        may lose the last commits on a power loss or OS crash, for fewer disk flushes.
    :param busy_timeout: seconds a write waits for another process's transaction on the same
        file before it fails with :class:`StoreError`.
    :param poll_interval: seconds between looks at the file for changes made by other
        processes, in :meth:`changes` (this process's own writes wake it at once).
    :param read_only: open the file read-only (a report viewer): writes raise
        :class:`StoreError`. The file must exist.
    :param max_bytes: a cap on the file's size (SQLite's ``max_page_count``): past it writes
        fail with :class:`StoreError`, as on a full disk.

    Writes are group-committed: the ``prepare`` / ``settle`` / ``record`` calls that arrive
    while a transaction runs are applied together in the next one, with one commit (and one
    disk flush) for all of them; each call returns once its transaction committed. When a
    transaction fails (a full disk, a read-only file, a lock held too long by another process)
    every call in it raises :class:`StoreError` and none of it is recorded.

    One file serves one host: several processes on the host may share it (SQLite serialises
    their writes; each sees the others' changes), but WAL mode needs shared memory, so never
    put it on a network filesystem; a fleet of hosts uses a server store. A record left in
    ``SENDING`` by a process that stopped (checked by its process id and start time) is read
    as ``UNKNOWN``; one held by a live process stays ``SENDING`` and :meth:`prepare` will not
    hand it out again.

    Asyncio only (aiosqlite runs each connection in a thread).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        retention: timedelta | None = timedelta(days=30),
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
        busy_timeout: float = 5.0,
        poll_interval: float = 0.2,
        read_only: bool = False,
        max_bytes: int | None = None,
    ) -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError('synchronous must be "FULL" or "NORMAL"')
        if retention is not None and retention <= timedelta(0):
            raise ValueError("retention must be positive (or None to keep everything)")
        self._path = Path(path)
        self._retention = retention
        self._synchronous = synchronous
        self._busy_timeout = busy_timeout
        self._poll_interval = poll_interval
        self._read_only = read_only
        self._max_bytes = max_bytes
        self._owners = OwnerCheck(new_owner_token())
        self._writer: WriterThread | None = None
        self._reader: aiosqlite.Connection | None = None
        self._changed = asyncio.Event()
        self._retention_task: asyncio.Task[None] | None = None
        # Client ids this store claimed and has not settled (touched in the writer thread).
        self._in_flight: set[str] = set()
        self._commits = 0
        self._opened = False
        self._closed = False
        self._closing = False
        self._open_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self._path)!r})"

    @property
    def commits(self) -> int:
        """How many write transactions this store committed (a measure of group commit: far
        fewer than the calls when many writers wait at once)."""
        return self._commits

    # --- life cycle -----------------------------------------------------------------------

    async def open(self) -> SQLiteStore:
        """Open the file (creating tables as needed), read records of stopped senders as
        ``UNKNOWN``, apply retention. ``async with`` calls it; calling it again does nothing.

        :raises StoreError: the file cannot be opened or written (the message says why).
        """
        async with self._open_lock:
            if self._closed:
                raise StoreError(f"message store {self._path}: closed")
            if self._opened:
                return self
            try:
                await self._connect()
            except BaseException:
                await self._close_connections()
                raise
            self._opened = True
            if self._writer is not None and self._retention is not None:
                self._retention_task = asyncio.create_task(self._retention_loop())
        if self._writer is not None:
            await self._submit(Maintenance("recover"), 1)
            if self._retention is not None:
                await self._submit(Maintenance("purge", self._retention), 1)
        return self

    async def _connect(self) -> None:
        if sqlite3.sqlite_version_info < MIN_SQLITE:
            # (its writes read JSON with ->>: say so, not fail on the syntax of a trigger)
            raise StoreError(
                f"message store {self._path}: needs SQLite "
                f"{'.'.join(map(str, MIN_SQLITE))} or newer; this Python's sqlite3 module "
                f"uses SQLite {sqlite3.sqlite_version}"
            )
        try:
            if self._read_only:
                if not self._path.exists():
                    raise StoreError(f"message store {self._path}: no such file")
                uri = f"file:{urllib.parse.quote(str(self._path.absolute()))}?mode=ro"
                self._reader = await self._connect_one(uri, uri=True)
                await self._reader.execute(f"PRAGMA busy_timeout = {self._ms}")
                found = list(await self._reader.execute_fetchall(_SCHEMA_OF))
                self._check_schema(found[0][0] if found else None)
                return
            db = await asyncio.to_thread(self._open_writer)
            try:
                self._writer = WriterThread(
                    db, self._owners, self._in_flight, self._finish, f"{self!r} writer"
                )
            except BaseException:
                db.close()
                raise
            self._reader = await self._connect_one(str(self._path))
            await self._reader.execute(f"PRAGMA busy_timeout = {self._ms}")
            await self._reader.execute("PRAGMA query_only = 1")
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    def _open_writer(self) -> sqlite3.Connection:
        """The writing connection, its settings and the tables (in a worker thread)."""
        db = sqlite3.connect(
            self._path, isolation_level=None, timeout=self._busy_timeout, check_same_thread=False
        )
        try:
            db.execute(f"PRAGMA busy_timeout = {self._ms}")
            mode = db.execute("PRAGMA journal_mode = WAL").fetchone()
            if mode is None or str(mode[0]).lower() != "wal":
                raise StoreError(
                    f"message store {self._path}: cannot use WAL mode (journal mode "
                    f"{mode[0] if mode else '?'}): is the file on a filesystem without "
                    "shared memory, or read-only?"
                )
            db.execute(f"PRAGMA synchronous = {self._synchronous}")
            if self._max_bytes is not None:
                page = db.execute("PRAGMA page_size").fetchone()
                pages = max(1, self._max_bytes // (page[0] if page else 4096))
                db.execute(f"PRAGMA max_page_count = {pages}")
            # One transaction, so that processes opening a new file at once create it once.
            db.execute("BEGIN IMMEDIATE")
            try:
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?)",
                    (SCHEMA_VERSION,),
                )
                found = db.execute(_SCHEMA_OF).fetchone()
                self._check_schema(found[0] if found else None)
                db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
                raise
        except BaseException:
            db.close()
            raise
        return db

    async def _connect_one(self, target: str, *, uri: bool = False) -> aiosqlite.Connection:
        # Opened once in a plain thread first: when aiosqlite's own open fails it leaves its
        # worker thread to finish after the call returned, which may outlive the event loop.
        def probe() -> None:
            sqlite3.connect(target, uri=uri, timeout=self._busy_timeout).close()

        await asyncio.to_thread(probe)
        return await aiosqlite.connect(
            target, uri=uri, isolation_level=None, timeout=self._busy_timeout
        )

    @property
    def _where(self) -> str:
        return f"message store {self._path}"

    @property
    def _ms(self) -> int:
        return int(self._busy_timeout * 1000)

    def _check_schema(self, found: int | None) -> None:
        if found is None or found > SCHEMA_VERSION:
            raise StoreError(
                f"message store {self._path}: not a message store of this smscenter version "
                f"(schema {found if found is not None else 'missing'}, this version reads "
                f"{SCHEMA_VERSION})"
            )

    async def __aenter__(self) -> SQLiteStore:
        return await self.open()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Finish the queued writes, mark this store's unsettled sends ``UNKNOWN`` (they were
        handed out and never settled: they may have gone out), stop :meth:`changes` feeds and
        close the file (idempotent)."""
        if self._closed:
            return
        self._closing = True
        self._changed.set()  # (feeds end)
        if self._opened and self._writer is not None and self._in_flight:
            with contextlib.suppress(StoreError):
                await self._submit(Maintenance("release"), 1)
        self._closed = True
        self._changed.set()
        if self._retention_task is not None:
            self._retention_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retention_task
        await self._close_connections()

    async def _close_connections(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.stop()  # it finishes the queued transactions first
            await asyncio.shield(writer.finished)
        reader, self._reader = self._reader, None
        if reader is not None:
            with contextlib.suppress(sqlite3.Error, ValueError):
                await reader.close()

    # --- writes -----------------------------------------------------------------------------

    async def prepare(
        self, sends: Sequence[PlannedSend], *, resend_unknown: bool = False
    ) -> list[TrackedMessage | None]:
        """See :meth:`MessageStore.prepare <smscenter.store.MessageStore.prepare>`. A record
        returned (do not send) carries no report history."""
        if not sends:
            return []
        _check_items(sends, PlannedSend, "prepare")
        call = PrepareCall(sends, resend_unknown)
        size = len(sends)
        # The call took what the transaction needs: the sends do not wait for it (what waits
        # for a commit is promoted by the garbage collector and traversed by its later runs).
        del sends
        await self._submit(call, size)
        return call.result

    async def settle(self, settlements: Sequence[Settlement]) -> None:
        """See :meth:`MessageStore.settle <smscenter.store.MessageStore.settle>`."""
        if settlements:
            _check_items(settlements, Settlement, "settle")
            await self._submit(SettleCall(settlements), len(settlements))

    async def record(self, *reports: DeliveryReport) -> None:
        """See :meth:`MessageStore.record <smscenter.store.MessageStore.record>`."""
        if reports:
            _check_items(reports, DeliveryReport, "record")
            await self._submit(RecordCall(reports), len(reports))

    async def purge(self, *, older_than: timedelta) -> int:
        """See :meth:`MessageStore.purge <smscenter.store.MessageStore.purge>`."""
        if older_than < timedelta(0):
            raise ValueError("older_than must not be negative")
        result: int = await self._submit(Maintenance("purge", older_than), 1)
        return result

    async def _submit(
        self, call: PrepareCall | SettleCall | RecordCall | Maintenance, size: int
    ) -> Any:
        if self._closed or not self._opened:
            state = "closed" if self._closed else "not open (use async with, or await open())"
            raise StoreError(f"message store {self._path}: {state}")
        if self._writer is None:
            raise StoreError(f"message store {self._path}: opened read-only")
        pending = Pending(call, size)
        self._writer.submit(pending)
        return await pending.future

    def _finish(self, taken: list[Pending], result: Any, error: BaseException | None) -> None:
        """A transaction ended (on the event loop, called from the writer thread)."""
        if error is None:
            self._commits += 1
            for pending in taken:
                if not pending.future.done():
                    pending.future.set_result(result)
            self._changed.set()
            self._changed = asyncio.Event()
            return
        for pending in taken:
            if not pending.future.done():
                # Every caller gets its own exception (one instance raised in several tasks
                # would mix their tracebacks); none of the batch was committed.
                if isinstance(error, Exception):
                    failure = self._error(error)
                    failure.__cause__ = error
                else:
                    failure = StoreError(f"{self._where}: closed")
                pending.future.set_exception(failure)

    async def _retention_loop(self) -> None:
        # Due even when the writer never idles; a failed purge is retried next time.
        assert self._retention is not None
        while not self._closed:
            await asyncio.sleep(_RETENTION_EVERY)
            if self._closed or self._writer is None:
                return
            purge = Pending(Maintenance("purge", self._retention), 1)
            purge.future.add_done_callback(self._log_purge)
            self._writer.submit(purge)

    def _log_purge(self, future: asyncio.Future[Any]) -> None:
        if not future.cancelled() and (error := future.exception()) is not None:
            logger.warning("%s: retention could not purge old records: %s", self._where, error)
        elif not future.cancelled() and future.result():
            logger.info("%s: retention purged %d old record(s)", self._where, future.result())


_SCHEMA_OF = "SELECT value FROM meta WHERE key = 'schema'"


def _check_items(items: Sequence[object], kind: type, method: str) -> None:
    # Checked before the call joins a transaction: a wrong item fails its own call, not the
    # batch of every caller it would have been committed with.
    for item in items:
        if type(item) is not kind and not isinstance(item, kind):
            raise TypeError(f"{method}() takes {kind.__name__} items, not {type(item).__name__}")
