"""SMPPPool(..., store=...) hands the store a send's settlement before its receipt: a receipt is
read after its send's submit_sm_resp, so the pool's receipt recorder settles the sends that
ended so far ahead of the receipts it records. A group-committing store then writes both in one
transaction (the record once), and no receipt waits as unmatched for its own settle."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import anyio
import pytest
from _prompt_receipt_smsc import PromptReceiptSMSC

from smscenter import Credentials, Limits, Message, Timeouts
from smscenter.models import DeliveryReport
from smscenter.smpp.client.pool import SMPPPool
from smscenter.store import Settlement, TrackedState
from smscenter.store.sqlite import SQLiteStore


class CallOrder:
    """Forwards to a real store and notes, as each call starts (the moment a group-committing
    store queues it), which provider ids were settled by then."""

    def __init__(self, inner: SQLiteStore) -> None:
        self.inner = inner
        self.settled_ids: set[str] = set()
        self.early: list[str] = []  # receipts handed over before their send's settlement
        self.records = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def settle(self, settlements: Sequence[Settlement]) -> None:
        self.settled_ids.update(s.message_id for s in settlements if s.message_id)
        await self.inner.settle(settlements)

    async def record(self, *reports: DeliveryReport) -> None:
        self.records += 1
        self.early += [r.message_id for r in reports if r.message_id not in self.settled_ids]
        await self.inner.record(*reports)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    async with SQLiteStore(tmp_path / "messages.db") as opened:
        yield opened


def _pool(smsc: PromptReceiptSMSC, store: object, *, window: int) -> SMPPPool:
    return SMPPPool(
        "127.0.0.1",
        smsc.port,
        Credentials("acme", "secret"),
        limits=Limits(max_rate=None, window=window),
        timeouts=Timeouts(5),
        store=store,  # type: ignore[arg-type]
    )


def messages(n: int) -> Iterator[Message]:
    for i in range(n):
        yield Message(to=f"+7999{i:07d}", text=f"Code {i}", client_id=f"c{i}", report=True)


async def test_every_receipt_reaches_the_store_after_its_settlement(store: SQLiteStore) -> None:
    n = 300
    watched = CallOrder(store)
    async with PromptReceiptSMSC() as smsc, _pool(smsc, watched, window=50) as pool:
        outcomes = [o async for o in pool.send_many(messages(n))]
        assert all(o.ok for o in outcomes)
        for _ in range(2000):  # bounded: every receipt recorded
            if pool.statistics().reports_recorded >= n:
                break
            await anyio.sleep(0.005)
        assert pool.statistics().reports_recorded == n
    assert watched.records >= 1
    assert watched.early == []  # each receipt came after its send was settled
    assert dict(await store.counts()) == {TrackedState.DELIVERED: n}
    for outcome in outcomes:
        record = await store.get(outcome.message.client_id)  # type: ignore[arg-type]
        assert record.message_id == outcome.message_id
        assert len(record.reports) == 1


class PaddedIdSMSC(PromptReceiptSMSC):
    """An SMSC whose message ids are not in the provider's plain decimal form: zero-padded
    hexadecimal, or zero-padded decimal (as some SMSCs write them in submit_sm_resp)."""

    def __init__(self, style: str) -> None:
        super().__init__()
        self.style = style

    def next_id(self) -> str:
        number = int(super().next_id())
        return f"{number:010X}" if self.style == "hex" else f"{number:010d}"


@pytest.mark.parametrize("style", ["hex", "decimal"])
async def test_ids_not_in_plain_decimal_form_settle_and_match_their_receipts(
    store: SQLiteStore, style: str
) -> None:
    # The usual decimal id takes a shorter road to its settlement and outcome; these take the
    # general one (canonical ids), and must end the same: one outcome and record per message,
    # its receipt on it.
    n = 40
    async with PaddedIdSMSC(style) as smsc, _pool(smsc, store, window=10) as pool:
        outcomes = [o async for o in pool.send_many(messages(n))]
        for _ in range(2000):  # bounded: every receipt recorded
            if pool.statistics().reports_recorded >= n:
                break
            await anyio.sleep(0.005)
        assert pool.statistics().reports_recorded == n
    assert sorted(o.message.client_id for o in outcomes) == sorted(f"c{i}" for i in range(n))  # type: ignore[type-var]
    wire = {pdu.destination_addr for pdu in smsc.submits}
    assert len(wire) == n
    for outcome in outcomes:
        assert outcome.ok and outcome.result is not None
        raw = outcome.result.raw_message_id
        assert raw.startswith("0") and len(raw) == 10
        assert outcome.message_id == raw.lstrip("0")  # canonical: no leading zeros
        record = await store.get(outcome.message.client_id)  # type: ignore[arg-type]
        assert record.state is TrackedState.DELIVERED
        assert record.message_id == outcome.message_id
        assert record.part_ids == (outcome.message_id,)
        assert len(record.reports) == 1 and record.reports[0].message_id == outcome.message_id
