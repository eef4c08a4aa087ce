"""One write transaction of the SQLite store, run whole in its writer thread.

The calls that queued up while the previous transaction ran are applied together (group
commit), as ONE statement whose decisions SQLite makes (:mod:`._sqlite_ops`): Python only turns
the calls into operations, each a JSON array of compact rows, which costs far less than
binding each row's values, and hands them over in one step.

Order: the calls are cut into segments at each run of claims (a claim after a settle of the
same client id must see that settle); within a segment settlements go before receipts, which
gives the same records as any order (reports only move a record forward, and a late failure
does not undo an accepted one).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

import attrs

from smscenter.ids import canonical_message_id
from smscenter.models import DeliveryReport
from smscenter.store._model import PlannedSend, Settlement, TrackedMessage, TrackedState
from smscenter.store._owner import OwnerCheck
from smscenter.store._sqlite_ops import SETUP, insert_sql
from smscenter.store._sqlite_schema import C_OWNER, C_STATE, dump_ids, to_micros, tracked

__all__ = (
    "DEAD_OWNER",
    "Call",
    "PrepareCall",
    "RecordCall",
    "SettleCall",
    "Transactions",
)

#: The error text of a record whose sender stopped mid-send (read as ``UNKNOWN``).
DEAD_OWNER = "the sending process stopped before the answer came: it may have been sent"


class PrepareCall:
    __slots__ = ("resend_unknown", "result", "sends")

    def __init__(self, sends: Sequence[PlannedSend], resend_unknown: bool) -> None:
        self.sends = sends
        self.resend_unknown = resend_unknown
        self.result: list[TrackedMessage | None] = []


class SettleCall:
    __slots__ = ("settlements",)

    def __init__(self, settlements: Sequence[Settlement]) -> None:
        self.settlements = settlements


class RecordCall:
    __slots__ = ("reports",)

    def __init__(self, reports: Sequence[DeliveryReport]) -> None:
        self.reports = reports


Call = PrepareCall | SettleCall | RecordCall


# --- the rows -------------------------------------------------------------------------------


# No check for circular lists (the rows are flat lists of plain values): that check keeps a
# dict entry per list and costs more than the encoding itself.
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode


def _settle_row(s: Settlement, more: list[tuple[str, str]]) -> list[Any]:
    """An accepted settlement's row (its extra part ids go to ``more``), or a failed one's."""
    key = s.client_id
    state = s.state
    if state is not TrackedState.ACCEPTED:
        # (six items: told apart from an accepted row by its length, whatever its ids)
        return [key, state._value_, s.error, s.error_code, 1 if state.is_final else None, 0]
    part_ids = s.part_ids
    first = s.message_id
    cost = s.cost
    text = None if cost is None else str(cost)
    # The usual: one part, its id canonical already (a transport's SendResult has it so).
    if (
        len(part_ids) == 1
        and first == part_ids[0]
        and canonical_message_id(first) == first
        and dump_ids(part_ids) == first
    ):
        return [key, first, None, s.parts, text]
    ids = [canonical_message_id(i) for i in part_ids]
    if first is not None:
        first = canonical_message_id(first)
        if first not in ids:
            ids.insert(0, first)
    if not ids:
        return [key, None, None, s.parts, text]
    more.extend((i, key) for i in ids[1:])
    stored = dump_ids(ids)
    return [key, ids[0], None if stored == ids[0] else stored, s.parts, text]


def _report_row(r: DeliveryReport) -> list[Any]:
    changed, cost = r.changed_at, r.cost
    return [r.event_key, r.message_id, r.client_id, r.status._value_, r.error._value_,
            None if changed is None else to_micros(changed), r.transport._value_,
            None if cost is None else str(cost), r.parts, r.raw_status]  # fmt: skip


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

    __slots__ = ("_declined", "_owners", "db")

    def __init__(self, db: sqlite3.Connection, owners: OwnerCheck) -> None:
        self.db = db
        self._owners = owners
        # (operation, position in it, the record's row) of each claim the statement declined.
        self._declined: list[tuple[int, int, tuple[Any, ...]]] = []
        db.create_function("owner_dead", 1, lambda token: not owners.alive(token))
        db.create_function("declined", -1, self._decline)
        db.executescript(SETUP)

    def _decline(self, op: int, position: int, *row: Any) -> int:
        self._declined.append((op, position, row))
        return 0

    def run(self, calls: Sequence[Call], now: int, in_flight: set[str]) -> None:
        """Apply ``calls`` in one transaction (one statement: nothing of it is written when it
        raises). ``in_flight`` gains the client ids claimed and loses those settled."""
        ops: list[Any] = []  # the statement's parameters, a row of the view after another
        claims: list[tuple[int, Sequence[PlannedSend]]] = []  # (op, its sends), in order
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
            if segment.settles:
                changes.append(_settle_ops(segment.settles, ops, now))
            if segment.records:
                rows = [_report_row(r) for call in segment.records for r in call.reports]
                _op(ops, "r", len(rows), _dumps(rows), None, now)
                named = [row[0] for row in rows if row[2] is not None]
                if named:  # (callbacks name the client id; SMPP receipts do not)
                    _op(ops, "l", 0, _dumps(named), None, now)
        declined = self._declined
        declined.clear()
        try:
            if ops:
                self.db.execute(insert_sql(len(ops) // _WIDTH), ops)
            answers: dict[int, list[TrackedMessage | None]] = {
                op: [None] * len(sends) for op, sends in claims
            }
            for op, position, row in declined:
                answers[op][position] = _answer(row, self._owners)
        finally:
            declined.clear()
        for change in changes:
            if isinstance(change, list):
                in_flight.difference_update(change)
            else:
                op, sends = claims[change]
                found = answers[op]
                in_flight.update(s.client_id for s, a in zip(sends, found, strict=True) if not a)
        flat = [a for op, _ in claims for a in answers[op]]
        position = 0
        for call in claim_calls:
            call.result = flat[position : position + len(call.sends)]
            position += len(call.sends)

    def _claim_ops(
        self,
        calls: list[PrepareCall],
        ops: list[Any],
        claims: list[tuple[int, Sequence[PlannedSend]]],
        now: int,
    ) -> None:
        """One operation per run of sends with the same resend_unknown and transport (almost
        always one)."""
        sends = [s for call in calls for s in call.sends]
        flags = [call.resend_unknown for call in calls for _ in call.sends]
        owner = self._owners.own_token
        start = 0
        while start < len(sends):
            resend, transport = flags[start], sends[start].transport
            end = start + 1
            while end < len(sends) and flags[end] == resend and sends[end].transport is transport:
                end += 1
            run = sends[start:end]
            claims.append((len(ops) // _WIDTH, run))
            rows = _dumps([[s.client_id, s.recipient] for s in run])
            _op(ops, "c", len(run), rows, None, now, owner, resend, transport._value_)
            start = end


_WIDTH = 9  # the view's columns (_sqlite_ops.COLUMNS)


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


def _settle_ops(calls: list[SettleCall], ops: list[Any], now: int) -> list[str]:
    """One operation per run of accepted or failed settlements (in order: the same client id
    may be settled twice), then the match of the pending reports they name. Returns the
    client ids settled."""
    more: list[tuple[str, str]] = []
    rows = [_settle_row(s, more) for call in calls for s in call.settlements]
    more_text = _dumps(more)
    texts: list[str] = []
    start = 0
    while start < len(rows):
        failed = len(rows[start]) == 6
        end = start + 1
        while end < len(rows) and (len(rows[end]) == 6) == failed:
            end += 1
        text = _dumps(rows[start:end])
        texts.append(text)
        if failed:
            _op(ops, "f", end - start, text, None, now)
        else:
            _op(ops, "a", end - start, text, more_text, now)
            more_text = "[]"  # (the extra part ids go in once)
        start = end
    # (the run texts joined: one array of every row, each text a non-empty array)
    joined = texts[0] if len(texts) == 1 else "[" + ",".join(t[1:-1] for t in texts) + "]"
    _op(ops, "m", 0, joined, _dumps(more), now)
    return [row[0] for row in rows]
