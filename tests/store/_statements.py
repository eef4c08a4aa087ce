"""The SQLite store writer's statements, as a test sees them: :class:`Statements` stands in for
the writer's connection, keeps each statement's text and parameters, and runs it on the real
connection."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from smscenter.store._sqlite_ops import COLUMNS


class Statements:
    """The writer's connection, keeping each statement (it still runs them)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.calls: list[tuple[str, Sequence[Any]]] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        self.calls.append((sql, params))
        return self.db.execute(sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)


def operations(params: Sequence[Any]) -> list[Sequence[Any]]:
    """A transaction statement's operations (rows of the view), from its parameters."""
    width = len(COLUMNS)
    return [params[i : i + width] for i in range(0, len(params), width)]
