"""Fault knobs and the less common modes of the simulator's SMPP half."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import anyio.abc
import pytest

from smscenter.models import MessageStatus
from smscenter.smpp.constants import CommandStatus
from smscenter.smpp.events import (
    BindComplete,
    BindRefused,
    ConnectionClosed,
    DeliverSmReceived,
    ProtocolViolation,
    ResponseReceived,
    SubmitsAccepted,
)
from smscenter.smpp.pdu import EnquireLink
from smscenter.smpp.receipts import report_from_deliver_sm
from smscenter.testing import SMSCSimulator
from tests.testing.test_simulator_smpp import PHONE, Esme, esme, submit


@pytest.fixture
async def sim() -> AsyncIterator[SMSCSimulator]:
    async with SMSCSimulator(seed=1) as simulator:
        simulator.behaviour.smpp.throughput = None
        yield simulator


async def test_drop_after_pdus(sim: SMSCSimulator) -> None:
    sim.behaviour.smpp.drop_after_pdus = 4  # the bind, two submits; the third submit drops it
    async with esme(sim) as client:
        seqs = [client.conn.send(submit(f"m{i}")) for i in range(5)]
        await client.flush()
        closed = await client.wait_for(ConnectionClosed)
    answered = [
        seq for e in client.events if isinstance(e, SubmitsAccepted) for seq, _ in e.accepted
    ]
    assert answered == seqs[:2]
    assert {p.sequence_number for p in closed.unanswered} == set(seqs[2:])
    assert len(sim.sent) == 2
    assert sim.smpp.counters.drops == 1


async def test_stop_answering(sim: SMSCSimulator) -> None:
    async with esme(sim) as client:
        sim.behaviour.smpp.stop_answering = True
        client.conn.send(submit())
        client.conn.send(EnquireLink())
        await client.flush()
        with pytest.raises(TimeoutError):
            await client.wait_for(ResponseReceived, wait=0.3)
        assert sim.sent == []
        sim.behaviour.smpp.stop_answering = False
        await client.sync()  # answering again


async def test_swallow_submits_keeps_the_link_alive(sim: SMSCSimulator) -> None:
    sim.behaviour.smpp.swallow_submits = True
    async with esme(sim) as client:
        for i in range(10):
            client.conn.send(submit(f"m{i}"))
        await client.flush()
        await client.sync()  # enquire_link is still answered
        assert not any(isinstance(e, ResponseReceived) for e in client.events)
    assert sim.smpp.counters.swallowed == 10
    assert sim.smpp.counters.submits == 10
    assert sim.smpp.counters.max_in_flight == 10
    assert sim.sent == []


async def test_throttle_every_second_submit(sim: SMSCSimulator) -> None:
    sim.behaviour.smpp.throttle_every = 2
    async with esme(sim) as client:
        responses = await client.submit_many([submit(f"m{i}") for i in range(10)])
    statuses = [r.command_status for r in responses]
    assert statuses == [CommandStatus.ESME_ROK, CommandStatus.ESME_RTHROTTLED] * 5
    assert len(sim.sent) == 5


async def test_a_resend_in_step_with_the_throttle_count_gets_through(sim: SMSCSimulator) -> None:
    # A resend that always lands on the throttled count (here: the same message resent alone,
    # after one other submit each time) would be throttled forever; it is let through on the
    # attempt after a throttle.
    sim.behaviour.smpp.throttle_every = 2
    async with esme(sim) as client:
        statuses = []
        for i in range(3):
            (other,) = await client.submit_many([submit(f"other {i}")])
            assert other.command_status is CommandStatus.ESME_ROK
            (again,) = await client.submit_many([submit("the same one")])
            statuses.append(again.command_status)
    assert statuses == [CommandStatus.ESME_RTHROTTLED, CommandStatus.ESME_ROK,
                        CommandStatus.ESME_RTHROTTLED]  # fmt: skip
    assert len(sim.sent) == 4  # the three others and the one let through


async def test_response_delay(sim: SMSCSimulator) -> None:
    sim.behaviour.smpp.response_delay = 0.3
    async with esme(sim) as client:
        started = anyio.current_time()
        response = await client.submit(submit())
        assert response.ok
        assert anyio.current_time() - started >= 0.3
    # the message itself was accepted at once
    assert len(sim.sent) == 1


async def test_malformed_response(sim: SMSCSimulator) -> None:
    sim.behaviour.smpp.malformed = 1
    async with esme(sim) as client:
        seq = client.conn.send(submit("broken"))
        await client.flush()
        violation = await client.wait_for(ProtocolViolation)
        assert violation.request_seq == seq
        assert (await client.submit(submit("fine"))).ok  # the link survives


async def test_malformed_frame_breaks_the_link(sim: SMSCSimulator) -> None:
    sim.behaviour.smpp.malformed = 1
    sim.behaviour.smpp.malformed_kind = "frame"
    async with esme(sim) as client:
        client.conn.send(submit())
        await client.flush()
        closed = await client.wait_for(ConnectionClosed)
        assert closed.reason == "protocol error"


async def test_refuse_binds_for_n_attempts(sim: SMSCSimulator) -> None:
    sim.behaviour.smpp.refuse_binds = 2
    async with esme(sim, bind=False) as client:
        for _ in range(2):
            refused = await client.bind("demo", "demo-pw")
            assert isinstance(refused, BindRefused)
            assert refused.command_status == CommandStatus.ESME_RBINDFAIL
        assert isinstance(await client.bind("demo", "demo-pw"), BindComplete)
    assert sim.smpp.counters.bind_attempts["demo"] == 3


async def test_refuse_binds_for_a_while(sim: SMSCSimulator) -> None:
    sim.behaviour.smpp.refuse_binds_for(60)
    async with esme(sim, bind=False) as client:
        assert isinstance(await client.bind("demo", "demo-pw"), BindRefused)
        sim.behaviour.smpp.refuse_binds_until = None  # "the while" is over
        assert isinstance(await client.bind("demo", "demo-pw"), BindComplete)


async def test_disconnect_all(sim: SMSCSimulator) -> None:
    async with esme(sim, system_type="MCON2") as a, esme(sim, system_type="MCON2") as b:
        sim.smpp.disconnect_all()
        await a.wait_closed()
        await b.wait_closed()
    with anyio.fail_after(2):
        while sim.smpp.sessions():  # noqa: ASYNC110 - the server's own tasks end them
            await anyio.sleep(0.01)


async def test_failure_only_receipts(sim: SMSCSimulator) -> None:
    sim.behaviour.phone_outcomes["79160000000"] = (20, 6)
    async with esme(sim) as client:
        await client.submit(submit("ok", receipt=2))
        failed = await client.submit(submit("bad", to="79160000000", receipt=2))
        sim.advance(10)
        (pdu,) = await client.deliveries(1)
        with pytest.raises(TimeoutError):
            await client.wait_for(DeliverSmReceived, wait=0.3)
    assert report_from_deliver_sm(pdu).message_id == failed.message_id


async def test_intermediate_receipts(sim: SMSCSimulator) -> None:
    sim.behaviour.smpp.intermediate_receipts = True
    async with esme(sim) as client:
        await client.submit(submit())
        sim.advance(2)
        first = (await client.deliveries(1))[0]
        sim.advance(10)
        second = (await client.deliveries(1))[0]
    assert report_from_deliver_sm(first).status is MessageStatus.TRANSMITTED
    assert report_from_deliver_sm(second).status is MessageStatus.DELIVERED


async def test_receipts_off(sim: SMSCSimulator) -> None:
    sim.behaviour.smpp.receipts = False
    async with esme(sim) as client:
        await client.submit(submit())
        sim.advance(10)
        with pytest.raises(TimeoutError):
            await client.wait_for(DeliverSmReceived, wait=0.3)
    assert sim.sent[0].status == 1


async def test_record_off_benchmark_mode(sim: SMSCSimulator) -> None:
    sim.behaviour.smpp.record = False
    before = sim.balance()
    async with esme(sim) as client:
        responses = await client.submit_many([submit("same") for _ in range(20)])
        assert all(r.ok for r in responses)  # no duplicate check
        pdus = await client.deliveries(20)
    assert {report_from_deliver_sm(p).message_id for p in pdus} == {r.message_id for r in responses}
    assert all(report_from_deliver_sm(p).status is MessageStatus.DELIVERED for p in pdus)
    assert sim.sent == [] and sim.balance() == before


async def test_unsupported_request_answered(sim: SMSCSimulator) -> None:
    from smscenter.smpp.pdu import CancelSm

    async with esme(sim) as client:
        client.conn.send(CancelSm(message_id="1", destination_addr=PHONE))
        await client.flush()
        answer = await client.wait_for(ResponseReceived)
    assert answer.command_status == CommandStatus.ESME_RINVCMDID


async def test_garbage_does_not_kill_the_listener(sim: SMSCSimulator) -> None:
    stream = await anyio.connect_tcp(sim.smpp_host, sim.smpp_port)
    async with stream:
        await stream.send(b"\x00\x00\x00\x05" + b"garbage" * 4)
        with anyio.fail_after(5):
            try:
                while await stream.receive():
                    pass
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                pass
    async with esme(sim) as client:
        assert (await client.submit(submit())).ok


async def test_serves_any_byte_stream(sim: SMSCSimulator) -> None:
    """serve_stream takes any anyio ByteStream: here one end of a socket pair."""
    import socket

    left, right = socket.socketpair()
    server_side = await anyio.abc.SocketStream.from_socket(left)
    client_side = await anyio.abc.SocketStream.from_socket(right)
    async with anyio.create_task_group() as group:
        group.start_soon(sim.smpp.serve_stream, server_side)
        async with client_side:
            client = Esme(client_side)
            assert isinstance(await client.bind("demo", "demo-pw"), BindComplete)
            assert (await client.submit(submit())).ok
            client.conn.send_unbind()
            await client.flush()
            await client.wait_for(ConnectionClosed)
    assert len(sim.sent) == 1


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_smpp_server_alone_on_trio(anyio_backend: str) -> None:
    """The SMPP half needs no asyncio (only the HTTP half's uvicorn does): run it on trio."""
    from decimal import Decimal

    from smscenter.testing import SimulatorState, SMPPBehaviour, SMPPServer

    state = SimulatorState()
    state.add_account("demo", "demo-pw", balance=Decimal(100))
    behaviour = SMPPBehaviour(throughput=None)
    server = SMPPServer(state, lambda: behaviour)
    async with anyio.create_task_group() as group:
        host, port = await group.start(server.serve, "127.0.0.1", 0)
        stream = await anyio.connect_tcp(host, port)
        async with stream:
            client = Esme(stream)
            assert isinstance(await client.bind("demo", "demo-pw"), BindComplete)
            response = await client.submit(submit())
            assert response.ok
        group.cancel_scope.cancel()
    assert state.sent_messages()[0].id == int(response.message_id)
    assert state.accounts["demo"].balance == Decimal("97.5")
