"""The SQLite store's maintenance writes, each in a transaction of its own: ``recover`` (at
open: records left ``SENDING`` by a stopped process read as ``UNKNOWN``), ``release`` (at close:
this store's own unsettled sends become ``UNKNOWN``) and ``purge`` (retention)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import aiosqlite

from smscenter.store._model import TrackedState
from smscenter.store._owner import OwnerCheck
from smscenter.store._sqlite_batch import Batch
from smscenter.store._sqlite_schema import C_OWNER, SELECT_MESSAGES

__all__ = ("Maintenance", "maintain", "purge", "to_micros_ago")

_SENDING = TrackedState.SENDING.value


class Maintenance:
    """A write that runs in a transaction of its own (purge, recovery, release)."""

    __slots__ = ("kind", "older_than")

    def __init__(self, kind: str, older_than: timedelta | None = None) -> None:
        self.kind = kind
        self.older_than = older_than


async def maintain(
    db: aiosqlite.Connection,
    batch: Batch,
    job: Maintenance,
    owners: OwnerCheck,
    in_flight: set[str],
) -> Any:
    """Run ``job`` in the open transaction (its changed rows are left in ``batch``)."""
    async with db.execute("SELECT value FROM meta WHERE key = 'version'") as cursor:
        found = await cursor.fetchone()
    batch.version = found[0] if found is not None else 0
    if job.kind == "purge":
        assert job.older_than is not None
        return await purge(db, to_micros_ago(batch.now, job.older_than))
    if job.kind == "recover":
        rows = await db.execute_fetchall(f"{SELECT_MESSAGES} WHERE state = ?", (_SENDING,))
    else:  # release: this store's own unsettled sends
        keys = json.dumps(sorted(in_flight), ensure_ascii=False)
        rows = await db.execute_fetchall(
            f"{SELECT_MESSAGES} WHERE state = ? AND owner = ? AND client_id IN "
            "(SELECT value FROM json_each(?))",
            (_SENDING, owners.own_token, keys),
        )
        in_flight.clear()
    for found_row in rows:
        row = list(found_row)
        if job.kind == "release" or not owners.alive(row[C_OWNER]):
            batch.mark_dead(row)
    return None


def to_micros_ago(now: int, span: timedelta) -> int:
    return now - span // timedelta(microseconds=1)


async def purge(db: aiosqlite.Connection, cutoff: int) -> int:
    old = "SELECT client_id FROM messages WHERE updated_at < ?"
    await db.execute(f"DELETE FROM reports WHERE client_id IN ({old})", (cutoff,))
    await db.execute(f"DELETE FROM ids WHERE client_id IN ({old})", (cutoff,))
    cursor = await db.execute("DELETE FROM messages WHERE updated_at < ?", (cutoff,))
    deleted = cursor.rowcount
    await cursor.close()
    await db.execute("DELETE FROM reports WHERE client_id IS NULL AND received_at < ?", (cutoff,))
    return deleted
