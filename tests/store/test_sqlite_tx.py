"""SQLiteStore's write transaction, calls applied together in ONE transaction.

Through the store's API, concurrent calls land in one transaction only by timing; here the
transaction is run directly (``Transactions.run`` on a connection of the store's file, as the
writer thread runs it), so each test fixes which calls share one, then reads the result through
the store. A transaction is one statement whose operations each work over a whole batch in SQL,
so these are the cases an operation must get right within itself: duplicates, order, misses.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from smscenter import DeliveryReport, MessageStatus, SendResult, Transport
from smscenter.store import PlannedSend, Settlement, SQLiteStore, TrackedMessage, TrackedState
from smscenter.store._owner import OwnerCheck, new_owner_token
from smscenter.store._sqlite_schema import from_micros, to_micros
from smscenter.store._sqlite_tx import (
    USUAL_SIZES,
    Call,
    PrepareCall,
    RecordCall,
    SettleCall,
    Transactions,
    statement_size,
)
from tests.store._statements import Statements, operations


def send(client_id: str) -> PlannedSend:
    return PlannedSend(client_id=client_id, recipient="79001234567", transport=Transport.SMPP)


def accepted(client_id: str, *part_ids: str) -> Settlement:
    result = SendResult(
        message_id=part_ids[0], part_ids=part_ids, parts=len(part_ids), transport=Transport.SMPP
    )
    return Settlement.accepted(client_id, result)


def report(
    message_id: str,
    status: MessageStatus = MessageStatus.DELIVERED,
    *,
    client_id: str | None = None,
    phone: str = "79001234567",
) -> DeliveryReport:
    return DeliveryReport(
        message_id=message_id,
        status=status,
        phone=phone,
        client_id=client_id,
        transport=Transport.SMPP,
        cost=Decimal("1.25") if status is MessageStatus.DELIVERED else None,
    )


class Writer:
    """Runs transactions on the file as the store's writer thread does."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.owners = OwnerCheck(new_owner_token())
        self.in_flight: set[str] = set()
        self.transactions = Transactions(self.db, self.owners)

    def run(self, *calls: Call) -> None:
        self.transactions.run(calls, time.time_ns() // 1000, self.in_flight)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "s.sqlite3"


@pytest.fixture
async def writer(path: Path) -> AsyncIterator[Writer]:
    async with SQLiteStore(path):  # the tables
        pass
    made = Writer(path)
    yield made
    made.db.close()


async def read(path: Path, *client_ids: str) -> list[TrackedMessage]:
    async with SQLiteStore(path, retention=None) as store:
        return [await store.get(c) for c in client_ids]


def statuses(record: TrackedMessage) -> Sequence[MessageStatus]:
    return [r.status for r in record.reports]


async def test_duplicate_receipts_in_one_transaction_add_one_entry(
    writer: Writer, path: Path
) -> None:
    writer.run(PrepareCall([send("a")], False), SettleCall([accepted("a", "100")]))
    one = report("100")
    writer.run(RecordCall([one, one]), RecordCall([one]))
    [record] = await read(path, "a")
    assert record.state is TrackedState.DELIVERED
    assert statuses(record) == [MessageStatus.DELIVERED]
    assert record.cost == Decimal("1.25")


async def test_a_receipt_before_its_settle_in_one_transaction_matches(
    writer: Writer, path: Path
) -> None:
    writer.run(PrepareCall([send("a"), send("b")], False))
    # The receipt queued first; a claim between them puts them in different statements.
    writer.run(
        RecordCall([report("100"), report("201", MessageStatus.TRANSMITTED)]),
        PrepareCall([send("c")], False),
        SettleCall([accepted("a", "100"), accepted("b", "200", "201")]),
    )
    a, b = await read(path, "a", "b")
    assert (a.state, statuses(a)) == (TrackedState.DELIVERED, [MessageStatus.DELIVERED])
    assert (b.state, statuses(b)) == (TrackedState.ACCEPTED, [MessageStatus.TRANSMITTED])
    assert b.status is MessageStatus.TRANSMITTED


async def test_a_receipt_with_its_settle_in_one_segment_matches(writer: Writer, path: Path) -> None:
    writer.run(PrepareCall([send("a")], False))
    writer.run(RecordCall([report("100")]), SettleCall([accepted("a", "100")]))
    [a] = await read(path, "a")
    assert (a.state, statuses(a)) == (TrackedState.DELIVERED, [MessageStatus.DELIVERED])
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM reports WHERE client_id IS NULL").fetchone() == (0,)


async def test_a_receipt_naming_only_the_client_id_matches_and_teaches_the_id(
    writer: Writer, path: Path
) -> None:
    writer.run(PrepareCall([send("a")], False))
    writer.run(RecordCall([report("900", MessageStatus.TRANSMITTED, client_id="a")]))
    writer.run(RecordCall([report("900")]))  # names only the id now
    [a] = await read(path, "a")
    assert a.state is TrackedState.DELIVERED
    assert statuses(a) == [MessageStatus.TRANSMITTED, MessageStatus.DELIVERED]
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT client_id FROM ids WHERE message_id = '900'").fetchone() == ("a",)


async def test_a_pending_receipt_matches_by_client_id_in_the_settles_transaction(
    writer: Writer, path: Path
) -> None:
    writer.run(RecordCall([report("600", client_id="a")]))  # no record yet: pending
    writer.run(PrepareCall([send("a")], False), SettleCall([accepted("a", "601")]))
    [a] = await read(path, "a")
    assert (a.state, statuses(a)) == (TrackedState.DELIVERED, [MessageStatus.DELIVERED])


async def test_declined_claims_answer_with_the_record_in_order(writer: Writer, path: Path) -> None:
    writer.run(PrepareCall([send("b")], False), SettleCall([accepted("b", "300")]))
    first, second = PrepareCall([send("a"), send("b")], False), PrepareCall([send("a")], False)
    writer.run(first, second)
    assert first.result[0] is None
    assert first.result[1] is not None and first.result[1].state is TrackedState.ACCEPTED
    assert first.result[1].message_id == "300"
    assert second.result[0] is not None and second.result[0].state is TrackedState.SENDING
    assert writer.in_flight == {"a"}
    [a] = await read(path, "a")
    assert a.attempts == 1


async def test_versions_grow_with_every_change_across_the_statements(
    writer: Writer, path: Path
) -> None:
    writer.run(PrepareCall([send("x")], False))
    with sqlite3.connect(path) as db:
        before = db.execute("SELECT version FROM messages WHERE client_id = 'x'").fetchone()[0]
    writer.run(
        SettleCall([accepted("x", "1")]),
        RecordCall([report("1", MessageStatus.TRANSMITTED)]),
        PrepareCall([send("y")], False),
    )
    with sqlite3.connect(path) as db:
        versions = dict(db.execute("SELECT client_id, version FROM messages"))
        counter = db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0]
    assert before < versions["x"] < versions["y"] <= counter
    async with SQLiteStore(path, retention=None) as store:
        writer.run(RecordCall([report("1")]))
        seen = [m.client_id async for m in _take(store.changes(since=counter), 1)]
    assert seen == ["x"]


async def _take(feed: AsyncIterator[TrackedMessage], count: int) -> AsyncIterator[TrackedMessage]:
    got = 0
    async for item in feed:
        yield item
        got += 1
        if got >= count:
            return


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 12, 3, 13, 30, 0, 123456, tzinfo=UTC),
        datetime(2026, 12, 3, 16, 30, 0, 1, tzinfo=timezone(timedelta(hours=3))),
        datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),  # before the epoch
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
)
def test_times_are_exact_microseconds_since_the_epoch(value: datetime) -> None:
    micros = to_micros(value)
    assert micros == (value - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert from_micros(micros) == value


async def test_versions_stay_ahead_of_pending_reports_matched_past_the_reserve(
    writer: Writer, path: Path
) -> None:
    writer.run(PrepareCall([send("a"), send("b")], False))
    writer.run(RecordCall([report("100", MessageStatus.TRANSMITTED), report("101")]))
    # One settle row reserves one version; matching two pending reports moves two records.
    writer.run(SettleCall([accepted("a", "100")]), SettleCall([accepted("b", "101")]))
    with sqlite3.connect(path) as db:
        high = db.execute("SELECT max(version) FROM messages").fetchone()[0]
        counter = db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0]
    assert counter >= high
    writer.run(PrepareCall([send("c")], False))
    with sqlite3.connect(path) as db:
        [(version,)] = db.execute("SELECT version FROM messages WHERE client_id = 'c'")
    assert version > high


async def test_a_claim_of_a_record_sending_under_a_stopped_owner(
    writer: Writer, path: Path
) -> None:
    writer.run(PrepareCall([send("a"), send("b")], False))
    host, _, started, _ = writer.owners.own_token.split("|")
    dead = f"{host}|{2**22 + 4321}|{started}|00000000"  # no such process id
    with sqlite3.connect(path) as db:
        db.execute("UPDATE messages SET owner = ?", (dead,))
    plain, resend = PrepareCall([send("a")], False), PrepareCall([send("b")], True)
    writer.run(plain)
    writer.run(resend)
    [answer] = plain.result
    assert answer is not None and answer.state is TrackedState.UNKNOWN
    assert answer.error is not None and "stopped" in answer.error
    assert resend.result == [None]
    a, b = await read(path, "a", "b")
    assert a.state is TrackedState.UNKNOWN and a.attempts == 1  # read as unknown, not claimed
    assert b.state is TrackedState.SENDING and b.attempts == 2


async def test_runs_of_mixed_calls_in_one_transaction_keep_their_order_and_flags(
    writer: Writer, path: Path
) -> None:
    writer.run(PrepareCall([send("u")], False))
    writer.transactions.db.execute("UPDATE messages SET state = 'unknown'")
    # Claims with either flag, then accepted and failed settlements alternating, one statement.
    plain, resend = PrepareCall([send("u"), send("p")], False), PrepareCall([send("u")], True)
    writer.run(
        plain,
        resend,
        SettleCall([accepted("p", "500")]),
        SettleCall([Settlement.failed("x", ValueError("refused"))]),
        SettleCall([accepted("y", "501"), accepted("u", "502")]),
        RecordCall([report("501")]),
    )
    assert plain.result[0] is not None and plain.result[0].state is TrackedState.UNKNOWN
    assert plain.result[1] is None and resend.result == [None]
    p, x, y, u = await read(path, "p", "x", "y", "u")
    assert (p.state, p.message_id) == (TrackedState.ACCEPTED, "500")
    assert x.state is TrackedState.FAILED and x.error is not None
    assert (y.state, statuses(y)) == (TrackedState.DELIVERED, [MessageStatus.DELIVERED])
    assert (u.state, u.message_id, u.attempts) == (TrackedState.ACCEPTED, "502", 2)
    assert writer.in_flight == set()


def test_statement_sizes() -> None:
    sizes = [statement_size(n) for n in range(1, 70)]
    assert all(size >= n for n, size in zip(range(1, 70), sizes, strict=True))
    assert set(sizes) == {1, 4, 16, 64, 256}
    assert set(USUAL_SIZES) <= set(sizes)


async def test_transactions_of_any_size_run_a_few_compiled_statements(
    writer: Writer, path: Path
) -> None:
    # SQLite compiles a transaction's statement, every trigger with it, in milliseconds, and
    # Python's sqlite3 keeps each text compiled: the writer pads a transaction's operations
    # to a few sizes (the usual ones compiled as it starts), and the padding does nothing.
    statements = Statements(writer.db)
    writer.transactions.db = statements  # type: ignore[assignment]
    writer.transactions.compile_usual()
    (version_before,) = writer.db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
    assert version_before == 0  # compiling ran the statements, and they wrote nothing
    assert writer.db.execute("SELECT count(*) FROM messages").fetchone() == (0,)
    keys = [f"k{n}" for n in range(6)]
    writer.run(PrepareCall([send(k) for k in keys], False))  # 1 operation
    writer.run(SettleCall([accepted("k0", "100")]))  # accepted, match: 2
    writer.run(SettleCall([accepted("k1", "101")]), RecordCall([report("101")]))  # 3 (folded)
    writer.run(
        SettleCall([accepted("k2", "102"), Settlement.failed("k3", ValueError("refused"))]),
        RecordCall([report("100"), report("102")]),
    )  # accepted (folded), failed, match, entries, receipts: 5
    writer.run(RecordCall([report("999")]))  # a receipt of no record yet: kept pending
    counts = [len(operations(params)) for _, params in statements.calls]
    assert counts[: len(USUAL_SIZES)] == list(USUAL_SIZES)
    assert set(counts) <= {1, 4, 16}
    assert len({sql for sql, _ in statements.calls}) == len(set(counts))
    records = await read(path, *keys)
    assert [r.state for r in records] == [
        TrackedState.DELIVERED,
        TrackedState.DELIVERED,
        TrackedState.DELIVERED,
        TrackedState.FAILED,
        TrackedState.SENDING,
        TrackedState.SENDING,
    ]
    # Every version was taken by a row written (none by padding): 6 claims, 4 settlements, 3
    # receipts on their records, 1 kept pending.
    versions = sorted(r.version for r in records)
    assert versions == sorted(set(versions))
    (version_after,) = writer.db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
    assert version_after == 6 + 4 + 3 + 1
