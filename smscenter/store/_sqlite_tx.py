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
import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from itertools import chain
from operator import is_
from typing import Any

import attrs

from smscenter._provider import Transport
from smscenter.ids import canonical_message_id
from smscenter.models import DeliveryReport, MessageStatus
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
    """``prepare``: its rows ([client_id, recipient], as JSON), client ids and transports,
    taken from the sends as it is made (on the event loop: the sends need not wait for the
    transaction, where the collector would promote them and traverse them again)."""

    __slots__ = ("client_ids", "resend_unknown", "result", "rows", "transports")

    def __init__(self, sends: Sequence[PlannedSend], resend_unknown: bool) -> None:
        self.resend_unknown = resend_unknown
        self.result: list[TrackedMessage | None] = []
        self.client_ids = [s.client_id for s in sends]
        self.transports = [s.transport for s in sends]
        self.rows = [f"[{_q(s.client_id)},{_q(s.recipient)}]" for s in sends]


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
# The common rows are written as JSON text directly (each string through the json module's C
# escaper): cheaper than a list per row for the encoder, and the writer thread holds the GIL
# while it does this. The rare shapes go through the encoder.

# No check for circular lists (the rows are flat lists of plain values): that check keeps a
# dict entry per list and costs more than the encoding itself.
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode
_q: Callable[[str], str] = json.encoder.encode_basestring

# Enum values written between quotes unescaped: plain words (checked here, once).
assert all(re.fullmatch(r"[a-z_]+", e.value) for e in (*MessageStatus, *Transport, *TrackedState))


def _usual_ids(first: str, part_ids: tuple[str, ...]) -> bool:
    """The usual ids of an accepted send: one part, its id canonical already (a transport's
    SendResult has it so) and stored as itself (see dump_ids)."""
    return (
        first != ""
        and len(part_ids) == 1
        and first == part_ids[0]
        # (canonical_message_id's common case inline: a decimal id with no leading zero)
        and (
            (first.isdigit() and first.isascii() and first[0] != "0")
            or canonical_message_id(first) == first
        )
        and "," not in first
        and first[0] != "["
    )


def _settle_row(s: Settlement, more: list[tuple[str, str]]) -> str:
    """An accepted settlement's row, as JSON (its extra part ids go to ``more``): [client id,
    first id, part ids (null: the first id alone), parts, cost]; or a failed one's: [client
    id, state, error, error code, final?, 0] (six items: told apart by its item 5)."""
    key = s.client_id
    state = s.state
    if state is not TrackedState.ACCEPTED:
        final = 1 if state.is_final else None
        return _dumps([key, state._value_, s.error, s.error_code, final, 0])
    part_ids = s.part_ids
    first = s.message_id
    cost = s.cost
    text = None if cost is None else str(cost)
    if first is not None and _usual_ids(first, part_ids):
        parts = s.parts
        return (
            f"[{_q(key)},{_q(first)},null,{'null' if parts is None else int(parts)},"
            f"{'null' if text is None else _q(text)}]"
        )
    ids = [canonical_message_id(i) for i in part_ids]
    if first is not None:
        first = canonical_message_id(first)
        if first not in ids:
            ids.insert(0, first)
    if not ids:
        return _dumps([key, None, None, s.parts, text])
    more.extend((i, key) for i in ids[1:])
    stored = dump_ids(ids)
    return _dumps([key, ids[0], None if stored == ids[0] else stored, s.parts, text])


_NOTHING = object()


class _Fragments:
    """What a receipt's row takes from its status, error, time, cost, parts and raw status
    (and, folded, its settlement's parts and cost), rendered once for a run of receipts that
    share them. The receipt reader gives the receipts of one SMSC text the same field objects
    (:class:`~smscenter.smpp.receipts.ReceiptReader`), so consecutive receipts usually do: one
    entry, matched by identity (equal but distinct values, such as ``Decimal("1.5")`` and
    ``Decimal("1.50")``, may render differently)."""

    __slots__ = ("entry_tail", "key", "report_key", "report_tail", "row_tail")

    def __init__(self) -> None:
        # A folded row's (settlement and receipt), and a receipt's row of its own; the keys
        # start as objects no field is.
        self.key: tuple[object, ...] = (_NOTHING,) * 8
        self.row_tail = self.entry_tail = ""
        self.report_key: tuple[object, ...] = (_NOTHING,) * 7
        self.report_tail = ""


def _report_row(r: DeliveryReport, memo: _Fragments) -> str:
    """[event_key, message_id, client_id, status, error, changed_at, transport, cost, parts,
    raw_status], as JSON (the fields from the status on rendered once for a run of receipts
    that share them: see :class:`_Fragments`)."""
    key = (r.status, r.error, r.changed_at, r.transport, r.cost, r.parts, r.raw_status)
    if not all(map(is_, memo.report_key, key)):
        status, error, changed, transport, cost, parts, raw = key
        memo.report_tail = (
            f'"{status._value_}",{int(error._value_)},'
            f'{"null" if changed is None else to_micros(changed)},"{transport._value_}",'
            f"{'null' if cost is None else _q(str(cost))},"
            f"{'null' if parts is None else int(parts)},{_q(raw)}]"
        )
        memo.report_key = key
    named = r.client_id
    return (
        f"[{_q(r.event_key)},{_q(r.message_id)},{'null' if named is None else _q(named)},"
        f"{memo.report_tail}"
    )


# A report's status -> (the state it leaves an ACCEPTED record in, whether that is final).
_FROM_ACCEPTED = {
    status._value_: (
        TrackedState.ACCEPTED.after_report(status)._value_,
        TrackedState.ACCEPTED.after_report(status).is_final,
    )
    for status in MessageStatus
}


def _folded_rows(
    s: Settlement, r: DeliveryReport, rows: list[str], entries: list[str], memo: _Fragments
) -> bool:
    """An accepted settlement and its receipt as one ``folded`` row ([client_id, id, parts,
    cost (the receipt's, else the settlement's), status, error, the state after the receipt
    from ACCEPTED, final then?]) added to ``rows``, and the receipt's history entry (op
    ``entries``: [event_key, message_id, status, error, changed_at, cost, parts, raw_status,
    client_id]) to ``entries``, as JSON; False (nothing added) when the settlement is not the
    usual shape (one part, its id canonical already). (No tuple per message: each container
    a message makes counts toward the collector's next run.)"""
    part_ids = s.part_ids
    first = s.message_id
    if s.state is not TrackedState.ACCEPTED or first is None or not _usual_ids(first, part_ids):
        return False
    key = (r.status, r.error, r.changed_at, r.cost, r.parts, r.raw_status, s.parts, s.cost)
    if not all(map(is_, memo.key, key)):
        status, error, changed, rcost, rparts, raw, parts, cost = key
        value = status._value_
        state, final = _FROM_ACCEPTED[value]
        code = int(error._value_)
        cost_text = "null" if rcost is None else _q(str(rcost))
        parts_text = "null" if rparts is None else str(int(rparts))
        memo.row_tail = (
            f"{parts_text if rparts is not None or parts is None else int(parts)},"
            f"{cost_text if rcost is not None or cost is None else _q(str(cost))},"
            f'"{value}",{code},"{state}",{1 if final else "null"}]'
        )
        memo.entry_tail = (
            f'"{value}",{code},{"null" if changed is None else to_micros(changed)},'
            f"{cost_text},{parts_text},{_q(raw)},"
        )
        memo.key = key
    cid, mid = _q(s.client_id), _q(first)
    rows.append(f"[{cid},{mid},{memo.row_tail}")
    entries.append(f"[{_q(r.event_key)},{mid},{memo.entry_tail}{cid}]")
    return True


def _array(texts: Sequence[str]) -> str:
    return "[" + ",".join(texts) + "]"


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
        self._fragments = _Fragments()
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
                texts = [_report_row(r, memo) for r in rest]
                _op(ops, "receipts", len(rest), _array(texts), None, now)
            # (callbacks name the client id; SMPP receipts do not)
            named = [r.event_key for r in reports if r.client_id is not None]
            if named:
                _op(ops, "learn", 0, _dumps(named), None, now)
        declined = self._declined
        declined.clear()
        try:
            if ops:
                self.db.execute(insert_sql(len(ops) // _WIDTH), ops)
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
                rows_text = _array(rows[start:stop])
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
    fragments: _Fragments,
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
    entries: list[str] = []  # the folded reports' history entries, and their transports
    transports: list[str] = []
    taken: set[int] = set()  # positions of the folded reports
    for settlement in settlements:
        position = firsts.pop(settlement.message_id or "", -1) if firsts else -1
        if position >= 0:
            report = reports[position]
            if _folded_rows(settlement, report, rows, entries, fragments):
                kinds.append("folded")
                transports.append(report.transport._value_)
                taken.add(position)
                continue
        kinds.append("accepted" if settlement.state is TrackedState.ACCEPTED else "failed")
        rows.append(_settle_row(settlement, more))
    more_text = _dumps(more)
    for start, end in _runs(kinds):
        kind = kinds[start]
        _op(ops, kind, end - start, _array(rows[start:end]), more_text, now)
        if kind == "accepted":
            more_text = "[]"  # (the extra part ids go in once)
    _op(ops, "match", 0, _array(rows), _dumps(more), now)
    if entries:
        for start, end in _runs(transports):  # (one transport: almost always one run)
            rows_text = _array(entries[start:end])
            _op(ops, "entries", end - start, rows_text, None, now, transport=transports[start])
        reports = (
            [r for i, r in enumerate(reports) if i not in taken]
            if len(taken) < len(reports)
            else []
        )
    return [s.client_id for s in settlements], reports
