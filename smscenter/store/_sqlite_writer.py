"""The SQLite store's writer thread: it owns the writing connection and runs each write
transaction whole, in one hop from the event loop.

The event loop only queues calls (:meth:`WriterThread.submit`) and gets their futures
resolved, once per transaction (one ``call_soon_threadsafe``). The thread takes everything
queued (group commit) and runs it as one transaction (:class:`._sqlite_tx.Transactions`, a
single statement); while it does, the event loop goes on queueing the calls of the next one.
The statement releases the GIL while it steps, so SQLite's work overlaps the event loop's on
another core.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

from smscenter.store._owner import OwnerCheck
from smscenter.store._sqlite_maintain import Maintenance, maintain
from smscenter.store._sqlite_tx import Call, Transactions

__all__ = ("Pending", "WriterThread")

# The most rows one write transaction takes on (calls beyond it wait for the next one): a
# bounded transaction keeps the file's write lock short for other processes.
MAX_BATCH_ROWS = 20_000


class Pending:
    """A queued call and the future its caller awaits (made on the event loop)."""

    __slots__ = ("call", "future", "size")

    def __init__(self, call: Call | Maintenance, size: int) -> None:
        self.call = call
        self.size = size
        self.future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()


# (taken calls, the transaction's result, or the exception that failed it)
Done = Callable[[list[Pending], Any, BaseException | None], None]


class WriterThread:
    """Runs the write transactions of one store on its own connection, in its own thread."""

    def __init__(
        self,
        db: sqlite3.Connection,
        owners: OwnerCheck,
        in_flight: set[str],
        done: Done,
        name: str,
    ) -> None:
        self.db = db
        self._owners = owners
        self._in_flight = in_flight
        self._done = done
        self._loop = asyncio.get_running_loop()
        self._cond = threading.Condition(threading.Lock())
        self._queue: list[Pending] = []
        self._stopping = False
        self.finished: asyncio.Future[None] = self._loop.create_future()
        self._transactions = Transactions(db, owners)
        # A daemon: a store never closed must not keep the interpreter from exiting.
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, pending: Pending) -> None:
        with self._cond:
            self._queue.append(pending)
            self._cond.notify()

    def stop(self) -> None:
        """Finish what is queued, then close the connection and end the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()

    def _run(self) -> None:
        try:
            # (a failure here shows again, where it counts, in the transaction that meets it)
            with contextlib.suppress(sqlite3.Error):
                self._transactions.compile_usual()
            while True:
                with self._cond:
                    while not self._queue and not self._stopping:
                        self._cond.wait()
                    if not self._queue:
                        return
                    taken = self._take()
                try:
                    result = self._transaction(taken)
                except BaseException as exc:  # handed to the callers, on the event loop
                    self._hand_over(taken, None, exc)
                else:
                    self._hand_over(taken, result, None)
        finally:
            with contextlib.suppress(sqlite3.Error):
                self.db.close()
            with contextlib.suppress(RuntimeError):  # the event loop is gone
                self._loop.call_soon_threadsafe(_set_done, self.finished)

    def _hand_over(self, taken: list[Pending], result: Any, error: BaseException | None) -> None:
        with contextlib.suppress(RuntimeError):  # the event loop is gone: nobody waits
            self._loop.call_soon_threadsafe(self._done, taken, result, error)

    def _take(self) -> list[Pending]:
        """The calls of the next transaction: a maintenance call alone, else the data calls
        in the queue, in order, up to about :data:`MAX_BATCH_ROWS` rows."""
        queue = self._queue
        if isinstance(queue[0].call, Maintenance):
            return [queue.pop(0)]
        count = size = 0
        for pending in queue:
            if isinstance(pending.call, Maintenance) or (count and size >= MAX_BATCH_ROWS):
                break
            count += 1
            size += pending.size
        taken = queue[:count]
        del queue[:count]
        return taken

    def _transaction(self, taken: list[Pending]) -> Any:
        now = time.time_ns() // 1000
        first = taken[0].call
        if not isinstance(first, Maintenance):
            # One statement, in autocommit mode: it commits (or rolls back) by itself.
            calls: list[Call] = []
            for pending in taken:
                call = pending.call
                if not pending.future.cancelled() and not isinstance(call, Maintenance):
                    calls.append(call)
            try:
                self._transactions.run(calls, now, self._in_flight)
            except BaseException:
                if self.db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self.db.execute("ROLLBACK")
                raise
            return None
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            (version,) = db.execute(_VERSION).fetchone()
            result, after = maintain(db, first, version, now, self._owners, self._in_flight)
            if after > version:
                db.execute("UPDATE meta SET value = ? WHERE key = 'version'", (after,))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
            raise
        return result


_VERSION = "SELECT value FROM meta WHERE key = 'version'"


def _set_done(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
