"""``SMPPPool.withdraw_queued``: a job that stops takes back what no bind has written yet (the
queue, and a message a bind holds back for the rate limit); what is in flight finishes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest
from _fake_smsc import FakeSMSC

from smscenter import Credentials, Limits, Message, Timeouts
from smscenter.exceptions import ConnectionLost
from smscenter.smpp.client.pool import ReconnectPolicy, SMPPPool
from smscenter.smpp.client.results import SendOutcome

pytestmark = pytest.mark.anyio

CREDS = Credentials("acme", "secret")


@pytest.fixture
async def smsc() -> AsyncIterator[FakeSMSC]:
    async with FakeSMSC() as server:
        yield server


async def test_withdraw_takes_back_the_queue_and_what_a_bind_holds(smsc: FakeSMSC) -> None:
    # 1/s: the bind writes one, holds the second for a second (the rate limit), and the rest
    # wait in the queue.
    pool = SMPPPool(
        "127.0.0.1",
        smsc.port,
        CREDS,
        reconnect=ReconnectPolicy(initial=0.01, maximum=0.05, refused=0.05),
        timeouts=Timeouts(5, pool=100.0),
        limits=Limits(max_rate=1.0, connections=1),
    )
    smsc.hold = True  # written messages stay in flight until answered
    stop_error = ConnectionLost("stopped")
    outcomes: list[SendOutcome] = []
    stopped = anyio.Event()

    async def source() -> AsyncIterator[Message]:
        for i in range(50):
            if stopped.is_set():  # the caller stops taking new messages, as bulk does
                return
            yield Message(to=f"+7999{i:07d}", text="bulk")

    async with pool:
        withdrawn: list[SendOutcome] = []
        async with anyio.create_task_group() as tg:

            async def stop_soon() -> None:
                with anyio.fail_after(5):
                    while not smsc.submits:  # noqa: ASYNC110 - bounded poll of the server
                        await anyio.sleep(0.002)
                stopped.set()
                withdrawn.extend(pool.withdraw_queued(stop_error))
                await anyio.sleep(0.2)  # a held message would have gone out by now
                smsc.live_peers[0].answer_held()
                await smsc.live_peers[0].flush()

            tg.start_soon(stop_soon)
            async for outcome in pool.send_many(source()):
                outcomes.append(outcome)
        written = len(smsc.submits)
    assert pool.statistics().queued == 0
    # Every message has one outcome: the written ones their ids, the rest the stop error.
    taken = len(outcomes)
    assert sorted(o.index for o in outcomes) == list(range(taken))
    assert taken > 10  # the pool had read ahead well past what it wrote
    ok = [o for o in outcomes if o.ok]
    assert len(ok) == written
    assert all(o.error is stop_error for o in outcomes if not o.ok)
    # withdraw_queued returned the same outcomes, at once; nothing after the stop was written.
    assert sorted(o.index for o in withdrawn) == sorted(o.index for o in outcomes if not o.ok)
    assert written == 1
    assert 1 in {o.index for o in withdrawn}  # the one the bind held back
