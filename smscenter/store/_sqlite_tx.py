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
    "DEAD_OWNER",
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


# How a report moves its record (the same for a new report and a pending one matched later);
# {now} and {version} differ between the two triggers.
_APPLY = """
    UPDATE messages SET
        status = CASE WHEN mv.take THEN NEW.status ELSE messages.status END,
        delivery_error = CASE WHEN mv.take THEN NEW.error ELSE messages.delivery_error END,
        error = CASE WHEN mv.clears THEN NULL ELSE messages.error END,
        error_code = CASE WHEN mv.clears THEN NULL ELSE messages.error_code END,
        state = mv.new_state,
        cost = coalesce(NEW.cost, messages.cost),
        parts = coalesce(NEW.parts, messages.parts),
        accepted_at = coalesce(messages.accepted_at, {now}),
        finished_at = CASE WHEN messages.finished_at IS NULL AND mv.final THEN {now}
            ELSE messages.finished_at END,
        updated_at = {now},
        version = {version}
    FROM temp.moves AS mv
    WHERE messages.client_id = NEW.client_id AND mv.state = messages.state
        AND mv.status = NEW.status;
"""

_SETUP = f"""
CREATE TEMP TABLE moves (
    state TEXT, status TEXT, new_state TEXT NOT NULL, take INTEGER NOT NULL,
    final INTEGER NOT NULL, clears INTEGER NOT NULL, PRIMARY KEY (state, status)
) WITHOUT ROWID;
CREATE TEMP TABLE clock (version INTEGER NOT NULL, now INTEGER NOT NULL);
INSERT INTO temp.clock VALUES (0, 0);
CREATE TEMP TRIGGER report_added AFTER INSERT ON main.reports
WHEN NEW.client_id IS NOT NULL BEGIN
    {_APPLY.format(now="NEW.received_at", version="NEW.seq")}
    -- matched by its client id: learn the id, so later reports naming only the id match too
    INSERT OR IGNORE INTO ids (message_id, client_id)
        SELECT NEW.message_id, NEW.client_id WHERE NEW.report_client_id IS NOT NULL;
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
    db.executemany("INSERT INTO temp.moves VALUES (?, ?, ?, ?, ?, ?)", _moves_rows())


# --- the statements -----------------------------------------------------------------------

# ?1 the JSON array of [client_id, recipient, transport], ?2 the owner token, ?3 now, ?4 the
# version before the statement, ?5 resend_unknown.
_CLAIM = f"""
INSERT INTO messages (client_id, recipient, state, transport, attempts, owner, created_at,
    updated_at, version)
SELECT value ->> 0, value ->> 1, 'sending', value ->> 2, 1, ?2, ?3, ?3, ?4 + key + 1
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

# The record as a settlement leaves it: (column, its value on insert, its value on update).
# On update, ``excluded`` holds the insert's values, which are the settlement's own.
_SETTLED = f"CASE WHEN state IN {_ACCEPTED_SQL}"
_SETTLE_COLUMNS = (
    ("state", "value ->> 1", f"{_SETTLED} THEN state ELSE excluded.state END"),
    ("error", "value ->> 6", f"{_SETTLED} THEN error ELSE excluded.error END"),
    ("error_code", "value ->> 7", f"{_SETTLED} THEN error_code ELSE excluded.error_code END"),
    (
        "message_id",
        "value ->> 2",
        "CASE WHEN excluded.part_ids IS NOT NULL THEN excluded.message_id ELSE message_id END",
    ),
    ("part_ids", "value ->> 3", "coalesce(excluded.part_ids, part_ids)"),
    ("parts", "value ->> 4", "coalesce(excluded.parts, parts)"),
    ("cost", "value ->> 5", "coalesce(excluded.cost, cost)"),
    (
        "accepted_at",
        "CASE WHEN value ->> 1 = 'accepted' THEN ?2 END",
        "coalesce(accepted_at, excluded.accepted_at)",
    ),
    (
        "finished_at",
        "CASE WHEN value ->> 8 THEN ?2 END",
        f"{_SETTLED} THEN finished_at ELSE coalesce(finished_at, excluded.finished_at) END",
    ),
)
# ?1 the JSON array of [client_id, state, first id, part ids, parts, cost, error, error_code,
# final?], ?2 now, ?3 the version before.
_SETTLE = f"""
INSERT INTO messages (client_id, recipient, attempts, created_at, updated_at, version,
    {", ".join(c for c, _, _ in _SETTLE_COLUMNS)})
SELECT value ->> 0, '', 0, ?2, ?2, ?3 + key + 1, {", ".join(i for _, i, _ in _SETTLE_COLUMNS)}
FROM json_each(?1) WHERE true
ON CONFLICT (client_id) DO UPDATE SET
    {", ".join(f"{c} = {u}" for c, _, u in _SETTLE_COLUMNS)},
    updated_at = excluded.updated_at, version = excluded.version
WHERE ({", ".join(u for _, _, u in _SETTLE_COLUMNS)})
    IS NOT ({", ".join(c for c, _, _ in _SETTLE_COLUMNS)})
"""
# Every id of the accepted settlements: ?1 the settle array (its first ids), ?2 more part ids
# as [id, client_id] pairs.
_IDS = """
INSERT OR REPLACE INTO ids (message_id, client_id)
SELECT value ->> 2, value ->> 0 FROM json_each(?1) WHERE value ->> 2 IS NOT NULL
UNION ALL SELECT value ->> 0, value ->> 1 FROM json_each(?2)
"""
_ANY_PENDING = "SELECT EXISTS (SELECT 1 FROM reports WHERE client_id IS NULL)"
# Pending reports for the ids or client ids just settled (same arguments as _IDS).
_MATCH = """
UPDATE reports SET client_id = coalesce(
    (SELECT client_id FROM ids WHERE ids.message_id = reports.message_id),
    (SELECT client_id FROM messages WHERE messages.client_id = reports.report_client_id))
WHERE client_id IS NULL AND (
    message_id IN (SELECT value ->> 2 FROM json_each(?1))
    OR message_id IN (SELECT value ->> 0 FROM json_each(?2))
    OR report_client_id IN (SELECT value ->> 0 FROM json_each(?1)))
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


# --- the rows -------------------------------------------------------------------------------


def _dumps(rows: list[Any]) -> str:
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


def _settle_row(s: Settlement, more: list[tuple[str, str]]) -> list[Any]:
    key = s.client_id
    state = s.state
    if state is not TrackedState.ACCEPTED:
        return [key, state._value_, None, None, None, None, s.error, s.error_code,
                1 if state.is_final else None]  # fmt: skip
    part_ids = s.part_ids
    first = s.message_id
    # The usual: one part, its id canonical already (a transport's SendResult has it so).
    if not (len(part_ids) == 1 and first == part_ids[0] and canonical_message_id(first) == first):
        ids = [canonical_message_id(i) for i in part_ids]
        if first is not None:
            first = canonical_message_id(first)
            if first not in ids:
                ids.insert(0, first)
        part_ids = tuple(ids)
        first = part_ids[0] if part_ids else None
        more.extend((i, key) for i in part_ids[1:])
    cost = s.cost
    return [key, "accepted", first, dump_ids(part_ids), s.parts,
            None if cost is None else str(cost), None, None, None]  # fmt: skip


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
) -> int:
    """Apply ``calls`` in the open transaction; return the version counter after them."""
    for segment in _segments(calls):
        if segment.claims:
            version = _claim(db, segment.claims, version, now, owners, in_flight)
        if segment.settles:
            version = _settle(db, segment.settles, version, now, in_flight)
        if segment.records:
            rows = [_report_row(r) for call in segment.records for r in call.reports]
            db.execute(_RECORD, (_dumps(rows), now, version))
            version += len(rows)
    return version


def _claim(
    db: sqlite3.Connection,
    calls: list[PrepareCall],
    version: int,
    now: int,
    owners: OwnerCheck,
    in_flight: set[str],
) -> int:
    # One statement per run of calls with the same resend_unknown (almost always one).
    start = 0
    while start < len(calls):
        resend = calls[start].resend_unknown
        end = start + 1
        while end < len(calls) and calls[end].resend_unknown == resend:
            end += 1
        version = _claim_run(db, calls[start:end], resend, version, now, owners, in_flight)
        start = end
    return version


def _claim_run(
    db: sqlite3.Connection,
    calls: list[PrepareCall],
    resend: bool,
    version: int,
    now: int,
    owners: OwnerCheck,
    in_flight: set[str],
) -> int:
    rows = [[s.client_id, s.recipient, s.transport._value_] for c in calls for s in c.sends]
    text = _dumps(rows)
    claimed = db.execute(_CLAIM, (text, owners.own_token, now, version, resend)).rowcount
    if claimed == len(rows):
        in_flight.update(row[0] for row in rows)
        for call in calls:
            call.result = [None] * len(call.sends)
        return version + len(rows)
    declined: dict[int, TrackedMessage] = {}
    for position, *row in db.execute(_DECLINED, (text, version)):
        declined[position] = _answer(row, owners)
    position = 0
    for call in calls:
        result = call.result = [None] * len(call.sends)
        for index in range(len(result)):
            answer = declined.get(position)
            if answer is None:
                in_flight.add(rows[position][0])
            else:
                result[index] = answer
            position += 1
    return version + len(rows)


def _answer(row: Sequence[Any], owners: OwnerCheck) -> TrackedMessage:
    """A declined claim's answer: the record (one ``SENDING`` under a stopped owner reads as
    ``UNKNOWN``, as the reads show it)."""
    if row[C_STATE] == TrackedState.SENDING.value and not owners.alive(row[C_OWNER]):
        values = list(row)
        message = tracked(values, TrackedState.UNKNOWN)
        return _evolve_error(message)
    return tracked(row)


def _evolve_error(message: TrackedMessage) -> TrackedMessage:
    import attrs

    return attrs.evolve(message, error=DEAD_OWNER, error_code=None)


def _settle(
    db: sqlite3.Connection,
    calls: list[SettleCall],
    version: int,
    now: int,
    in_flight: set[str],
) -> int:
    more: list[tuple[str, str]] = []
    rows = [_settle_row(s, more) for call in calls for s in call.settlements]
    in_flight.difference_update(row[0] for row in rows)
    text = _dumps(rows)
    db.execute(_SETTLE, (text, now, version))
    version += len(rows)
    extra = _dumps(more) if more else "[]"
    db.execute(_IDS, (text, extra))
    if db.execute(_ANY_PENDING).fetchone()[0]:
        db.execute("UPDATE temp.clock SET version = ?, now = ?", (version, now))
        db.execute(_MATCH, (text, extra))
        version = db.execute("SELECT version FROM temp.clock").fetchone()[0]
    return int(version)
