"""With a store, the pool keeps its binds fed while the store writes: a claim does not wait for
the claim before it to come back, only for room (at most three windows per bind claimed and
unanswered, all claims together), so it joins the store's next transaction instead of waiting
for it and then for one of its own; and the sends that ended and wait for their settlement do
not use up the room ``send_many`` reads ahead in, so the claim task finds messages to claim."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import anyio
import pytest
from _store_watch import Watched

from smscenter import Limits, Message, Timeouts
from smscenter.smpp.client._tracking import STORE_READ_AHEAD
from smscenter.smpp.client.pool import SMPPPool
from smscenter.store import PlannedSend, Settlement, TrackedMessage, TrackedState
from smscenter.store.sqlite import SQLiteStore
from smscenter.testing import SMSCSimulator


@pytest.fixture
async def sim() -> AsyncIterator[SMSCSimulator]:
    async with SMSCSimulator(seed=5, balance=1_000_000) as simulator:
        simulator.behaviour.smpp.throughput = None
        yield simulator


def pool(sim: SMSCSimulator, store: object, window: int) -> SMPPPool:
    return SMPPPool(
        sim.smpp_host,
        sim.smpp_port,
        sim.smpp_credentials,
        limits=Limits(max_rate=None, window=window),
        timeouts=Timeouts(10, unbind=0.2),
        store=store,  # type: ignore[arg-type]
    )


def messages(n: int) -> Iterator[Message]:
    for i in range(n):
        yield Message(to=f"+7999{i:07d}", text=f"Sale {i}", client_id=f"c{i}")


class SlowClaims(Watched):
    """From the second claim on, a claim waits (at most 2 s) until another one is asked while
    it is in flight: a store whose commit is slow, seen by the claim task."""

    def __init__(self, inner: object) -> None:
        super().__init__(inner)
        self.calls = 0
        self.now = 0
        self.most = 0

    async def prepare(
        self, sends: Sequence[PlannedSend], *, resend_unknown: bool = False
    ) -> list[TrackedMessage | None]:
        self.calls += 1
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            if self.calls >= 2:
                with anyio.move_on_after(2):
                    while self.most < 2:  # noqa: ASYNC110 - bounded poll
                        await anyio.sleep(0.005)
            return await super().prepare(sends, resend_unknown=resend_unknown)
        finally:
            self.now -= 1


async def test_a_claim_does_not_wait_for_the_claim_before_it(
    sim: SMSCSimulator, tmp_path: Path
) -> None:
    window = 5
    async with SQLiteStore(tmp_path / "s.db") as store:
        slow = SlowClaims(store)
        async with pool(sim, slow, window) as p:
            with anyio.fail_after(20):
                outcomes = [o async for o in p.send_many(messages(120))]
        counts = await store.counts()
    # While a claim was in flight, the room freed by the sends that ended meanwhile was
    # claimed too (joining the store's next transaction), not after it came back.
    assert slow.most >= 2
    assert all(o.error is None for o in outcomes) and len(outcomes) == 120
    assert counts == {TrackedState.ACCEPTED: 120}
    # Never more than three windows claimed and unanswered, all claims together.
    assert max(map(len, slow.prepares)) <= 3 * window


class HeldSettles(Watched):
    """Settlements wait until ``release`` is set: a store busy writing a long transaction."""

    def __init__(self, inner: object) -> None:
        super().__init__(inner)
        self.release = anyio.Event()

    async def settle(self, settlements: Sequence[Settlement]) -> None:
        await self.release.wait()
        await super().settle(settlements)


async def test_sends_waiting_for_their_settlement_do_not_starve_the_claims(
    sim: SMSCSimulator, tmp_path: Path
) -> None:
    # Three windows per bind claimed ahead (1,200 here); sends that ended and wait for their
    # settlement may hold about as many again, and more: the default read-ahead leaves room
    # for four times the claims, past the 4,096 floor.
    window = 400
    total = 4 * 3 * window
    assert total > STORE_READ_AHEAD
    async with SQLiteStore(tmp_path / "s.db") as store:
        held = HeldSettles(store)
        async with pool(sim, held, window) as p, anyio.create_task_group() as tg:
            outcomes: list[object] = []

            async def consume() -> None:
                async for outcome in p.send_many(messages(total)):
                    outcomes.append(outcome)

            tg.start_soon(consume)
            # No settlement is written: every send that ends waits for it. The binds still
            # get all of them (claimed three windows at a time) rather than stopping at 4,096.
            last, still = -1, 0
            with anyio.fail_after(60):
                while p.statistics().acknowledged < total and still < 50:
                    await anyio.sleep(0.01)
                    now = p.statistics().acknowledged
                    still = still + 1 if now == last else 0
                    last = now
            acknowledged = p.statistics().acknowledged
            assert not outcomes  # nothing yielded before its settlement is in the store
            held.release.set()
            with anyio.fail_after(60):
                while len(outcomes) < total:  # noqa: ASYNC110 - bounded poll
                    await anyio.sleep(0.01)
        counts = await store.counts()
    assert acknowledged == total
    assert counts == {TrackedState.ACCEPTED: total}
