"""One write transaction of the SQLite store, run whole in its writer thread.

The calls that queued up while the previous transaction ran are applied together (group
commit), as ONE statement whose decisions SQLite makes (:mod:`._sqlite_ops`): Python only turns
the calls into operations, each a JSON array of compact rows (:mod:`._sqlite_rows`), which
costs far less than binding each row's values, and hands them over in one step.

Order: the calls are cut into segments at each run of claims (a claim after a settle of the
same client id must see that settle); within a segment settlements go before receipts, which
gives the same records as any order (reports only move a record forward, and a late failure
does not undo an accepted one).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from itertools import chain
from typing import Any

import attrs

from smscenter._provider import Transport
from smscenter.models import DeliveryReport
from smscenter.store._model import PlannedSend, Settlement, TrackedMessage, TrackedState
from smscenter.store._owner import OwnerCheck
from smscenter.store._sqlite_ops import SETUP, insert_sql
from smscenter.store._sqlite_rows import (
    Fragments,
    array,
    dumps,
    folded_rows,
    quote,
    report_row,
    settle_row,
    tailed,
)
from smscenter.store._sqlite_schema import C_OWNER, C_STATE, tracked

__all__ = (
    "DEAD_OWNER",
    "USUAL_SIZES",
    "Call",
    "PrepareCall",
    "RecordCall",
    "SettleCall",
    "Transactions",
    "statement_size",
)

#: The error text of a record whose sender stopped mid-send (read as ``UNKNOWN``).
DEAD_OWNER = "the sending process stopped before the answer came: it may have been sent"


class PrepareCall:
    """``prepare``: its rows ([client_id, recipient], as JSON), client ids and transports,
    taken from the sends as it is made (on the event loop: the sends need not wait for the
    transaction, where the collector would promote them and traverse them again)."""

    __slots__ = ("client_ids", "resend_unknown", "result", "rows", "transports")

    def __init__(self, sends: Sequence[PlannedSend], resend_unknown: bool) -> None:
        self.resend_unknown = resend_unknown
        self.result: list[TrackedMessage | None] = []
        self.client_ids = [s.client_id for s in sends]
        self.transports = [s.transport for s in sends]
        self.rows = [f"[{quote(s.client_id)},{quote(s.recipient)}]" for s in sends]


class SettleCall:
    __slots__ = ("settlements",)

    def __init__(self, settlements: Sequence[Settlement]) -> None:
        self.settlements = settlements


class RecordCall:
    __slots__ = ("reports",)

    def __init__(self, reports: Sequence[DeliveryReport]) -> None:
        self.reports = reports


Call = PrepareCall | SettleCall | RecordCall


# --- the transaction ------------------------------------------------------------------------


class _Segment:
    __slots__ = ("claims", "records", "settles")

    def __init__(self) -> None:
        self.claims: list[PrepareCall] = []
        self.settles: list[SettleCall] = []
        self.records: list[RecordCall] = []


def _segments(calls: Sequence[Call]) -> list[_Segment]:
    segments = [_Segment()]
    for call in calls:
        last = segments[-1]
        if isinstance(call, PrepareCall):
            if last.settles or last.records:
                last = _Segment()
                segments.append(last)
            last.claims.append(call)
        elif isinstance(call, SettleCall):
            last.settles.append(call)
        else:
            last.records.append(call)
    return segments


class Transactions:
    """The writer connection's data transactions: its temporary objects are made once, then
    :meth:`run` applies each group of calls as one statement.

    :param db: the writer's connection, in autocommit mode (``isolation_level=None``).
    :param owners: tells live senders from stopped ones (the claim's rare check).
    """

    __slots__ = ("_declined", "_fragments", "_owners", "db")

    def __init__(self, db: sqlite3.Connection, owners: OwnerCheck) -> None:
        self.db = db
        self._owners = owners
        # (operation, position in it, the record's row) of each claim the statement declined.
        self._declined: list[tuple[int, int, tuple[Any, ...]]] = []
        self._fragments = Fragments()
        db.create_function("owner_dead", 1, lambda token: not owners.alive(token))
        db.create_function("declined", -1, self._decline)
        db.executescript(SETUP)

    def _decline(self, op: int, position: int, *row: Any) -> int:
        self._declined.append((op, position, row))
        return 0

    def compile_usual(self) -> None:
        """Compile the usual statements (:data:`USUAL_SIZES`) before the first transaction
        needs them, by running them with padding alone: no trigger runs, nothing is written."""
        for size in USUAL_SIZES:
            self.db.execute(insert_sql(size), _PAD * size)

    def run(self, calls: Sequence[Call], now: int, in_flight: set[str]) -> None:
        """Apply ``calls`` in one transaction (one statement: nothing of it is written when it
        raises). ``in_flight`` gains the client ids claimed and loses those settled."""
        ops: list[Any] = []  # the statement's parameters, a row of the view after another
        claims: list[tuple[int, list[str]]] = []  # (op, its client ids), in order
        claim_calls: list[PrepareCall] = []
        # in_flight's changes, applied in order once the statement is through: a claim's sends
        # (by its op) join it, a settle's client ids leave it.
        changes: list[int | list[str]] = []
        for segment in _segments(calls):
            if segment.claims:
                claim_calls += segment.claims
                first = len(claims)
                self._claim_ops(segment.claims, ops, claims, now)
                changes += range(first, len(claims))
            reports = [r for call in segment.records for r in call.reports]
            if segment.settles:
                settled, rest = _settle_ops(segment.settles, reports, ops, now, self._fragments)
                changes.append(settled)
            else:
                rest = reports
            if rest:
                memo = self._fragments
                texts: list[str] = []
                tails: list[str | None] = []
                for report in rest:
                    report_row(report, memo, texts, tails)
                rows_text, tails_text = tailed(texts, tails, 0, len(texts))
                _op(ops, "receipts", len(rest), rows_text, tails_text, now)
            # (callbacks name the client id; SMPP receipts do not)
            named = [r.event_key for r in reports if r.client_id is not None]
            if named:
                _op(ops, "learn", 0, dumps(named), None, now)
        declined = self._declined
        declined.clear()
        try:
            if ops:
                count = len(ops) // _WIDTH
                size = statement_size(count)
                ops += _PAD * (size - count)
                self.db.execute(insert_sql(size), ops)
            answers: dict[int, list[TrackedMessage | None]] = {
                op: [None] * len(keys) for op, keys in claims
            }
            for op, position, row in declined:
                answers[op][position] = _answer(row, self._owners)
        finally:
            declined.clear()
        for change in changes:
            if isinstance(change, list):
                in_flight.difference_update(change)
            else:
                op, keys = claims[change]
                found = answers[op]
                if found.count(None) == len(found):  # (none declined: the usual)
                    in_flight.update(keys)
                else:
                    in_flight.update(k for k, a in zip(keys, found, strict=True) if not a)
        flat = [a for op, _ in claims for a in answers[op]]
        position = 0
        for call in claim_calls:
            call.result = flat[position : position + len(call.client_ids)]
            position += len(call.client_ids)

    def _claim_ops(
        self,
        calls: list[PrepareCall],
        ops: list[Any],
        claims: list[tuple[int, list[str]]],
        now: int,
    ) -> None:
        """One operation per run of sends with the same resend_unknown and transport (almost
        always one)."""
        owner = self._owners.own_token
        flags = [call.resend_unknown for call in calls]
        for at, end in _runs(flags):
            group = calls[at:end]
            keys, rows = _flat(group, "client_ids"), _flat(group, "rows")
            transports: list[Transport] = _flat(group, "transports")
            for start, stop in _runs(transports):
                claims.append((len(ops) // _WIDTH, keys[start:stop]))
                rows_text = array(rows[start:stop])
                transport = transports[start]._value_
                _op(ops, "claim", stop - start, rows_text, None, now, owner, flags[at], transport)


def _flat(calls: Sequence[Any], name: str) -> list[Any]:
    """The calls' lists called ``name``, end to end."""
    return list(chain.from_iterable(getattr(call, name) for call in calls))


def _runs(keys: Sequence[object]) -> Iterator[tuple[int, int]]:
    """(start, end) of each run of equal consecutive keys."""
    if keys and keys.count(keys[0]) == len(keys):  # one run: the usual (counted in C)
        yield 0, len(keys)
        return
    start = 0
    while start < len(keys):
        key = keys[start]
        end = start + 1
        while end < len(keys) and keys[end] == key:
            end += 1
        yield start, end
        start = end


_WIDTH = 9  # the view's columns (_sqlite_ops.COLUMNS)
# An operation no trigger takes (its kind is none of theirs): what pads a statement.
_PAD = (-1, "pad", 0, "[]", None, 0, None, False, None)
#: The statement sizes compiled as the writer starts (the usual ones: see statement_size).
USUAL_SIZES = (1, 4)


def statement_size(count: int) -> int:
    """The operations of the statement that runs ``count`` of them: 1, 4, 16, 64... (the
    rest are padding). SQLite compiles the statement, every trigger with it, in about 5 ms;
    Python's ``sqlite3`` keeps each text compiled, so a few sizes are compiled once each
    rather than one per count (a run's transactions take 1 to 5 operations)."""
    size = 1
    while size < count:
        size *= 4
    return size


def _op(
    ops: list[Any],
    kind: str,
    n: int,
    rows: str,
    more: str | None,
    now: int,
    owner: str | None = None,
    resend: bool = False,
    transport: str | None = None,
) -> None:
    ops += (len(ops) // _WIDTH, kind, n, rows, more, now, owner, resend, transport)


def _answer(row: Sequence[Any], owners: OwnerCheck) -> TrackedMessage:
    """A declined claim's answer: the record (one ``SENDING`` under a stopped owner reads as
    ``UNKNOWN``, as the reads show it)."""
    if row[C_STATE] == TrackedState.SENDING.value and not owners.alive(row[C_OWNER]):
        message = tracked(row, TrackedState.UNKNOWN)
        return attrs.evolve(message, error=DEAD_OWNER, error_code=None)
    return tracked(row)


def _settle_ops(
    calls: list[SettleCall],
    reports: list[DeliveryReport],
    ops: list[Any],
    now: int,
    fragments: Fragments,
) -> tuple[list[str], list[DeliveryReport]]:
    """The operations of a segment's settlements: one per run of plain accepted, folded
    (``folded``: with the first of ``reports`` for its id) or failed ones, in order (the same
    client id may be settled twice); then the match of the pending reports they name, and the
    folded reports' history entries. Returns the client ids settled, and the reports left."""
    settlements = [s for call in calls for s in call.settlements]
    # id -> the position of its first report naming no client id (a callback's goes through
    # its client id), for the settlements whose id is theirs alone in the segment.
    firsts: dict[str, int] = {}
    if reports:
        if all(report.client_id is None for report in reports):  # (SMPP receipts)
            mids = [report.message_id for report in reports]
            # The first position of each id wins: later ones are put in first (in C).
            firsts = dict(zip(reversed(mids), range(len(mids) - 1, -1, -1), strict=True))
        else:
            for position, report in enumerate(reports):
                if report.client_id is None and report.message_id not in firsts:
                    firsts[report.message_id] = position
        ids = [s.message_id for s in settlements]
        if len(set(ids)) != len(ids):
            seen: set[str | None] = set()
            for i in ids:
                if i in seen:
                    firsts.pop(i or "", None)
                seen.add(i)
    more: list[tuple[str, str]] = []
    kinds: list[str] = []
    rows: list[str] = []
    row_tails: list[str | None] = []  # a folded row's tail, else None
    entries: list[str] = []  # the folded reports' history entries, their tails and transports
    entry_tails: list[str | None] = []
    transports: list[str] = []
    taken: set[int] = set()  # positions of the folded reports
    for settlement in settlements:
        position = firsts.pop(settlement.message_id or "", -1) if firsts else -1
        if position >= 0:
            report = reports[position]
            if folded_rows(settlement, report, rows, row_tails, entries, entry_tails, fragments):
                kinds.append("folded")
                transports.append(report.transport._value_)
                taken.add(position)
                continue
        kinds.append("accepted" if settlement.state is TrackedState.ACCEPTED else "failed")
        rows.append(settle_row(settlement, more))
        row_tails.append(None)
    more_text = dumps(more)
    for start, end in _runs(kinds):
        kind = kinds[start]
        if kind == "folded":
            rows_text, tails_text = tailed(rows, row_tails, start, end)
            _op(ops, kind, end - start, rows_text, tails_text, now)
            continue
        _op(ops, kind, end - start, array(rows[start:end]), more_text, now)
        if kind == "accepted":
            more_text = "[]"  # (the extra part ids go in once)
    _op(ops, "match", 0, array(rows), dumps(more), now)
    if entries:
        for start, end in _runs(transports):  # (one transport: almost always one run)
            rows_text, tails_text = tailed(entries, entry_tails, start, end)
            _op(
                ops, "entries", end - start, rows_text, tails_text, now, transport=transports[start]
            )
        reports = (
            [r for i, r in enumerate(reports) if i not in taken]
            if len(taken) < len(reports)
            else []
        )
    return [s.client_id for s in settlements], reports
