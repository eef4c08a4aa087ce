"""The SQLite store writes a row with one statement per pattern of empty columns (no NULL is
bound): a column a row leaves empty must end NULL whether the row is new or replaces one that
had it set, and rows of different patterns in one batch must each keep their own values."""

from __future__ import annotations

import sqlite3

from smscenter.store._sqlite_schema import MESSAGE_COLUMNS, REPORT_COLUMNS, SCHEMA
from smscenter.store._sqlite_sparse import insert_reports, upsert_messages


def _db() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.executescript(SCHEMA)
    return db


def _message(client_id: str, **values: object) -> list[object]:
    row: dict[str, object] = dict.fromkeys(MESSAGE_COLUMNS)
    row.update(client_id=client_id, recipient="7999", state="sending", attempts=1)
    row.update(created_at=1, updated_at=1, version=1)
    row.update(values)
    return [row[name] for name in MESSAGE_COLUMNS]


def _write(db: sqlite3.Connection, rows: list[list[object]]) -> int:
    statements = upsert_messages(rows)
    for sql, lazy in statements:
        params = list(lazy)
        assert None not in {value for row in params for value in row}
        db.executemany(sql, params)
    return len(statements)


def test_rows_of_several_patterns_keep_their_values_and_nulls() -> None:
    db = _db()
    rows = [
        _message("a"),
        _message("b", error="refused", error_code=11),
        _message("c"),
        _message("d", message_id="5", part_ids="5", cost="1.5", accepted_at=2),
    ]
    assert _write(db, rows) == 3  # a and c share a pattern
    found = db.execute(f"SELECT {', '.join(MESSAGE_COLUMNS)} FROM messages ORDER BY client_id")
    assert [list(row) for row in found] == rows


def test_an_upsert_clears_what_the_new_row_leaves_empty() -> None:
    db = _db()
    _write(db, [_message("a", error="no answer", error_code=8, cost="2")])
    _write(db, [_message("a", state="accepted", message_id="7", version=2)])
    row = db.execute("SELECT state, message_id, error, error_code, cost, version FROM messages")
    assert list(row) == [("accepted", "7", None, None, None, 2)]


def test_reports_insert_once_with_their_empty_columns_null() -> None:
    db = _db()

    def report(key: str, **values: object) -> list[object]:
        row: dict[str, object] = dict.fromkeys(REPORT_COLUMNS)
        row.update(event_key=key, seq=1, message_id="5", status="delivered", error=0)
        row.update(received_at=3, transport="smpp", raw_status="DELIVRD")
        row.update(values)
        return [row[name] for name in REPORT_COLUMNS]

    rows = [report("k1"), report("k2", client_id="a", cost="1.5", parts=2), report("k1")]
    for sql, params in insert_reports(rows):
        db.executemany(sql, params)
    found = db.execute(f"SELECT {', '.join(REPORT_COLUMNS)} FROM reports ORDER BY event_key")
    assert [list(row) for row in found] == rows[:2]
