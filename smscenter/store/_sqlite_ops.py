"""The SQL of the SQLite store's write transaction: a temporary view whose rows are operations.

A transaction is ONE statement, ``INSERT INTO temp.batch VALUES (op), (op), ...``, run in
autocommit mode (a write statement takes the write lock as it starts and commits as it ends:
atomic and durable on its own). Each row of the view is an operation over a JSON array of
compact rows (``json_each`` turns it into a table), and ``INSTEAD OF`` triggers, one per kind,
do its work, in row order:

- ``claim`` (``prepare``): an upsert whose ``WHERE`` says "may send"; a declined row hands
  its record to the SQL function ``declined(op, position, <the record's columns>)``;
- ``accepted`` / ``failed``: a run of settlements, an upsert that applies them (insert: a
  settle without a claim); the accepted ones' ids into ``ids``;
- ``folded``: an accepted settlement together with its message's first receipt, when both
  are in the transaction (the usual: the receipt comes right after the ``submit_sm_resp``):
  the record is written once, as the settle and then the receipt would leave it; the
  receipt's history entry is added by ``entries``;
- ``match``: after a segment's settlements, the pending reports they name are matched (only
  when some report is pending);
- ``receipts``: one ``INSERT OR IGNORE`` into ``reports`` (a repeat adds nothing), its record
  found through ``ids`` or the client id it names; the trigger ``report_added`` then moves
  the record (by :meth:`TrackedState.after_report`). A receipt with no record yet is kept
  *pending*; ``report_matched`` applies it when a settle names its id;
- ``learn``: the ids of receipts matched by the client id they name, so that later receipts
  naming only the id match too.

The operations that carry reports (``folded``, ``entries``, ``receipts``) carry the fields a
run of reports shares (status, error, times, cost...) once per distinct value (``_tails``).

Why one statement: Python's ``sqlite3`` releases the GIL while a statement steps and must take
it back after; a busy event loop may hold it for a whole switch interval (5 ms by default), so
every statement of a transaction could cost that much wall time. One statement pays it once.

Versions: each operation numbers its rows from the counter in ``meta`` (``_BASE``) and then
advances it by its row count (``NEW.n``); a matched pending report takes one more.
"""

from __future__ import annotations

from smscenter.models import MessageStatus
from smscenter.store._model import TrackedState
from smscenter.store._sqlite_schema import MESSAGE_COLUMNS

__all__ = ("COLUMNS", "SETUP", "insert_sql")

_ACCEPTED_SQL = "(" + ", ".join(f"'{s.value}'" for s in TrackedState if s.was_accepted) + ")"
_MAY_SEND_SQL = "(" + ", ".join(f"'{s.value}'" for s in TrackedState if s.may_send) + ")"

#: The view's columns: the operation's position, its kind, its row count, its rows (a JSON
#: array), more rows (by kind: extra part ids, or the rows' shared tails), the time, and the
#: claim's owner, resend_unknown and transport.
COLUMNS = ("op", "kind", "n", "rows", "more", "now", "owner", "resend", "transport")

# The version counter before the operation (a constant subquery: read once per statement).
_BASE = "(SELECT value FROM main.meta WHERE key = 'version')"
_BUMP = "UPDATE meta SET value = value + NEW.n WHERE key = 'version';"


def insert_sql(count: int) -> str:
    """The statement of a transaction of ``count`` operations (one parameter per column)."""
    row = "(" + ", ".join("?" * len(COLUMNS)) + ")"
    return f"INSERT INTO temp.batch ({', '.join(COLUMNS)}) VALUES {', '.join([row] * count)}"


# --- receipts move records ------------------------------------------------------------------


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


def _move(item: int, default: str, status: str = "NEW.status") -> str:
    """A SQL expression of one item of the moves (by the record's state and the report's
    ``status``): a CASE on the status, then on the state, listing only the pairs that differ
    from ``default`` (cheaper per row than a join on a table of the moves)."""
    by_status: dict[str, list[str]] = {}
    for row in _moves_rows():
        value = f"'{row[item]}'" if isinstance(row[item], str) else str(row[item])
        if value != default and not (item == 2 and row[2] == row[0]):
            by_status.setdefault(row[1], []).append(f"WHEN '{row[0]}' THEN {value}")
    branches = " ".join(
        f"WHEN '{status}' THEN CASE messages.state {' '.join(pairs)} ELSE {default} END"
        for status, pairs in by_status.items()
    )
    return f"CASE {status} {branches} ELSE {default} END"


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

# --- the operations -------------------------------------------------------------------------


# A report's fields from its status on (and a folded settlement's parts and cost) are usually
# the same for a whole run of reports (one SMSC text: see the receipt reader), so the rows carry
# only what differs (ids) and the position of their *tail* in the operation's ``more``, a JSON
# array of the distinct tails. A ``->>`` costs about 0.6 us (SQLite 3.40), most of a row's
# time; a tail's values are taken out once per operation (MATERIALIZED: not flattened into the
# row loop; the join finds its tail through an automatic index on ``i``).
def _tails(*names: str) -> str:
    """The CTE ``t (i, <names>)`` of an operation's tails (``NEW.more``)."""
    values = ", ".join(f"value ->> {n}" for n in range(len(names)))
    return (
        f"t (i, {', '.join(names)}) AS MATERIALIZED (SELECT key, {values} FROM json_each(NEW.more))"
    )


# claim: rows [client_id, recipient]. A declined row (its WHERE false) calls declined() with
# the record as it is (the OR stops at the first true term: only declined rows call it).
_CLAIM = f"""
INSERT INTO messages (client_id, recipient, state, transport, attempts, owner, created_at,
    updated_at, version)
SELECT value ->> 0, value ->> 1, 'sending', NEW.transport, 1, NEW.owner, NEW.now, NEW.now,
    {_BASE} + key + 1
FROM json_each(NEW.rows) WHERE true
ON CONFLICT (client_id) DO UPDATE SET
    state = 'sending', attempts = attempts + 1, owner = excluded.owner,
    recipient = excluded.recipient, transport = excluded.transport, error = NULL,
    error_code = NULL, finished_at = NULL, updated_at = excluded.updated_at,
    version = excluded.version
WHERE state IN {_MAY_SEND_SQL}
    OR (NEW.resend AND (state = 'unknown'
        OR (state = 'sending' AND owner IS NOT NEW.owner AND owner_dead(owner))))
    OR declined(NEW.op, excluded.version - {_BASE} - 1, {", ".join(MESSAGE_COLUMNS)});
"""

# accepted / failed: the record as a settlement leaves it: (column, its value on insert as an
# accepted row gives it, as a failed one's, its value on update). On update, ``excluded`` holds the
# insert's values, which are the settlement's own.
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
    ("accepted_at", "NEW.now", "NULL", "coalesce(accepted_at, excluded.accepted_at)"),
    (
        "finished_at",
        "NULL",
        "CASE WHEN value ->> 4 THEN NEW.now END",
        f"{_SETTLED} THEN finished_at ELSE coalesce(finished_at, excluded.finished_at) END",
    ),
)


def _settle_sql(shape: int) -> str:
    """The settle upsert for rows of one shape (1: accepted, 2: failed)."""
    return f"""
INSERT INTO messages (client_id, recipient, attempts, created_at, updated_at, version,
    {", ".join(c[0] for c in _SETTLE_COLUMNS)})
SELECT value ->> 0, '', 0, NEW.now, NEW.now, {_BASE} + key + 1,
    {", ".join(c[shape] for c in _SETTLE_COLUMNS)}
FROM json_each(NEW.rows) WHERE true
ON CONFLICT (client_id) DO UPDATE SET
    {", ".join(f"{c[0]} = {c[3]}" for c in _SETTLE_COLUMNS)},
    updated_at = excluded.updated_at, version = excluded.version
WHERE ({", ".join(c[3] for c in _SETTLE_COLUMNS)})
    IS NOT ({", ".join(c[0] for c in _SETTLE_COLUMNS)});
"""


# accepted: more = the extra part ids as [id, client_id] pairs.
_IDS = """
INSERT OR REPLACE INTO ids (message_id, client_id)
SELECT value ->> 1, value ->> 0 FROM json_each(NEW.rows) WHERE value ->> 1 IS NOT NULL
UNION ALL SELECT value ->> 0, value ->> 1 FROM json_each(NEW.more);
"""

# folded: an accepted settlement and its message's first receipt, in one write of the record
# (the usual when the receipt comes right after the submit_sm_resp: both are in one transaction).
# Rows [client_id, id, tail] (one part, its id canonical); tails [parts, cost (the report's, else
# the settlement's), status, error, the state after the report from ACCEPTED, final then?]. The
# record reads as the settle and then the report would leave it: from its state once settled
# (``B``: its own when already accepted, else ACCEPTED, whose moves the tail carries), the
# report's move.
# (From ACCEPTED every report's status is taken and no error is cleared.)
_B_OWN = f"state IN {_ACCEPTED_SQL}"
_TAKE = _move(3, "0", "excluded.status")
_CLEARS = _move(5, "0", "excluded.status")
_FOLD = f"""
INSERT INTO messages (client_id, recipient, attempts, created_at, updated_at, version, state,
    message_id, part_ids, parts, cost, status, delivery_error, accepted_at, finished_at)
WITH {_tails("parts", "cost", "status", "error", "state", "final")}
SELECT r.value ->> 0, '', 0, NEW.now, NEW.now, {_BASE} + r.key + 1, t.state, r.value ->> 1,
    r.value ->> 1, t.parts, t.cost, t.status, t.error, NEW.now,
    CASE WHEN t.final THEN NEW.now END
FROM json_each(NEW.rows) AS r CROSS JOIN t ON t.i = r.value ->> 2 WHERE true
ON CONFLICT (client_id) DO UPDATE SET
    status = CASE WHEN NOT {_B_OWN} OR {_TAKE} THEN excluded.status ELSE status END,
    delivery_error = CASE WHEN NOT {_B_OWN} OR {_TAKE} THEN excluded.delivery_error
        ELSE delivery_error END,
    error = CASE WHEN {_B_OWN} AND NOT {_CLEARS} THEN error END,
    error_code = CASE WHEN {_B_OWN} AND NOT {_CLEARS} THEN error_code END,
    state = CASE WHEN {_B_OWN} THEN {_move(2, "messages.state", "excluded.status")}
        ELSE excluded.state END,
    message_id = excluded.message_id, part_ids = excluded.part_ids,
    parts = coalesce(excluded.parts, parts), cost = coalesce(excluded.cost, cost),
    accepted_at = coalesce(accepted_at, excluded.accepted_at),
    finished_at = CASE WHEN finished_at IS NOT NULL THEN finished_at
        WHEN {_B_OWN} THEN CASE WHEN {_move(4, "0", "excluded.status")}
            THEN excluded.updated_at END
        ELSE excluded.finished_at END,
    updated_at = excluded.updated_at, version = excluded.version;
INSERT OR REPLACE INTO ids (message_id, client_id)
SELECT value ->> 1, value ->> 0 FROM json_each(NEW.rows);
"""

# match: rows = the segment's settle rows (every shape: a failed row has 6 items), more =
# the extra part ids. Runs only while some report is pending (the partial index answers that).
_MATCH = """
UPDATE clock SET now = NEW.now;
UPDATE reports SET client_id = coalesce(
    (SELECT client_id FROM main.ids WHERE ids.message_id = reports.message_id),
    (SELECT client_id FROM main.messages WHERE messages.client_id = reports.report_client_id))
WHERE client_id IS NULL AND (
    message_id IN (
        SELECT value ->> 1 FROM json_each(NEW.rows) WHERE json_array_length(value) != 6
        UNION ALL SELECT value ->> 0 FROM json_each(NEW.more))
    OR report_client_id IN (SELECT value ->> 0 FROM json_each(NEW.rows)));
"""


# receipts: rows [event_key, message_id, client_id, tail]; tails [status, error, changed_at,
# transport, cost, parts, raw_status]; the record is found through ``ids``, or by the client id
# the report names.
_RECORD = f"""
INSERT OR IGNORE INTO reports (event_key, client_id, seq, message_id, report_client_id,
    status, error, changed_at, received_at, transport, cost, parts, raw_status)
WITH {_tails("status", "error", "changed_at", "transport", "cost", "parts", "raw_status")}
SELECT r.value ->> 0, coalesce(
        (SELECT client_id FROM main.ids WHERE ids.message_id = r.value ->> 1),
        (SELECT client_id FROM main.messages WHERE messages.client_id = r.value ->> 2)),
    {_BASE} + r.key + 1, r.value ->> 1, r.value ->> 2, t.status, t.error, t.changed_at,
    NEW.now, t.transport, t.cost, t.parts, t.raw_status
FROM json_each(NEW.rows) AS r CROSS JOIN t ON t.i = r.value ->> 3;
"""
# entries: the history entries of receipts folded into their settlement: rows [event_key,
# message_id, client_id, tail]; tails [status, error, changed_at, cost, parts, raw_status]; one
# transport (NEW.transport; they name no client id). Their record has moved already, so
# report_added stands aside (clock.apply).
_RECORD_FOLDED = f"""
UPDATE clock SET apply = 0;
INSERT OR IGNORE INTO reports (event_key, client_id, seq, message_id, report_client_id,
    status, error, changed_at, received_at, transport, cost, parts, raw_status)
WITH {_tails("status", "error", "changed_at", "cost", "parts", "raw_status")}
SELECT r.value ->> 0, r.value ->> 2, {_BASE} + r.key + 1, r.value ->> 1, NULL, t.status,
    t.error, t.changed_at, NEW.now, NEW.transport, t.cost, t.parts, t.raw_status
FROM json_each(NEW.rows) AS r CROSS JOIN t ON t.i = r.value ->> 3;
UPDATE clock SET apply = 1;
"""

# learn: rows = the event keys of receipts that named a client id.
_LEARN = """
INSERT OR IGNORE INTO ids (message_id, client_id)
SELECT message_id, client_id FROM main.reports
WHERE event_key IN (SELECT value FROM json_each(NEW.rows)) AND client_id = report_client_id;
"""


def _trigger(kind: str, body: str, when: str = "") -> str:
    return (
        f"CREATE TEMP TRIGGER batch_{kind} INSTEAD OF INSERT ON temp.batch "
        f"WHEN NEW.kind = '{kind}'{when} BEGIN {body} END;"
    )


_PENDING = " AND EXISTS (SELECT 1 FROM main.reports WHERE client_id IS NULL)"

#: The writer connection's temporary objects (besides the SQL functions ``owner_dead`` and
#: ``declined``, which the connection's owner registers first).
SETUP = f"""
CREATE TEMP TABLE clock (now INTEGER NOT NULL, apply INTEGER NOT NULL);
INSERT INTO temp.clock VALUES (0, 1);
CREATE TEMP VIEW batch ({", ".join(COLUMNS)}) AS
    SELECT {", ".join(["NULL"] * len(COLUMNS))} WHERE false;
{_trigger("claim", _CLAIM + _BUMP)}
{_trigger("accepted", _settle_sql(1) + _IDS + _BUMP)}
{_trigger("failed", _settle_sql(2) + _BUMP)}
{_trigger("folded", _FOLD + _BUMP)}
{_trigger("match", _MATCH, _PENDING)}
{_trigger("entries", _RECORD_FOLDED + _BUMP)}
{_trigger("receipts", _RECORD + _BUMP)}
{_trigger("learn", _LEARN)}
CREATE TEMP TRIGGER report_added AFTER INSERT ON main.reports
WHEN NEW.client_id IS NOT NULL AND (SELECT apply FROM temp.clock) BEGIN
    {_APPLY.format(now="NEW.received_at", version="NEW.seq")}
END;
CREATE TEMP TRIGGER report_matched AFTER UPDATE OF client_id ON main.reports
WHEN OLD.client_id IS NULL AND NEW.client_id IS NOT NULL BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'version';
    {_APPLY.format(now="(SELECT now FROM temp.clock)", version=_BASE)}
END;
"""
