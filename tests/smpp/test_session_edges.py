"""The edges of a session against quirky SMSCs on 127.0.0.1 (tests/smpp/_edges_smsc.py): a
stop-and-wait sender of long incoming messages, an unbind from the SMSC with answers still in
flight, and our own unbind draining the window."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import anyio
import pytest
from _edges_smsc import deliver_stop_and_wait
from _fake_smsc import FakeSMSC, mo

from smscenter import Credentials, IncomingMessage, Timeouts
from smscenter.smpp.session import SMPPSession

CREDS = Credentials("acme", "secret")


@pytest.fixture
async def smsc() -> AsyncIterator[FakeSMSC]:
    async with FakeSMSC() as server:
        yield server


async def until(predicate: Callable[[], bool], limit: float = 5.0) -> None:
    with anyio.fail_after(limit):
        while not predicate():  # noqa: ASYNC110 - polling server-side state, bounded
            await anyio.sleep(0.002)


async def test_stop_and_wait_long_incoming_message_does_not_stall(smsc: FakeSMSC) -> None:
    # The SMSC sends part n+1 only after part n's deliver_sm_resp (waiting at most 0.5 s).
    texts = [b"one, ", b"two, ", b"three"]
    # UDH IEI 0x00 (SMPP 3.4 §5.2.12 UDHI): reference 0x2A, three parts, this part's number
    parts = [mo(t, udh=bytes([5, 0, 3, 0x2A, 3, n])) for n, t in enumerate(texts, 1)]
    async with SMPPSession("127.0.0.1", smsc.port, CREDS, timeouts=Timeouts(5)) as s:
        peer = smsc.live_peers[0]
        stalled: list[list[int]] = []

        async def sender() -> None:
            stalled.append(await deliver_stop_and_wait(peer, parts, wait=0.5))

        async with anyio.create_task_group() as tg:
            start = anyio.current_time()
            tg.start_soon(sender)
            async with s.reports() as stream:
                with anyio.fail_after(3):
                    event = await stream.receive()
                assert isinstance(event, IncomingMessage)
                assert event.text == "one, two, three"
                # Held parts were answered when held; the completing one waits for the hand-off
                # (at-least-once for the complete message).
                assert len(smsc.deliver_resps) == 2
            # leaving the stream normally acknowledges the message: its last part is answered
        assert stalled == [[]]
        assert [status for _, status in smsc.deliver_resps] == [0, 0, 0]
        assert anyio.current_time() - start < 0.5
