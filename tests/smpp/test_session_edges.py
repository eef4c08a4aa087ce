"""The edges of a session against quirky SMSCs on 127.0.0.1 (tests/smpp/_edges_smsc.py): a
stop-and-wait sender of long incoming messages, an unbind from the SMSC with answers still in
flight, and our own unbind draining the window."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import anyio
import pytest
from _edges_smsc import EdgeSMSC, accept_raw, deliver_stop_and_wait, write_raw
from _fake_smsc import FakeSMSC, mo

from smscenter import (
    Credentials,
    IncomingMessage,
    Limits,
    Message,
    SendResult,
    Timeouts,
    UnknownOutcomeError,
)
from smscenter.exceptions import LocalProtocolError
from smscenter.smpp import SendOutcome, SMPPSession
from smscenter.smpp.client.pool import ReconnectPolicy, SMPPPool
from smscenter.smpp.connection import Role, SMPPConnection, State
from smscenter.smpp.constants import BindMode
from smscenter.smpp.events import (
    BindComplete,
    BindRequested,
    ConnectionClosed,
    RequestExpired,
    SubmitsAccepted,
    UnbindReceived,
)
from smscenter.smpp.pdu import SubmitSm, SubmitSmResp

CREDS = Credentials("acme", "secret")


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """The session runs on both of anyio's backends."""
    return str(request.param)


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


# --- an unbind from the SMSC, and our own -------------------------------------------------------


def bound_pair() -> tuple[SMPPConnection, SMPPConnection]:
    esme = SMPPConnection(Role.ESME)
    smsc = SMPPConnection(Role.SMSC)
    esme.send_bind(BindMode.TRANSCEIVER, system_id="acme", password="pw")
    (request,) = smsc.receive_data(esme.data_to_send())
    assert isinstance(request, BindRequested)
    smsc.accept_bind(request.pdu, system_id="SMSC")
    (done,) = esme.receive_data(smsc.data_to_send())
    assert isinstance(done, BindComplete)
    return esme, smsc


def test_core_reads_answers_written_after_the_smscs_unbind() -> None:
    esme, smsc = bound_pair()
    esme.send(SubmitSm(), deadline=10.0)
    esme.send(SubmitSm(), deadline=10.0)
    first, second = (e.pdu for e in smsc.receive_data(esme.data_to_send()))  # type: ignore[attr-defined]
    smsc.send_unbind()
    events = esme.receive_data(smsc.data_to_send())
    assert [type(e) for e in events] == [UnbindReceived]
    assert esme.state is State.UNBINDING
    with pytest.raises(LocalProtocolError):
        esme.send(SubmitSm())  # nothing new after the SMSC's unbind
    smsc.receive_data(esme.data_to_send())  # unbind_resp: the SMSC side is CLOSED now
    # The SMSC's answers after its unbind (encoded by hand: its core would refuse to send).
    events = esme.receive_data(
        SubmitSmResp(sequence_number=first.sequence_number, message_id="a").encode()
    )
    assert [type(e) for e in events] == [SubmitsAccepted]
    assert esme.state is State.UNBINDING
    events = esme.receive_data(
        SubmitSmResp(sequence_number=second.sequence_number, message_id="b").encode()
    )
    assert [type(e) for e in events] == [
        SubmitsAccepted,
        ConnectionClosed,
    ]
    closed = events[1]
    assert isinstance(closed, ConnectionClosed) and closed.reason == "unbound by peer"
    assert closed.unanswered == ()


def test_core_closes_when_what_was_in_flight_at_the_smscs_unbind_expires() -> None:
    esme, smsc = bound_pair()
    esme.send(SubmitSm(), deadline=1.0)
    smsc.receive_data(esme.data_to_send())
    smsc.send_unbind()
    esme.receive_data(smsc.data_to_send())
    assert esme.state is State.UNBINDING
    events = esme.expire(2.0)
    assert [type(e) for e in events] == [RequestExpired, ConnectionClosed]
    assert esme.state is State.CLOSED


FAST = ReconnectPolicy(initial=0.01, maximum=0.05, refused=0.05)


def messages(n: int) -> list[Message]:
    return [Message(to=f"+7999{i:07d}", text="bulk") for i in range(n)]


def pool(port: int, **kwargs: object) -> SMPPPool:
    kwargs.setdefault("limits", Limits(max_rate=None))
    kwargs.setdefault("reconnect", FAST)
    return SMPPPool("127.0.0.1", port, CREDS, **kwargs)  # type: ignore[arg-type]


async def test_answers_written_after_the_smscs_unbind_are_settled() -> None:
    # 20 submits in flight; the SMSC sends unbind, then (50 ms later, on the same connection)
    # accepts all 20. Before, the bind closed at the unbind and all 20 ended unknown.
    async with EdgeSMSC() as smsc:
        smsc.hold = True
        smsc.linger = True
        async with pool(smsc.port, timeouts=Timeouts(5)) as p:
            outcomes: list[SendOutcome] = []
            async with anyio.create_task_group() as tg:

                async def run() -> None:
                    outcomes.extend([o async for o in p.send_many(messages(20))])

                tg.start_soon(run)
                await until(lambda: len(smsc.submits) == 20)
                peer = smsc.live_peers[0]
                held, peer.held = peer.held, []
                peer.conn.send_unbind()
                await peer.flush()
                await until(lambda: peer.conn.state is State.CLOSED)  # our unbind_resp came
                await anyio.sleep(0.05)
                await write_raw(peer, accept_raw(held, 5000))
            stats = p.statistics()
            assert sorted(o.message_id or "" for o in outcomes) == [
                str(5000 + n) for n in range(20)
            ]
            assert stats.unknown == 0 and stats.acknowledged == 20
            # then the bind comes back, as after any lost link
            await until(lambda: len(smsc.binds) == 2 and p.statistics().binds_up == 1)
            smsc.hold = False
            assert (await p.send(Message(to="+79991234567", text="after"))).message_id


async def test_waiting_for_answers_after_the_smscs_unbind_is_bounded() -> None:
    async with EdgeSMSC() as smsc:
        smsc.hold = True
        smsc.linger = True
        async with pool(smsc.port, timeouts=Timeouts(5, unbind=0.3)) as p:
            outcomes: list[SendOutcome] = []
            async with anyio.create_task_group() as tg:

                async def run() -> None:
                    outcomes.extend([o async for o in p.send_many(messages(5))])

                tg.start_soon(run)
                await until(lambda: len(smsc.submits) == 5)
                peer = smsc.live_peers[0]
                peer.conn.send_unbind()
                await peer.flush()
                start = anyio.current_time()
            waited = anyio.current_time() - start
    assert 0.25 <= waited < 2.0, waited
    assert len(outcomes) == 5
    assert all(isinstance(o.error, UnknownOutcomeError) for o in outcomes)


async def test_our_unbind_waits_for_the_window_to_drain(smsc: FakeSMSC) -> None:
    smsc.hold = True
    results: list[object] = []
    unbinds_when_answered: list[int] = []

    async def send_one(p: SMPPPool, i: int) -> None:
        try:
            results.append(await p.send(Message(to=f"+7999000000{i}", text="x")))
        except Exception as exc:
            results.append(exc)

    async def answer_later() -> None:
        await anyio.sleep(0.2)
        unbinds_when_answered.append(smsc.unbinds)
        peer = smsc.live_peers[0]
        peer.answer_held()
        await peer.flush()

    async with (
        anyio.create_task_group() as tg,
        pool(smsc.port, timeouts=Timeouts(5, unbind=3)) as p,
    ):
        for i in range(10):
            tg.start_soon(send_one, p, i)
        await until(lambda: len(smsc.submits) == 10)
        tg.start_soon(answer_later)
        # leaving the pool waits for the ten answers, then unbinds
    assert unbinds_when_answered == [0]
    assert smsc.unbinds == 1
    assert len(results) == 10
    assert all(isinstance(r, SendResult) for r in results), results


async def test_our_unbind_wait_for_the_window_is_bounded(smsc: FakeSMSC) -> None:
    smsc.hold = True
    results: list[object] = []

    async def send_one(p: SMPPPool, i: int) -> None:
        try:
            results.append(await p.send(Message(to=f"+7999000000{i}", text="x")))
        except Exception as exc:
            results.append(exc)

    async with (
        anyio.create_task_group() as tg,
        pool(smsc.port, timeouts=Timeouts(5, unbind=0.2)) as p,
    ):
        for i in range(3):
            tg.start_soon(send_one, p, i)
        await until(lambda: len(smsc.submits) == 3)
        start = anyio.current_time()
    closed_in = anyio.current_time() - start
    assert 0.15 <= closed_in < 1.5, closed_in
    assert len(results) == 3 and all(isinstance(r, UnknownOutcomeError) for r in results)
