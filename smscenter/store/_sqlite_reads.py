"""The reading half of :class:`~smscenter.store.SQLiteStore`: ``get``, ``find``, ``counts``,
``records`` and the change feed, on the store's reading connection (WAL readers do not wait for
the writer), and the translation of SQLite's errors into :class:`StoreError`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import aiosqlite
import attrs

from smscenter.ids import canonical_message_id
from smscenter.store._model import (
    NotTrackedError,
    ReportEntry,
    StoreError,
    TrackedMessage,
    TrackedState,
    store_key,
)
from smscenter.store._owner import OwnerCheck
from smscenter.store._sqlite_schema import (
    C_CLIENT_ID,
    C_OWNER,
    C_STATE,
    C_VERSION,
    SELECT_MESSAGES,
    SELECT_REPORTS,
    STATES,
    report_entry,
    tracked,
)
from smscenter.store._sqlite_tx import DEAD_OWNER

__all__ = ("SQLiteReads",)

_SENDING = TrackedState.SENDING.value
_PAGE = 500


class SQLiteReads:
    """The reads of a SQLite store (the base of :class:`~smscenter.store.SQLiteStore`)."""

    _path: Path
    _reader: aiosqlite.Connection | None
    _owners: OwnerCheck
    _closed: bool
    _closing: bool  # aclose began: change feeds end (the release's own changes are not fed)
    _changed: asyncio.Event
    _poll_interval: float
    _max_bytes: int | None

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    @property
    def closed(self) -> bool:
        """True once :meth:`aclose` ran."""
        return self._closed

    def _db(self) -> aiosqlite.Connection:
        if self._reader is None:
            state = "closed" if self._closed else "not open (use async with, or await open())"
            raise StoreError(f"message store {self._path}: {state}")
        return self._reader

    async def _fetch(self, sql: str, parameters: Sequence[Any] = ()) -> list[Any]:
        try:
            return list(await self._db().execute_fetchall(sql, parameters))
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        except ValueError as exc:  # aiosqlite: the connection closed under the call
            raise StoreError(f"message store {self._path}: closed") from exc

    def _present(self, row: Sequence[Any]) -> TrackedMessage:
        """A row as a record; one in ``SENDING`` whose sender stopped reads as ``UNKNOWN``."""
        if row[C_STATE] == _SENDING and not self._owners.alive(row[C_OWNER]):
            message = tracked(row, TrackedState.UNKNOWN)
            return _with_error(message, DEAD_OWNER)
        return tracked(row)

    async def get(self, client_id: int | str) -> TrackedMessage:
        """See :meth:`MessageStore.get <smscenter.store.MessageStore.get>`."""
        key = store_key(client_id)
        rows = await self._fetch(f"{SELECT_MESSAGES} WHERE client_id = ?", (key,))
        if not rows:
            raise NotTrackedError(f"no record for client id {key!r} in {self._path}")
        return await self._with_history(rows[0])

    async def _with_history(self, row: Sequence[Any]) -> TrackedMessage:
        reports = await self._fetch(
            f"{SELECT_REPORTS} WHERE client_id = ? ORDER BY seq", (row[C_CLIENT_ID],)
        )
        message = self._present(row)
        return _with_reports(message, tuple(report_entry(r) for r in reports))

    async def find(self, message_id: str) -> TrackedMessage | None:
        """See :meth:`MessageStore.find <smscenter.store.MessageStore.find>`: any part's id, in
        any spelling :func:`~smscenter.ids.canonical_message_id` makes equal (letter case,
        zero padding)."""
        rows = await self._fetch(
            f"{SELECT_MESSAGES} WHERE client_id = (SELECT client_id FROM ids WHERE message_id = ?)",
            (canonical_message_id(message_id),),
        )
        return await self._with_history(rows[0]) if rows else None

    async def counts(self) -> Mapping[TrackedState, int]:
        """See :meth:`MessageStore.counts <smscenter.store.MessageStore.counts>`. Records of
        stopped senders count as ``UNKNOWN``."""
        counts: dict[TrackedState, int] = {}
        for state, owner, count in await self._fetch(
            "SELECT state, CASE WHEN state = ? THEN owner END, count(*) FROM messages "
            "GROUP BY 1, 2",
            (_SENDING,),
        ):
            tracked_state = STATES[state]
            if state == _SENDING and not self._owners.alive(owner):
                tracked_state = TrackedState.UNKNOWN
            counts[tracked_state] = counts.get(tracked_state, 0) + count
        return counts

    async def records(
        self, *, states: Iterable[TrackedState] | None = None, limit: int | None = None
    ) -> AsyncIterator[TrackedMessage]:
        """See :meth:`MessageStore.records <smscenter.store.MessageStore.records>` (in the
        order they were first recorded; read a page at a time)."""
        wanted = None if states is None else frozenset(states)
        stored = None if wanted is None else sorted(s.value for s in wanted)
        if wanted is not None and TrackedState.UNKNOWN in wanted and stored is not None:
            stored.append(_SENDING)  # a stopped sender's record reads as unknown
        left = limit
        after = 0
        while left is None or left > 0:
            where = "rowid > ?"
            parameters: list[Any] = [after]
            if stored is not None:
                where += " AND state IN (SELECT value FROM json_each(?))"
                parameters.append(json.dumps(stored))
            rows = await self._fetch(
                f"SELECT rowid, {SELECT_MESSAGES[7:]} WHERE {where} ORDER BY rowid LIMIT {_PAGE}",
                parameters,
            )
            if not rows:
                return
            for row in rows:
                after = row[0]
                message = self._present(row[1:])
                if wanted is not None and message.state not in wanted:
                    continue
                yield message
                if left is not None:
                    left -= 1
                    if left <= 0:
                        return

    async def changes(self, *, since: int = 0) -> AsyncIterator[TrackedMessage]:
        """See :meth:`MessageStore.changes <smscenter.store.MessageStore.changes>`. Writes of
        this store wake the feed at once; those of other processes are seen within
        ``poll_interval``. The feed ends when the store closes. Records come without history."""
        last = since
        while not self._ending():
            changed = self._changed
            try:
                rows = await self._fetch(
                    f"{SELECT_MESSAGES} WHERE version > ? ORDER BY version LIMIT {_PAGE}",
                    (last,),
                )
            except StoreError:
                if self.closed:
                    return
                raise
            for row in rows:
                if self._ending():
                    return
                last = row[C_VERSION]
                yield self._present(row)
            if not rows:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), self._poll_interval)

    def _ending(self) -> bool:
        return self._closing

    # --- errors -----------------------------------------------------------------------------

    def _error(self, exc: BaseException) -> StoreError:
        name = getattr(exc, "sqlite_errorname", "")
        why = str(exc)
        if name.startswith("SQLITE_FULL"):
            limit = f" or the store's max_bytes={self._max_bytes}" if self._max_bytes else ""
            why = f"the disk{limit} is full ({exc})"
        elif name.startswith("SQLITE_READONLY"):
            why = f"the file (or its directory) is read-only ({exc})"
        elif name.startswith("SQLITE_CANTOPEN"):
            why = f"cannot open the file: does its directory exist and may we write there? ({exc})"
        elif name.startswith("SQLITE_BUSY"):
            why = f"another process held the file locked past busy_timeout ({exc})"
        elif name in ("SQLITE_NOTADB", "SQLITE_CORRUPT"):
            why = f"not a valid SQLite database ({exc})"
        elif not isinstance(exc, sqlite3.Error):
            why = f"the write failed: {type(exc).__name__}: {exc}"
        return StoreError(f"message store {self._path}: {why}")


def _with_reports(message: TrackedMessage, reports: tuple[ReportEntry, ...]) -> TrackedMessage:
    return attrs.evolve(message, reports=reports)


def _with_error(message: TrackedMessage, error: str) -> TrackedMessage:
    return attrs.evolve(message, error=error, error_code=None)
