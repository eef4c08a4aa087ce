"""SQLiteStore writes an accepted settlement and its message's first receipt as ONE write of
the record when both are in one transaction (the usual: the receipt comes right after the
``submit_sm_resp``). The record must read exactly as if the settle and then the receipt had
been written in transactions of their own, whatever the record was before and whatever the
receipt says: here every (record before, receipt status) pair runs both ways, on two files,
and the records are compared field by field.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from smscenter import DeliveryReport, MessageStatus, SendResult, Transport
from smscenter.store import PlannedSend, Settlement, SQLiteStore, TrackedMessage
from smscenter.store._owner import OwnerCheck, new_owner_token
from smscenter.store._sqlite_tx import Call, PrepareCall, RecordCall, SettleCall, Transactions
from tests.store._statements import Statements, operations

# How the record stands before the settle: no record (a settle without a claim), claimed,
# settled once already (accepted), delivered, failed.
BEFORE = ("none", "sending", "accepted", "delivered", "failed")


class Writer:
    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA synchronous = OFF")  # (no disk flushes: a test of values)
        self.transactions = Transactions(self.db, OwnerCheck(new_owner_token()))
        self.in_flight: set[str] = set()

    def run(self, *calls: Call) -> None:
        self.transactions.run(calls, time.time_ns() // 1000, self.in_flight)


def _settled(key: str, message_id: str, cost: str | None = "0.50") -> Settlement:
    result = SendResult(
        message_id=message_id,
        part_ids=(message_id,),
        parts=1,
        transport=Transport.SMPP,
        cost=None if cost is None else Decimal(cost),
    )
    return Settlement.accepted(key, result)


def _receipt(message_id: str, status: MessageStatus, n: int) -> DeliveryReport:
    return DeliveryReport(
        message_id=message_id,
        status=status,
        phone="79001234567",
        transport=Transport.SMPP,
        cost=Decimal("1.25") if n % 2 else None,
        parts=2 if n % 3 == 0 else None,
        raw_status=status.value.upper(),
    )


def _before(writer: Writer, key: str, n: int, kind: str) -> None:
    if kind == "none":
        return
    writer.run(
        PrepareCall([PlannedSend(client_id=key, recipient="7900", transport=Transport.SMPP)], False)
    )
    if kind in ("accepted", "delivered"):
        writer.run(SettleCall([_settled(key, f"9{n:04d}", cost=None)]))
    if kind == "delivered":
        writer.run(RecordCall([_receipt(f"9{n:04d}", MessageStatus.DELIVERED, 1)]))
    if kind == "failed":
        writer.run(SettleCall([Settlement.failed(key, ValueError("refused"))]))


def _view(record: TrackedMessage) -> tuple[object, ...]:
    return (
        record.state, record.status, record.error, record.error_code, record.delivery_error,
        record.cost, record.parts, record.message_id, record.part_ids,
        record.accepted_at is None, record.finished_at is None,
        [(r.status, r.message_id, r.cost) for r in record.reports],
    )  # fmt: skip


@pytest.fixture
async def files(tmp_path: Path) -> AsyncIterator[tuple[Path, Path]]:
    apart, together = tmp_path / "apart.sqlite3", tmp_path / "together.sqlite3"
    for path in (apart, together):
        async with SQLiteStore(path):  # the tables
            pass
    yield apart, together


async def test_a_settle_and_its_receipt_together_read_as_one_after_the_other(
    files: tuple[Path, Path],
) -> None:
    apart_path, together_path = files
    apart, together = Writer(apart_path), Writer(together_path)
    cases = [(b, s) for b in BEFORE for s in MessageStatus]
    settles, receipts = [], []
    for n, (kind, status) in enumerate(cases):
        key = f"{kind}-{status.value}"
        for writer in (apart, together):
            _before(writer, key, n, kind)
        settles.append(_settled(key, f"1{n:04d}"))
        receipts.append(_receipt(f"1{n:04d}", status, n))
    apart.run(SettleCall(settles))
    apart.run(RecordCall(receipts))
    together.run(SettleCall(settles), RecordCall(receipts))
    for writer in (apart, together):
        writer.db.close()
    keys = [f"{kind}-{status.value}" for kind, status in cases]
    async with (
        SQLiteStore(apart_path, retention=None) as one,
        SQLiteStore(together_path, retention=None) as other,
    ):
        for key in keys:
            assert _view(await other.get(key)) == _view(await one.get(key)), key
    # The fold did happen: one write of each record after its claim, not two.
    with sqlite3.connect(together_path) as db:
        versions = dict(db.execute("SELECT client_id, version FROM messages"))
        seqs = dict(db.execute("SELECT client_id, max(seq) FROM reports GROUP BY client_id"))
    assert all(versions[key] < seqs[key] for key in keys if key.startswith("sending-"))


def _sharing(first_id: int, cost: str) -> list[DeliveryReport]:
    """Five receipts as the reader gives them for one SMSC text: the first two share every
    field object but the id; the third has an equal cost written with one more zero; the
    fourth differs from the third by its status alone (the raw status is the same object);
    the fifth shares the first's objects again (a tail seen before, not just before)."""
    first = attrs.evolve(_receipt(str(first_id), MessageStatus.DELIVERED, 1), cost=Decimal(cost))
    same = attrs.evolve(first, message_id=str(first_id + 1))
    other_text = attrs.evolve(first, message_id=str(first_id + 2), cost=Decimal(cost + "0"))
    failed = attrs.evolve(
        other_text, message_id=str(first_id + 3), status=MessageStatus.UNDELIVERABLE
    )
    again = attrs.evolve(first, message_id=str(first_id + 4))
    assert same.cost is first.cost and same.changed_at is first.changed_at
    return [first, same, other_text, failed, again]


async def _check_sharing(
    path: Path, keys: list[str], receipts: list[DeliveryReport], cost: str
) -> None:
    async with SQLiteStore(path, retention=None) as store:
        records = [await store.get(key) for key in keys]
    assert [r.message_id for r in records] == [x.message_id for x in receipts]
    costs = [cost, cost, cost + "0", cost + "0", cost]
    assert [str(r.cost) for r in records] == costs
    assert [str(r.reports[0].cost) for r in records] == costs
    states = ["delivered"] * 3 + ["undeliverable", "delivered"]
    assert [r.state.value for r in records] == states
    assert [r.reports[0].raw_status for r in records] == [x.raw_status for x in receipts]
    assert [r.reports[0].event_key for r in records] == [x.event_key for x in receipts]


@pytest.mark.parametrize("folded", [True, False], ids=["folded", "apart"])
async def test_receipts_sharing_their_fields_go_once_and_keep_their_own_values(
    files: tuple[Path, Path], folded: bool
) -> None:
    # The receipt reader gives the receipts of one SMSC text the same field objects, and the
    # writer renders those fields once for a run of receipts that share them, folded with
    # their settlement (one transaction) or in a row of their own (a later one); the statement
    # carries each run once, each row only its ids and which run is its (SQL takes a value out
    # of JSON once per run, not once per row). What is not the same object is a run of its
    # own: an equal cost written differently (1.5, 1.50) keeps its own text, another status
    # its own state. Five receipts, four runs (the fifth repeats the first, not just before).
    _, path = files
    writer = Writer(path)
    keys = [f"shared-{n}" for n in range(5)]
    receipts = _sharing(20000, "1.5")
    statements = Statements(writer.db)
    writer.transactions.db = statements  # type: ignore[assignment]
    _send_sharing(writer, keys, receipts, folded)
    ops = [op for _, params in statements.calls for op in operations(params)]
    for kind in ("folded", "entries") if folded else ("receipts",):
        (op,) = [op for op in ops if op[1] == kind]
        rows, tails = json.loads(op[3]), json.loads(op[4])
        assert [row[-1] for row in rows] == [0, 0, 1, 2, 3], kind
        assert len(tails) == 4, kind
        assert tails[0] == tails[3]  # the same fields again: the same values, a run of its own
    writer.db.close()
    await _check_sharing(path, keys, receipts, "1.5")


def _send_sharing(
    writer: Writer, keys: list[str], receipts: list[DeliveryReport], folded: bool
) -> None:
    """Claim ``keys``, then settle each with its receipt's id and record the receipts: in one
    transaction (folded) or in two."""
    claims = [
        PlannedSend(client_id=key, recipient="7900", transport=Transport.SMPP) for key in keys
    ]
    writer.run(PrepareCall(claims, False))
    settles = [
        _settled(key, r.message_id, cost=None) for key, r in zip(keys, receipts, strict=True)
    ]
    if folded:
        writer.run(SettleCall(settles), RecordCall(receipts))
    else:
        writer.run(SettleCall(settles))
        writer.run(RecordCall(receipts))
