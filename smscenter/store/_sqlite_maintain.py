"""The SQLite store's maintenance writes, each in a transaction of its own: ``recover`` (at
open: records left ``SENDING`` by a stopped process read as ``UNKNOWN``), ``release`` (at close:
this store's own unsettled sends become ``UNKNOWN``) and ``purge`` (retention). They run in the
writer thread, on its connection, like the data transactions."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from typing import Any

from smscenter.store._model import TrackedState
from smscenter.store._owner import OwnerCheck
from smscenter.store._sqlite_tx import DEAD_OWNER

__all__ = ("Maintenance", "maintain", "purge", "to_micros_ago")

_SENDING = TrackedState.SENDING.value
_MARK_DEAD = (
    "UPDATE messages SET state = ?, error = ?, error_code = NULL, updated_at = ?, version = ? "
    "WHERE client_id = ?"
)


class Maintenance:
    """A write that runs in a transaction of its own (purge, recovery, release)."""

    __slots__ = ("kind", "older_than")

    def __init__(self, kind: str, older_than: timedelta | None = None) -> None:
        self.kind = kind
        self.older_than = older_than


def maintain(
    db: sqlite3.Connection,
    job: Maintenance,
    version: int,
    now: int,
    owners: OwnerCheck,
    in_flight: set[str],
) -> tuple[Any, int]:
    """Run ``job`` in the open transaction: its result and the version counter after it."""
    if job.kind == "purge":
        assert job.older_than is not None
        return purge(db, to_micros_ago(now, job.older_than)), version
    if job.kind == "recover":
        rows = db.execute(
            "SELECT client_id, owner FROM messages WHERE state = ?", (_SENDING,)
        ).fetchall()
        dead = [key for key, owner in rows if not owners.alive(owner)]
    else:  # release: this store's own unsettled sends
        keys = json.dumps(sorted(in_flight), ensure_ascii=False)
        dead = [
            key
            for (key,) in db.execute(
                "SELECT client_id FROM messages WHERE state = ? AND owner = ? AND client_id IN "
                "(SELECT value FROM json_each(?))",
                (_SENDING, owners.own_token, keys),
            )
        ]
        in_flight.clear()
    unknown = TrackedState.UNKNOWN.value
    changes = []
    for key in dead:
        version += 1
        changes.append((unknown, DEAD_OWNER, now, version, key))
    db.executemany(_MARK_DEAD, changes)
    return None, version


def to_micros_ago(now: int, span: timedelta) -> int:
    return now - span // timedelta(microseconds=1)


def purge(db: sqlite3.Connection, cutoff: int) -> int:
    old = "SELECT client_id FROM messages WHERE updated_at < ?"
    db.execute(f"DELETE FROM reports WHERE client_id IN ({old})", (cutoff,))
    db.execute(f"DELETE FROM ids WHERE client_id IN ({old})", (cutoff,))
    deleted = db.execute("DELETE FROM messages WHERE updated_at < ?", (cutoff,)).rowcount
    db.execute("DELETE FROM reports WHERE client_id IS NULL AND received_at < ?", (cutoff,))
    return deleted
