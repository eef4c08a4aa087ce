"""The SQLite store's tables, and the conversions between their rows and the store's values.

Three tables, mirroring what a key-value backend keeps per login:

- ``messages``: one row per client id (the record). A row is handled in Python as a list
  indexed by the ``C_*`` constants below, in the column order of :data:`MESSAGE_COLUMNS`.
- ``ids``: every part's canonical provider id -> client id (``WITHOUT ROWID``: the id is the
  key, the row is the index).
- ``reports``: the report history, one row per distinct report (``event_key`` is the key, so a
  repeated report adds nothing). A report the store could not match yet has no ``client_id``
  (it is *pending*) and is matched when its id is settled.

Times are integers of microseconds since the Unix epoch, UTC (exact, and ordered); costs are
the :class:`~decimal.Decimal`'s text (exact).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from smscenter._provider import Transport
from smscenter.models import DeliveryError, MessageStatus
from smscenter.store._model import ReportEntry, TrackedMessage, TrackedState

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
    client_id TEXT NOT NULL UNIQUE,
    recipient TEXT NOT NULL,
    state TEXT NOT NULL,
    transport TEXT,
    message_id TEXT,
    part_ids TEXT,
    parts INTEGER,
    status TEXT,
    error TEXT,
    error_code INTEGER,
    delivery_error INTEGER,
    cost TEXT,
    attempts INTEGER NOT NULL,
    owner TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    accepted_at INTEGER,
    finished_at INTEGER,
    version INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_version ON messages (version);
CREATE TABLE IF NOT EXISTS ids (
    message_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reports (
    event_key TEXT PRIMARY KEY,
    client_id TEXT,
    seq INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    report_client_id TEXT,
    status TEXT NOT NULL,
    error INTEGER NOT NULL,
    changed_at INTEGER,
    received_at INTEGER NOT NULL,
    transport TEXT NOT NULL,
    cost TEXT,
    parts INTEGER,
    raw_status TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS reports_by_client ON reports (client_id, seq);
CREATE INDEX IF NOT EXISTS pending_by_id ON reports (message_id) WHERE client_id IS NULL;
CREATE INDEX IF NOT EXISTS pending_by_client ON reports (report_client_id)
    WHERE client_id IS NULL AND report_client_id IS NOT NULL;
INSERT OR IGNORE INTO meta (key, value) VALUES ('version', 0);
"""

MESSAGE_COLUMNS = (
    "client_id", "recipient", "state", "transport", "message_id", "part_ids", "parts", "status",
    "error", "error_code", "delivery_error", "cost", "attempts", "owner", "created_at",
    "updated_at", "accepted_at", "finished_at", "version",
)  # fmt: skip
(
    C_CLIENT_ID, C_RECIPIENT, C_STATE, C_TRANSPORT, C_MESSAGE_ID, C_PART_IDS, C_PARTS, C_STATUS,
    C_ERROR, C_ERROR_CODE, C_DELIVERY_ERROR, C_COST, C_ATTEMPTS, C_OWNER, C_CREATED_AT,
    C_UPDATED_AT, C_ACCEPTED_AT, C_FINISHED_AT, C_VERSION,
) = range(len(MESSAGE_COLUMNS))  # fmt: skip

SELECT_MESSAGES = f"SELECT {', '.join(MESSAGE_COLUMNS)} FROM messages"

REPORT_COLUMNS = (
    "event_key", "client_id", "seq", "message_id", "report_client_id", "status", "error",
    "changed_at", "received_at", "transport", "cost", "parts", "raw_status",
)  # fmt: skip
(
    R_EVENT_KEY, R_CLIENT_ID, R_SEQ, R_MESSAGE_ID, R_REPORT_CLIENT_ID, R_STATUS, R_ERROR,
    R_CHANGED_AT, R_RECEIVED_AT, R_TRANSPORT, R_COST, R_PARTS, R_RAW_STATUS,
) = range(len(REPORT_COLUMNS))  # fmt: skip
SELECT_REPORTS = f"SELECT {', '.join(REPORT_COLUMNS)} FROM reports"

STATES: dict[str, TrackedState] = {s.value: s for s in TrackedState}
STATUSES: dict[str, MessageStatus] = {s.value: s for s in MessageStatus}
_TRANSPORTS: dict[str, Transport] = {t.value: t for t in Transport}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_micros(value: datetime) -> int:
    """An aware datetime as exact microseconds since the epoch."""
    # (from the timedelta's parts: a timedelta // timedelta costs several times more)
    span = value - _EPOCH
    return (span.days * 86_400 + span.seconds) * 1_000_000 + span.microseconds


def from_micros(value: int | None) -> datetime | None:
    return None if value is None else _EPOCH + timedelta(microseconds=value)


def _time(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


# Part ids are stored comma-separated when no id holds a comma or starts the text with "[" (the
# provider's ids are numbers), else as a JSON list: cheap for the common case, exact for all.
def dump_ids(part_ids: Sequence[str]) -> str | None:
    if not part_ids:
        return None
    text = ",".join(part_ids)
    if text and text.count(",") == len(part_ids) - 1 and text[0] != "[":
        return text
    return json.dumps(list(part_ids), ensure_ascii=False)


def load_ids(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(json.loads(text)) if text[0] == "[" else tuple(text.split(","))


def dump_cost(cost: Decimal | None) -> str | None:
    return None if cost is None else str(cost)


def tracked(row: Sequence[Any], state: TrackedState | None = None) -> TrackedMessage:
    """A ``messages`` row as a :class:`TrackedMessage` (``state`` overrides the stored one)."""
    transport, status = row[C_TRANSPORT], row[C_STATUS]
    error, cost = row[C_DELIVERY_ERROR], row[C_COST]
    return TrackedMessage(
        client_id=row[C_CLIENT_ID],
        recipient=row[C_RECIPIENT],
        state=state if state is not None else STATES[row[C_STATE]],
        transport=None if transport is None else _TRANSPORTS[transport],
        message_id=row[C_MESSAGE_ID],
        part_ids=load_ids(row[C_PART_IDS]),
        parts=row[C_PARTS],
        status=None if status is None else STATUSES[status],
        error=row[C_ERROR],
        error_code=row[C_ERROR_CODE],
        delivery_error=None if error is None else DeliveryError(error),
        cost=None if cost is None else Decimal(cost),
        attempts=row[C_ATTEMPTS],
        created_at=_time(row[C_CREATED_AT]),
        updated_at=_time(row[C_UPDATED_AT]),
        accepted_at=from_micros(row[C_ACCEPTED_AT]),
        finished_at=from_micros(row[C_FINISHED_AT]),
        version=row[C_VERSION],
    )


def report_entry(row: Sequence[Any]) -> ReportEntry:
    """A ``reports`` row as a :class:`ReportEntry`."""
    cost = row[R_COST]
    return ReportEntry(
        status=STATUSES[row[R_STATUS]],
        error=DeliveryError(row[R_ERROR]),
        changed_at=from_micros(row[R_CHANGED_AT]),
        received_at=_time(row[R_RECEIVED_AT]),
        transport=_TRANSPORTS[row[R_TRANSPORT]],
        message_id=row[R_MESSAGE_ID],
        event_key=row[R_EVENT_KEY],
        cost=None if cost is None else Decimal(cost),
        raw_status=row[R_RAW_STATUS],
    )
