"""One write transaction of the SQLite store: the calls that queued up while the previous
transaction ran, applied together (group commit).

A :class:`Batch` runs in four steps: it reads every row its calls touch with a handful of
queries (``json_each`` turns a list into a table, so a batch of any size is one query per
table), decides each call in Python on those rows in the order the calls came, then writes all
changed rows with one ``executemany`` per table and commits once. Rows are lists indexed by
the ``C_*`` / ``R_*`` constants of :mod:`._sqlite_schema`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite

from smscenter.ids import canonical_message_id
from smscenter.models import DeliveryReport, MessageStatus
from smscenter.store._model import PlannedSend, Settlement, TrackedMessage, TrackedState
from smscenter.store._owner import OwnerCheck
from smscenter.store._sqlite_schema import (
    C_ACCEPTED_AT,
    C_ATTEMPTS,
    C_CLIENT_ID,
    C_COST,
    C_DELIVERY_ERROR,
    C_ERROR,
    C_ERROR_CODE,
    C_FINISHED_AT,
    C_MESSAGE_ID,
    C_OWNER,
    C_PART_IDS,
    C_PARTS,
    C_RECIPIENT,
    C_STATE,
    C_STATUS,
    C_TRANSPORT,
    C_UPDATED_AT,
    C_VERSION,
    R_CLIENT_ID,
    R_COST,
    R_ERROR,
    R_EVENT_KEY,
    R_MESSAGE_ID,
    R_PARTS,
    R_REPORT_CLIENT_ID,
    R_SEQ,
    R_STATUS,
    SELECT_MESSAGES,
    SELECT_REPORTS,
    STATES,
    dump_ids,
    to_micros,
    tracked,
)
from smscenter.store._sqlite_sparse import insert_reports, upsert_messages

__all__ = ("DEAD_OWNER", "Batch", "PrepareCall", "RecordCall", "SettleCall")

#: The error text of a record whose sender stopped mid-send (read as ``UNKNOWN``).
DEAD_OWNER = "the sending process stopped before the answer came: it may have been sent"

_SENDING = TrackedState.SENDING.value
_UNKNOWN = TrackedState.UNKNOWN.value
_ACCEPTED = TrackedState.ACCEPTED.value
_IN = "IN (SELECT value FROM json_each(?))"
_FINAL_VALUES = frozenset(s.value for s in TrackedState if s.is_final)
_ACCEPTED_VALUES = frozenset(s.value for s in TrackedState if s.was_accepted)


def _report_moves() -> dict[str, dict[str, tuple[str, bool]]]:
    """For each (record state, report status): the state after the report, and whether the
    report's status and error replace the record's (see :meth:`TrackedState.after_report`).
    A table of strings, so applying a report costs two dict lookups."""
    moves: dict[str, dict[str, tuple[str, bool]]] = {}
    for state in TrackedState:
        for status in MessageStatus:
            new = state.after_report(status)
            take = new is not state or TrackedState.for_report(status) is state
            moves.setdefault(state.value, {})[status.value] = (new.value, take)
    return moves


_REPORT_MOVES = _report_moves()


class PrepareCall:
    __slots__ = ("resend_unknown", "result", "sends")

    def __init__(self, sends: Sequence[PlannedSend], resend_unknown: bool) -> None:
        self.sends = sends
        self.resend_unknown = resend_unknown
        self.result: list[TrackedMessage | None] = []


class SettleCall:
    __slots__ = ("ids", "settlements")

    def __init__(self, settlements: Sequence[Settlement]) -> None:
        self.settlements = settlements
        self.ids = [_settled_ids(s) for s in settlements]  # each settlement's canonical ids


class RecordCall:
    __slots__ = ("keys", "reports")

    def __init__(self, reports: Sequence[DeliveryReport]) -> None:
        self.reports = reports
        self.keys = [r.event_key for r in reports]


Call = PrepareCall | SettleCall | RecordCall


def _settled_ids(settlement: Settlement) -> tuple[str, ...]:
    part_ids = settlement.part_ids
    first = settlement.message_id
    # The usual: one part, its id canonical already (a transport's SendResult has it so).
    if len(part_ids) == 1 and first == part_ids[0] and canonical_message_id(first) == first:
        return part_ids
    ids = [canonical_message_id(i) for i in part_ids]
    if first is not None:
        first = canonical_message_id(first)
        if first not in ids:
            ids.insert(0, first)
    return tuple(ids)


class Batch:
    """The state of one transaction (see the module docstring)."""

    def __init__(
        self,
        now: int,
        owners: OwnerCheck,
        in_flight: set[str],
        known: dict[str, tuple[Any, ...]] | None = None,
    ) -> None:
        self.now = now
        # Rows as this store last committed them, known to be the file's rows still (see
        # SQLiteStore._known): read from here rather than from the file.
        self.known = known
        self.known_ids: dict[str, str] | None = None  # the same, for the ids table
        self.owners = owners
        self.in_flight = in_flight  # client ids this store claimed and has not settled
        self.rows: dict[str, list[Any]] = {}
        self.dirty: dict[str, list[Any]] = {}
        self.ids: dict[str, str] = {}
        self.new_ids: list[tuple[str, str]] = []
        self.seen_keys: set[str] = set()
        self.new_reports: list[Sequence[Any]] = []
        self.matched: list[list[Any]] = []  # pending rows of the table, now matched
        self.pending_by_id: dict[str, list[list[Any]]] = {}
        self.pending_by_client: dict[str, list[list[Any]]] = {}
        self.version = 0
        self._answers: list[tuple[PrepareCall, int, list[Any]]] = []

    # --- step 1: read -----------------------------------------------------------------------

    async def load(self, db: aiosqlite.Connection, calls: Sequence[Call]) -> None:
        """Read the rows the calls touch (``version`` is read before, with the transaction)."""
        client_ids: set[str] = set()
        report_ids: set[str] = set()
        keys: set[str] = set()
        settled_ids: set[str] = set()
        settled_clients: set[str] = set()
        for call in calls:
            if isinstance(call, PrepareCall):
                client_ids.update(s.client_id for s in call.sends)
            elif isinstance(call, SettleCall):
                settled_clients.update(s.client_id for s in call.settlements)
                for ids in call.ids:
                    settled_ids.update(ids)
            else:
                keys.update(call.keys)
                for report in call.reports:
                    report_ids.add(report.message_id)
                    if report.client_id is not None:
                        client_ids.add(report.client_id)
        client_ids |= settled_clients
        # An id settled in this batch needs no look-up: its report finds it once the settle is
        # applied, or waits as pending until then (the pool hands a receipt's settlement over
        # with it, so this is the usual case).
        report_ids -= settled_ids
        known_ids = self.known_ids
        if report_ids and known_ids:  # ids this store wrote or read lately (like `known`)
            missing_ids = set()
            for message_id in report_ids:
                found_id = known_ids.get(message_id)
                if found_id is None:
                    missing_ids.add(message_id)
                else:
                    self.ids[message_id] = found_id
                    client_ids.add(found_id)
            report_ids = missing_ids
        if report_ids:
            rows = await db.execute_fetchall(
                f"SELECT message_id, client_id FROM ids WHERE message_id {_IN}",
                (_json(report_ids),),
            )
            for message_id, client_id in rows:
                self.ids[message_id] = client_id
                client_ids.add(client_id)
        if keys:
            rows = await db.execute_fetchall(
                f"SELECT event_key FROM reports WHERE event_key {_IN}", (_json(keys),)
            )
            self.seen_keys.update(key for (key,) in rows)
        if settled_clients and await _any_pending(db):
            pending = list(
                await db.execute_fetchall(
                    f"{SELECT_REPORTS} INDEXED BY pending_by_id "
                    f"WHERE client_id IS NULL AND message_id {_IN}",
                    (_json(settled_ids),),
                )
            )
            pending += await db.execute_fetchall(
                f"{SELECT_REPORTS} INDEXED BY pending_by_client "
                f"WHERE client_id IS NULL AND report_client_id IS NOT NULL "
                f"AND report_client_id {_IN}",
                (_json(settled_clients),),
            )
            seen: set[str] = set()
            for found_row in pending:
                if found_row[R_EVENT_KEY] not in seen:
                    seen.add(found_row[R_EVENT_KEY])
                    row = list(found_row)
                    self.matched.append(row)  # written back only if it gets a client id
                    self._add_pending(row)
        known = self.known
        if client_ids and known:
            missing = set()
            for client_id in client_ids:
                cached = known.get(client_id)
                if cached is None:
                    missing.add(client_id)
                else:
                    self.rows[client_id] = list(cached)
            client_ids = missing
        if client_ids:
            rows = await db.execute_fetchall(
                f"{SELECT_MESSAGES} WHERE client_id {_IN}", (_json(client_ids),)
            )
            for message_row in rows:
                self.rows[message_row[C_CLIENT_ID]] = list(message_row)

    # --- step 2: decide ---------------------------------------------------------------------

    def apply(self, call: Call) -> None:
        if isinstance(call, PrepareCall):
            self._prepare(call)
        elif isinstance(call, SettleCall):
            for settlement, ids in zip(call.settlements, call.ids, strict=True):
                self._settle(settlement, ids)
        else:
            for report, key in zip(call.reports, call.keys, strict=True):
                self._record(report, key)

    def next_version(self) -> int:
        self.version += 1
        return self.version

    def _touch(self, row: list[Any]) -> None:
        row[C_UPDATED_AT] = self.now
        self.dirty[row[C_CLIENT_ID]] = row

    def mark_dead(self, row: list[Any]) -> None:
        row[C_STATE] = _UNKNOWN
        row[C_ERROR] = DEAD_OWNER
        row[C_ERROR_CODE] = None
        self._touch(row)

    def _prepare(self, call: PrepareCall) -> None:
        owner = self.owners.own_token
        for send in call.sends:
            key = send.client_id
            row = self.rows.get(key)
            if row is None:
                row = [
                    key, send.recipient, _SENDING, send.transport.value, None, None, None,
                    None, None, None, None, None, 1, owner, self.now, self.now, None, None, 0,
                ]  # fmt: skip
                self.rows[key] = row
                self.dirty[key] = row
                self.in_flight.add(key)
                call.result.append(None)
                continue
            state = row[C_STATE]
            if state == _SENDING and not self.owners.alive(row[C_OWNER]):
                self.mark_dead(row)
                state = _UNKNOWN
            if STATES[state].may_send or (state == _UNKNOWN and call.resend_unknown):
                row[C_STATE] = _SENDING
                row[C_ATTEMPTS] += 1
                row[C_OWNER] = owner
                row[C_RECIPIENT] = send.recipient
                row[C_TRANSPORT] = send.transport.value
                row[C_ERROR] = row[C_ERROR_CODE] = row[C_FINISHED_AT] = None
                self._touch(row)
                self.in_flight.add(key)
                call.result.append(None)
            else:
                self._answers.append((call, len(call.result), list(row)))
                call.result.append(None)  # filled in by answers() once versions are known

    def _settle(self, settlement: Settlement, ids: tuple[str, ...]) -> None:
        key = settlement.client_id
        self.in_flight.discard(key)
        row = self.rows.get(key)
        if row is None:
            # Settled without a prepare (another writer's record was purged, or a transport
            # that does not prepare): keep what is known rather than drop it.
            row = [
                key, "", TrackedState.QUEUED.value, None, None, None, None, None, None, None,
                None, None, 0, None, self.now, self.now, None, None, 0,
            ]  # fmt: skip
            self.rows[key] = row
        state = row[C_STATE]
        changed = row[C_VERSION] == 0  # new in this batch: written whatever comes
        if settlement.state is TrackedState.ACCEPTED:
            if state not in _ACCEPTED_VALUES:
                row[C_STATE] = _ACCEPTED
                row[C_ERROR] = row[C_ERROR_CODE] = None
                changed = True
            if ids:
                part_ids = dump_ids(ids)
                if row[C_PART_IDS] != part_ids:
                    row[C_MESSAGE_ID] = ids[0]
                    row[C_PART_IDS] = part_ids
                    changed = True
                    for message_id in ids:
                        if self.ids.get(message_id) != key:
                            self.ids[message_id] = key
                            self.new_ids.append((message_id, key))
            parts, cost = settlement.parts, settlement.cost
            if parts is not None and row[C_PARTS] != parts:
                row[C_PARTS] = parts
                changed = True
            if cost is not None and row[C_COST] != (text := str(cost)):
                row[C_COST] = text
                changed = True
            if row[C_ACCEPTED_AT] is None:
                row[C_ACCEPTED_AT] = self.now
                changed = True
        elif state not in _ACCEPTED_VALUES:
            # A report already showed the provider has it: a late failure does not undo that.
            new = (settlement.state.value, settlement.error, settlement.error_code)
            if (state, row[C_ERROR], row[C_ERROR_CODE]) != new:
                row[C_STATE], row[C_ERROR], row[C_ERROR_CODE] = new
                changed = True
            if settlement.state.is_final and row[C_FINISHED_AT] is None:
                row[C_FINISHED_AT] = self.now
                changed = True
        if changed:
            row[C_UPDATED_AT] = self.now
            self.dirty[key] = row
        if self.pending_by_id or self.pending_by_client:
            self._match_pending(key, row, ids)

    def _match_pending(self, key: str, row: list[Any], ids: tuple[str, ...]) -> None:
        found = self.pending_by_client.pop(key, [])
        by_id = self.pending_by_id
        for message_id in ids:
            more = by_id.pop(message_id, None)
            if more:
                found += more
        if len(found) > 1:
            found.sort(key=_seq)
        for report in found:
            if report[R_CLIENT_ID] is None:
                report[R_CLIENT_ID] = key
                self._apply_report(row, report)

    def _add_pending(self, report: list[Any]) -> None:
        self.pending_by_id.setdefault(report[R_MESSAGE_ID], []).append(report)
        if report[R_REPORT_CLIENT_ID] is not None:
            self.pending_by_client.setdefault(report[R_REPORT_CLIENT_ID], []).append(report)

    def _record(self, report: DeliveryReport, key: str) -> None:
        seen = self.seen_keys
        if key in seen:
            return
        seen.add(key)
        message_id = report.message_id
        client_id = self.ids.get(message_id)
        row = None if client_id is None else self.rows.get(client_id)
        if row is None and report.client_id is not None:
            row = self.rows.get(report.client_id)
            if row is not None and message_id not in self.ids:
                # Learn the id, so that later reports naming only the id match too.
                self.ids[message_id] = report.client_id
                self.new_ids.append((message_id, report.client_id))
        changed, cost = report.changed_at, report.cost
        self.version += 1
        values = (
            key, None if row is None else row[C_CLIENT_ID], self.version, message_id,
            report.client_id, report.status._value_, report.error._value_,
            None if changed is None else to_micros(changed), self.now, report.transport._value_,
            None if cost is None else str(cost), report.parts, report.raw_status,
        )  # fmt: skip
        if row is None:  # pending: a list, its client id is set when it is matched
            entry = list(values)
            self.new_reports.append(entry)
            self._add_pending(entry)
        else:  # (a tuple of plain values: the garbage collector soon stops tracking it)
            self.new_reports.append(values)
            self._apply_report(row, values)

    def _apply_report(self, row: list[Any], report: Sequence[Any]) -> None:
        new, take_status = _REPORT_MOVES[row[C_STATE]][report[R_STATUS]]
        # Reports only move a record forward: the status of a late "transmitted" is kept in the
        # history but does not replace a "delivered" on the record.
        if take_status:
            row[C_STATUS] = report[R_STATUS]
            row[C_DELIVERY_ERROR] = report[R_ERROR]
            if new != row[C_STATE]:
                if row[C_STATE] != _ACCEPTED and row[C_ERROR] is not None:
                    row[C_ERROR] = row[C_ERROR_CODE] = None  # the unknown is known now
                row[C_STATE] = new
        if report[R_COST] is not None:
            row[C_COST] = report[R_COST]
        if report[R_PARTS] is not None:
            row[C_PARTS] = report[R_PARTS]
        now = self.now
        if row[C_ACCEPTED_AT] is None:
            row[C_ACCEPTED_AT] = now
        if row[C_FINISHED_AT] is None and new in _FINAL_VALUES:
            row[C_FINISHED_AT] = now
        row[C_UPDATED_AT] = now
        self.dirty[row[C_CLIENT_ID]] = row

    # --- step 3: write ----------------------------------------------------------------------

    def write(self, db: sqlite3.Connection) -> None:
        """Write the batch and commit, in the SQLite thread, in one hop (the event loop is not
        waited on between the statements: a busy loop would hold the transaction open)."""
        if self.dirty:
            for row in self.dirty.values():
                row[C_VERSION] = self.next_version()
            for sql, rows in upsert_messages(self.dirty.values()):
                db.executemany(sql, rows)
        if self.new_ids:
            db.executemany(
                "INSERT OR REPLACE INTO ids (message_id, client_id) VALUES (?, ?)", self.new_ids
            )
        if self.new_reports:
            for sql, rows in insert_reports(self.new_reports):
                db.executemany(sql, rows)
        matched = [(r[R_CLIENT_ID], r[R_EVENT_KEY]) for r in self.matched if r[R_CLIENT_ID]]
        if matched:
            db.executemany("UPDATE reports SET client_id = ? WHERE event_key = ?", matched)
        db.execute("UPDATE meta SET value = ? WHERE key = 'version'", (self.version,))
        db.execute("COMMIT")

    def answers(self) -> None:
        """Fill the prepare answers ("do not send: here is the record") once versions are known
        (a record changed in this batch shows its new version)."""
        for call, index, snapshot in self._answers:
            current = self.rows[snapshot[C_CLIENT_ID]]
            snapshot[C_VERSION] = current[C_VERSION]
            call.result[index] = tracked(snapshot)


async def _any_pending(db: aiosqlite.Connection) -> bool:
    return bool(await db.execute_fetchall("SELECT 1 FROM reports WHERE client_id IS NULL LIMIT 1"))


def _seq(report: list[Any]) -> int:
    seq: int = report[R_SEQ]
    return seq


def _json(values: Iterable[str]) -> str:
    return json.dumps(list(values), ensure_ascii=False)
