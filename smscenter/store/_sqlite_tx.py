"""One write transaction of the SQLite store, run whole in its writer thread.

The calls that queued up while the previous transaction ran are applied together (group
commit), and the decisions are made by SQLite, not in Python: each run of calls of one kind
becomes ONE statement over a JSON array of compact rows (``json_each`` turns it into a table).
Python's ``sqlite3`` releases the GIL while a statement steps, so one statement over a thousand
rows runs its C work beside the event loop, where ``executemany`` would take the GIL back for
every row.

- a claim (``prepare``) is an upsert whose ``WHERE`` says "may send"; the rare declined rows
  are read back afterwards (when fewer rows changed than were claimed);
- a settlement is an upsert that applies it (insert: a settle without a claim), its ids one
  ``INSERT OR REPLACE`` into ``ids``;
- a receipt is one ``INSERT OR IGNORE`` into ``reports`` (duplicates add nothing), its record
  found through ``ids`` or its client id in SQL; a temporary trigger then moves the record by
  the ``moves`` table (derived from :meth:`TrackedState.after_report`). A receipt with no
  record yet is kept *pending*; the settle of its id matches it (a second trigger applies it).

Order: the calls are cut into segments at each run of claims (a claim after a settle of the
same client id must see that settle); within a segment settlements go before receipts, which
gives the same records as any order (reports only move a record forward, and a late failure
does not undo an accepted one). Versions grow by one per row position in each statement (gaps
are fine: the change feed only needs them to increase).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

import attrs

from smscenter.ids import canonical_message_id
from smscenter.models import DeliveryReport, MessageStatus
from smscenter.store._model import PlannedSend, Settlement, TrackedMessage, TrackedState
from smscenter.store._owner import OwnerCheck
from smscenter.store._sqlite_schema import (
    C_OWNER,
    C_STATE,
    MESSAGE_COLUMNS,
    dump_ids,
    to_micros,
    tracked,
)

__all__ = (
    "BEGUN",
    "DEAD_OWNER",
    "RESERVE",
    "Call",
    "PrepareCall",
    "RecordCall",
    "SettleCall",
    "run_calls",
    "setup_connection",
)

#: The error text of a record whose sender stopped mid-send (read as ``UNKNOWN``).
DEAD_OWNER = "the sending process stopped before the answer came: it may have been sent"

_ACCEPTED_VALUES = tuple(s.value for s in TrackedState if s.was_accepted)
_ACCEPTED_SQL = "(" + ", ".join(f"'{v}'" for v in _ACCEPTED_VALUES) + ")"
_MAY_SEND_SQL = "(" + ", ".join(f"'{s.value}'" for s in TrackedState if s.may_send) + ")"


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


# --- the connection's temporary objects ----------------------------------------------------


def _moves_rows() -> list[tuple[str, str, str, int, int, int]]:
    """(state, status) -> the state after the report, whether the report's status replaces
    the record's, whether the new state is final, whether the record's error is cleared."""
    rows = []
    for state in TrackedState:
        for status in MessageStatus:
            new = state.after_report(status)
            take = new is not state or TrackedState.for_report(status) is state
            clears = take and new is not state and state is not TrackedState.ACCEPTED
            rows.append(
                (state.value, status.value, new.value, int(take), int(new.is_final), int(clears))
            )
    return rows


def _move(item: int, default: str) -> str:
    """A SQL expression of one item of the moves (by the record's state and NEW.status): a
    CASE on the status, then on the state, listing only the pairs that differ from
    ``default`` (cheaper per row than a join on a table of the moves)."""
    by_status: dict[str, list[str]] = {}
    for row in _moves_rows():
        value = f"'{row[item]}'" if isinstance(row[item], str) else str(row[item])
        if value != default and not (item == 2 and row[2] == row[0]):
            by_status.setdefault(row[1], []).append(f"WHEN '{row[0]}' THEN {value}")
    branches = " ".join(
        f"WHEN '{status}' THEN CASE messages.state {' '.join(pairs)} ELSE {default} END"
        for status, pairs in by_status.items()
    )
    return f"CASE NEW.status {branches} ELSE {default} END"


# How a report moves its record (the same for a new report and a pending one matched later);
# {now} and {version} differ between the two triggers.
_APPLY = f"""
    UPDATE messages SET
        status = CASE WHEN {_move(3, "0")} THEN NEW.status ELSE status END,
        delivery_error = CASE WHEN {_move(3, "0")} THEN NEW.error ELSE delivery_error END,
        error = CASE WHEN {_move(5, "0")} THEN NULL ELSE error END,
        error_code = CASE WHEN {_move(5, "0")} THEN NULL ELSE error_code END,
        state = {_move(2, "messages.state")},
        cost = coalesce(NEW.cost, cost),
        parts = coalesce(NEW.parts, parts),
        accepted_at = coalesce(accepted_at, {{now}}),
        finished_at = CASE WHEN finished_at IS NULL AND {_move(4, "0")} THEN {{now}}
            ELSE finished_at END,
        updated_at = {{now}},
        version = {{version}}
    WHERE client_id = NEW.client_id;
"""

_SETUP = f"""
CREATE TEMP TABLE clock (version INTEGER NOT NULL, now INTEGER NOT NULL);
INSERT INTO temp.clock VALUES (0, 0);
CREATE TEMP TRIGGER report_added AFTER INSERT ON main.reports
WHEN NEW.client_id IS NOT NULL BEGIN
    {_APPLY.format(now="NEW.received_at", version="NEW.seq")}
END;
CREATE TEMP TRIGGER report_matched AFTER UPDATE OF client_id ON main.reports
WHEN OLD.client_id IS NULL AND NEW.client_id IS NOT NULL BEGIN
    UPDATE clock SET version = version + 1;
    {_APPLY.format(now="(SELECT now FROM temp.clock)", version="(SELECT version FROM temp.clock)")}
END;
"""


def setup_connection(db: sqlite3.Connection, owners: OwnerCheck) -> None:
    """Create the writer connection's temporary tables and triggers, and the SQL function
    ``owner_dead(token)`` (the rare check of a record ``SENDING`` under another owner)."""
    db.create_function("owner_dead", 1, lambda token: not owners.alive(token))
    db.executescript(_SETUP)


# --- the statements -----------------------------------------------------------------------

# ?1 the JSON array of [client_id, recipient], ?2 the owner token, ?3 now, ?4 the version
# before the statement, ?5 resend_unknown, ?6 the transport. (Fewer fields, fewer JSON parses:
# SQLite parses a row's array again for each ->>.)
_CLAIM = f"""
INSERT INTO messages (client_id, recipient, state, transport, attempts, owner, created_at,
    updated_at, version)
SELECT value ->> 0, value ->> 1, 'sending', ?6, 1, ?2, ?3, ?3, ?4 + key + 1
FROM json_each(?1) WHERE true
ON CONFLICT (client_id) DO UPDATE SET
    state = 'sending', attempts = attempts + 1, owner = excluded.owner,
    recipient = excluded.recipient, transport = excluded.transport, error = NULL,
    error_code = NULL, finished_at = NULL, updated_at = excluded.updated_at,
    version = excluded.version
WHERE state IN {_MAY_SEND_SQL}
    OR (?5 AND (state = 'unknown' OR (state = 'sending' AND owner IS NOT ?2 AND owner_dead(owner))))
"""
# The claims that did not change their row (declined): its version is not the claim's.
_DECLINED = f"""
SELECT j.key, {", ".join(f"m.{c}" for c in MESSAGE_COLUMNS)}
FROM json_each(?1) AS j JOIN messages AS m ON m.client_id = j.value ->> 0
WHERE m.version IS NOT ?2 + j.key + 1
"""

# The record as a settlement leaves it: (column, its value on insert as an accepted
# settlement's row gives it, as a failed one's, its value on update). On update, ``excluded``
# holds the insert's values, which are the settlement's own.
# An accepted row: [client_id, first id, part ids (null: the first id alone), parts, cost].
# A failed row: [client_id, state, error, error_code, final?, 0].
_SETTLED = f"CASE WHEN state IN {_ACCEPTED_SQL}"
_SETTLE_COLUMNS = (
    ("state", "'accepted'", "value ->> 1", f"{_SETTLED} THEN state ELSE excluded.state END"),
    ("error", "NULL", "value ->> 2", f"{_SETTLED} THEN error ELSE excluded.error END"),
    (
        "error_code",
        "NULL",
        "value ->> 3",
        f"{_SETTLED} THEN error_code ELSE excluded.error_code END",
    ),
    (
        "message_id",
        "value ->> 1",
        "NULL",
        "CASE WHEN excluded.part_ids IS NOT NULL THEN excluded.message_id ELSE message_id END",
    ),
    (
        "part_ids",
        "coalesce(value ->> 2, value ->> 1)",
        "NULL",
        "coalesce(excluded.part_ids, part_ids)",
    ),
    ("parts", "value ->> 3", "NULL", "coalesce(excluded.parts, parts)"),
    ("cost", "value ->> 4", "NULL", "coalesce(excluded.cost, cost)"),
    ("accepted_at", "?2", "NULL", "coalesce(accepted_at, excluded.accepted_at)"),
    (
        "finished_at",
        "NULL",
        "CASE WHEN value ->> 4 THEN ?2 END",
        f"{_SETTLED} THEN finished_at ELSE coalesce(finished_at, excluded.finished_at) END",
    ),
)


def _settle_sql(shape: int) -> str:
    """The settle upsert for rows of one shape (1: accepted, 2: failed). ?1 the JSON array
    of rows, ?2 now, ?3 the version before."""
    return f"""
INSERT INTO messages (client_id, recipient, attempts, created_at, updated_at, version,
    {", ".join(c[0] for c in _SETTLE_COLUMNS)})
SELECT value ->> 0, '', 0, ?2, ?2, ?3 + key + 1, {", ".join(c[shape] for c in _SETTLE_COLUMNS)}
FROM json_each(?1) WHERE true
ON CONFLICT (client_id) DO UPDATE SET
    {", ".join(f"{c[0]} = {c[3]}" for c in _SETTLE_COLUMNS)},
    updated_at = excluded.updated_at, version = excluded.version
WHERE ({", ".join(c[3] for c in _SETTLE_COLUMNS)})
    IS NOT ({", ".join(c[0] for c in _SETTLE_COLUMNS)})
"""


_SETTLE_ACCEPTED = _settle_sql(1)
_SETTLE_FAILED = _settle_sql(2)
# The ids of accepted settlements: ?1 their rows (the first ids), ?2 more part ids as
# [id, client_id] pairs.
_IDS = """
INSERT OR REPLACE INTO ids (message_id, client_id)
SELECT value ->> 1, value ->> 0 FROM json_each(?1) WHERE value ->> 1 IS NOT NULL
UNION ALL SELECT value ->> 0, value ->> 1 FROM json_each(?2)
"""
_ANY_PENDING = "SELECT EXISTS (SELECT 1 FROM reports WHERE client_id IS NULL)"
#: The version counter, and whether any report is pending (run_calls' arguments).
BEGUN = f"SELECT value, ({_ANY_PENDING[7:]}) FROM meta WHERE key = 'version'"
#: The same, reserving ?1 versions (the rows of a transaction's calls, the most they use but
#: for pending reports matched): one statement for what would be two, at the start and at the
#: end (each statement takes the GIL back, which a busy event loop may hold for a while).
RESERVE = (
    "UPDATE meta SET value = value + ?1 WHERE key = 'version' "
    f"RETURNING value - ?1, ({_ANY_PENDING[7:]})"
)
# Pending reports for the ids (?1) or client ids (?2) just settled, as JSON arrays.
_MATCH = """
UPDATE reports SET client_id = coalesce(
    (SELECT client_id FROM ids WHERE ids.message_id = reports.message_id),
    (SELECT client_id FROM messages WHERE messages.client_id = reports.report_client_id))
WHERE client_id IS NULL AND (
    message_id IN (SELECT value FROM json_each(?1))
    OR report_client_id IN (SELECT value FROM json_each(?2)))
"""
# ?1 the JSON array of [event_key, message_id, client_id, status, error, changed_at,
# transport, cost, parts, raw_status], ?2 now, ?3 the version before.
_RECORD = """
INSERT OR IGNORE INTO reports (event_key, client_id, seq, message_id, report_client_id,
    status, error, changed_at, received_at, transport, cost, parts, raw_status)
SELECT value ->> 0, coalesce(
        (SELECT client_id FROM ids WHERE ids.message_id = value ->> 1),
        (SELECT client_id FROM messages WHERE messages.client_id = value ->> 2)),
    ?3 + key + 1, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, ?2,
    value ->> 6, value ->> 7, value ->> 8, value ->> 9
FROM json_each(?1)
"""

# Reports of ?1 (event keys) matched by the client id they name: learn their ids, so that later
# reports naming only the id match too.
_LEARN = """
INSERT OR IGNORE INTO ids (message_id, client_id)
SELECT message_id, client_id FROM reports
WHERE event_key IN (SELECT value FROM json_each(?1)) AND client_id = report_client_id
"""


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


def run_calls(
    db: sqlite3.Connection,
    calls: Sequence[Call],
    version: int,
    now: int,
    owners: OwnerCheck,
    in_flight: set[str],
    pending: bool = True,
) -> int:
    """Apply ``calls`` in the open transaction; return the version counter after them.

    ``pending``: whether reports without a record (pending) existed when the transaction
    began (read with its version: one statement less when there are none, the usual)."""
    maybe: bool | None = pending  # None: not known (a statement here may have added some)
    for segment in _segments(calls):
        if segment.claims:
            version = _claim(db, segment.claims, version, now, owners, in_flight)
        if segment.settles:
            version = _settle(db, segment.settles, version, now, in_flight, maybe)
        if segment.records:
            rows = [_report_row(r) for call in segment.records for r in call.reports]
            db.execute(_RECORD, (_dumps(rows), now, version))
            version += len(rows)
            named = [row[0] for row in rows if row[2] is not None]
            if named:  # (callbacks name the client id; SMPP receipts do not)
                db.execute(_LEARN, (_dumps(named),))
            maybe = maybe or None
    return version


def _claim(
    db: sqlite3.Connection,
    calls: list[PrepareCall],
    version: int,
    now: int,
    owners: OwnerCheck,
    in_flight: set[str],
) -> int:
    """Claim the sends of ``calls``: one statement per run of sends with the same
    resend_unknown and transport (almost always one)."""
    sends = [s for call in calls for s in call.sends]
    flags = [call.resend_unknown for call in calls for _ in call.sends]
    answers: list[TrackedMessage | None] = [None] * len(sends)
    start = 0
    while start < len(sends):
        resend, transport = flags[start], sends[start].transport
        end = start + 1
        while end < len(sends) and flags[end] == resend and sends[end].transport is transport:
            end += 1
        rows = [[s.client_id, s.recipient] for s in sends[start:end]]
        text = _dumps(rows)
        parameters = (text, owners.own_token, now, version, resend, transport._value_)
        claimed = db.execute(_CLAIM, parameters).rowcount
        if claimed != len(rows):
            for position, *row in db.execute(_DECLINED, (text, version)):
                answers[start + position] = _answer(row, owners)
        version += len(rows)
        start = end
    position = 0
    for call in calls:
        call.result = answers[position : position + len(call.sends)]
        position += len(call.sends)
    in_flight.update(s.client_id for s, a in zip(sends, answers, strict=True) if a is None)
    return version


def _answer(row: Sequence[Any], owners: OwnerCheck) -> TrackedMessage:
    """A declined claim's answer: the record (one ``SENDING`` under a stopped owner reads as
    ``UNKNOWN``, as the reads show it)."""
    if row[C_STATE] == TrackedState.SENDING.value and not owners.alive(row[C_OWNER]):
        values = list(row)
        message = tracked(values, TrackedState.UNKNOWN)
        return _evolve_error(message)
    return tracked(row)


def _evolve_error(message: TrackedMessage) -> TrackedMessage:
    return attrs.evolve(message, error=DEAD_OWNER, error_code=None)


def _settle(
    db: sqlite3.Connection,
    calls: list[SettleCall],
    version: int,
    now: int,
    in_flight: set[str],
    pending: bool | None,
) -> int:
    """Apply the settlements of ``calls``: one statement per run of accepted or failed ones
    (in order: the same client id may be settled twice), then their ids, then match the
    pending reports they name (``pending``: whether there are any; ``None``: look)."""
    more: list[tuple[str, str]] = []
    rows = [_settle_row(s, more) for call in calls for s in call.settlements]
    in_flight.difference_update(row[0] for row in rows)
    accepted: list[list[Any]] = []
    texts: list[str] = []  # of the accepted runs
    start = 0
    while start < len(rows):
        failed = _is_failed(rows[start])
        end = start + 1
        while end < len(rows) and _is_failed(rows[end]) == failed:
            end += 1
        run = rows[start:end]
        text = _dumps(run)
        db.execute(_SETTLE_FAILED if failed else _SETTLE_ACCEPTED, (text, now, version))
        if not failed:
            accepted += run
            texts.append(text)
        version += len(run)
        start = end
    if accepted:
        # (the usual: one run of accepted ones, its text written once)
        db.execute(_IDS, (texts[0] if len(texts) == 1 else _dumps(accepted), _dumps(more)))
    if pending is None:
        pending = bool(db.execute(_ANY_PENDING).fetchone()[0])
    if pending:
        ids = [row[1] for row in accepted if row[1] is not None] + [i for i, _ in more]
        db.execute("UPDATE temp.clock SET version = ?, now = ?", (version, now))
        db.execute(_MATCH, (_dumps(ids), _dumps([row[0] for row in rows])))
        version = db.execute("SELECT version FROM temp.clock").fetchone()[0]
    return int(version)


def _is_failed(row: list[Any]) -> bool:
    return len(row) == 6
