"""SQLiteStore reads the rows its own last transactions wrote from memory, not from the file:
only while no other connection committed in between (another process, another store on the
same file). These tests write through another connection between two of a store's
transactions: the store must see that write, not its own older copy of the row."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

from smscenter import DeliveryReport, MessageStatus, SendResult, Transport
from smscenter.store import PlannedSend, Settlement, SQLiteStore, TrackedState


def send(client_id: str) -> PlannedSend:
    return PlannedSend(client_id=client_id, recipient="79001234567", transport=Transport.SMPP)


def accepted(client_id: str, message_id: str) -> Settlement:
    result = SendResult(message_id=message_id, cost=Decimal("1.5"), transport=Transport.SMPP)
    return Settlement.accepted(client_id, result)


def delivered(message_id: str) -> DeliveryReport:
    return DeliveryReport(
        message_id=message_id,
        status=MessageStatus.DELIVERED,
        phone="79001234567",
        transport=Transport.SMPP,
    )


async def test_another_stores_settle_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    async with SQLiteStore(path) as mine, SQLiteStore(path) as other:
        await mine.prepare([send("a")])  # `mine` now holds row "a" as it wrote it
        await other.settle([accepted("a", "555")])
        await mine.record(delivered("555"))
        record = await mine.get("a")
    assert record.state is TrackedState.DELIVERED
    assert record.message_id == "555" and record.part_ids == ("555",)
    assert record.cost == Decimal("1.5") and record.accepted_at is not None
    assert [entry.status for entry in record.reports] == [MessageStatus.DELIVERED]


async def test_a_change_by_another_connection_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    async with SQLiteStore(path) as store:
        await store.prepare([send("a"), send("b")])
        with sqlite3.connect(path) as db:  # as another process (or version) would
            db.execute("UPDATE messages SET recipient = '79007654321' WHERE client_id = 'a'")
        await store.settle([accepted("a", "1"), accepted("b", "2")])
        first, second = await store.get("a"), await store.get("b")
    assert first.recipient == "79007654321" and first.state is TrackedState.ACCEPTED
    assert second.recipient == "79001234567" and second.state is TrackedState.ACCEPTED
    assert first.version != second.version


async def test_its_own_rows_carry_on_between_transactions(tmp_path: Path) -> None:
    async with SQLiteStore(tmp_path / "s.sqlite3") as store:
        for round_ in range(3):
            keys = [f"{round_}-{i}" for i in range(50)]
            await store.prepare([send(k) for k in keys])
            await store.settle([accepted(k, f"{round_}{i:03d}") for i, k in enumerate(keys)])
            await store.record(*(delivered(f"{round_}{i:03d}") for i in range(50)))
            await store.settle([accepted(keys[0], f"{round_}000")])  # a repeat: no change
        records = [await store.get(f"{r}-{i}") for r in range(3) for i in range(50)]
    assert all(r.state is TrackedState.DELIVERED and len(r.reports) == 1 for r in records)
    assert len({r.version for r in records}) == len(records)


async def test_an_id_another_store_gave_to_another_record_is_seen(tmp_path: Path) -> None:
    # The store also remembers which record an id it settled belongs to (a receipt then needs
    # no look-up): only while no other connection wrote.
    path = tmp_path / "s.sqlite3"
    async with SQLiteStore(path) as mine, SQLiteStore(path) as other:
        await mine.prepare([send("a")])
        await mine.settle([accepted("a", "555")])  # `mine` knows 555 -> a
        await other.prepare([send("b")])
        await other.settle([accepted("b", "555")])  # the id now names b
        await mine.record(delivered("555"))
        assert (await mine.get("b")).state is TrackedState.DELIVERED
        assert (await mine.get("a")).state is TrackedState.ACCEPTED
