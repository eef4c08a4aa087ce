"""Writing rows without binding their NULLs: one statement per pattern of empty columns.

Python's ``sqlite3`` binds a ``None`` parameter slowly: it is not one of the types bound
directly, so each one goes through the adapter protocol, which looks up ``__adapt__`` on the
prepare-protocol type and builds and clears an ``AttributeError`` on the way (about half a
microsecond each, with the GIL held, in the writer thread the event loop competes with). A
record has a dozen empty columns when it is claimed, and a report row a few. So the rows of a
batch are grouped by which of their columns are ``None``, and each group is written by a
statement that names only the set columns (the others are left to their default, ``NULL``,
or set to ``NULL`` by the upsert). A batch has few patterns, so this is a few statements.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import compress
from typing import Any

from smscenter.store._sqlite_schema import MESSAGE_COLUMNS, REPORT_COLUMNS

__all__ = ("insert_reports", "upsert_messages")

Shape = tuple[bool, ...]  # per column: True when the row sets it (not None)
Statement = tuple[str, Callable[[Sequence[Any]], tuple[Any, ...]]]  # the SQL, its parameters
# The most statements kept per table (the patterns seen in practice are a handful).
_MAX_STATEMENTS = 256
_NONE = type(None)


def _statements(
    rows: Iterable[Sequence[Any]],
    cache: dict[tuple[type, ...], Statement],
    make: Callable[[Shape], str],
) -> list[tuple[str, Iterator[tuple[Any, ...]]]]:
    # Rows are grouped by the types of their values (the cheapest key that tells the empty
    # columns apart: one C-level pass per row); a group's parameters are its rows' set values.
    groups: dict[tuple[type, ...], list[Sequence[Any]]] = {}
    for row in rows:
        key = tuple(map(type, row))
        group = groups.get(key)
        if group is None:
            groups[key] = [row]
        else:
            group.append(row)
    out: list[tuple[str, Iterator[tuple[Any, ...]]]] = []
    for key, group in groups.items():
        statement = cache.get(key)
        if statement is None:
            if len(cache) >= _MAX_STATEMENTS:
                cache.clear()
            statement = cache[key] = _statement(key, make)
        sql, parameters = statement
        # Lazily: executemany makes each row's parameters as it binds them (in the SQLite
        # thread, one at a time: no batch of new objects for the garbage collector to count).
        out.append((sql, map(parameters, group)))
    return out


def _statement(key: tuple[type, ...], make: Callable[[Shape], str]) -> Statement:
    shape = tuple(kind is not _NONE for kind in key)
    indexes = [i for i, present in enumerate(shape) if present]
    if len(indexes) == 1:  # (an itemgetter of one index returns the value, not a tuple)
        (index,) = indexes
        return make(shape), lambda row: (row[index],)
    return make(shape), operator.itemgetter(*indexes)


def _upsert_message_sql(shape: Shape) -> str:
    names = list(compress(MESSAGE_COLUMNS, shape))
    sets = [
        f"{name} = excluded.{name}" if present else f"{name} = NULL"
        for name, present in zip(MESSAGE_COLUMNS, shape, strict=True)
        if name != "client_id"
    ]
    return (
        f"INSERT INTO messages ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
        f"ON CONFLICT (client_id) DO UPDATE SET {', '.join(sets)}"
    )


def _insert_report_sql(shape: Shape) -> str:
    names = list(compress(REPORT_COLUMNS, shape))
    return (
        f"INSERT OR IGNORE INTO reports ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    )


_MESSAGES: dict[tuple[type, ...], Statement] = {}
_REPORTS: dict[tuple[type, ...], Statement] = {}


def upsert_messages(rows: Iterable[Sequence[Any]]) -> list[tuple[str, Iterator[tuple[Any, ...]]]]:
    """``(sql, parameters)`` pairs that insert or replace these ``messages`` rows (full rows,
    in :data:`MESSAGE_COLUMNS` order), for ``executemany``."""
    return _statements(rows, _MESSAGES, _upsert_message_sql)


def insert_reports(rows: Iterable[Sequence[Any]]) -> list[tuple[str, Iterator[tuple[Any, ...]]]]:
    """``(sql, parameters)`` pairs that insert these ``reports`` rows (full rows, in
    :data:`REPORT_COLUMNS` order) unless their ``event_key`` is there already."""
    return _statements(rows, _REPORTS, _insert_report_sql)
