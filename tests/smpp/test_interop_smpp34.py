"""Interop: :class:`smscenter.SMPPPool` against the SMSC of the PyPI package ``smpp34``.

smpp34's server is an independent SMPP 3.4 implementation (a Rust/tokio core behind a Python
event API: ``Server.next()`` yields ``Esme`` on bind, ``SubmitSmEvent`` per submit_sm, ``Unbound``
on unbind; ``Esme.deliver_sm`` pushes a deliver_sm back). Nobody here wrote it, so a bind, a
submit, a multi-part submit, receipts and incoming messages that work against it are evidence
our wire format is the standard's, not just our simulator's.

Everything runs on 127.0.0.1, each wait is bounded by ``fail_after``.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest

from smscenter import Credentials, Limits, Message, SMPPPool
from smscenter.exceptions import APIError
from smscenter.models import DeliveryReport, IncomingMessage, MessageStatus
from smscenter.smpp.constants import CommandStatus

smpp34 = pytest.importorskip("smpp34", reason="smpp34 (the interop peer) is not installed")

pytestmark = pytest.mark.anyio

LONG_TEXT = "Interop long message. " * 12  # 264 GSM characters: two parts of 153
RECEIPT_TEXT = (
    "id:{id} sub:001 dlvrd:001 submit date:2411221200 done date:2411221201 stat:DELIVRD err:000"
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # smpp34's Python API is asyncio-only


def _free_port() -> int:
    # smpp34's Server has no way to report an ephemeral port: find one, then let it bind it.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass
class _Submit:
    session_id: str
    destination: str
    short_message: bytes
    esm_class: int
    data_coding: int
    registered_delivery: int
    message_id: str


@dataclass
class _SMSC:
    """smpp34's server, with what it saw."""

    server: Any
    port: int
    sessions: dict[str, Any] = field(default_factory=dict)
    submits: list[_Submit] = field(default_factory=list)
    unbound: list[str] = field(default_factory=list)
    bound: anyio.Event = field(default_factory=anyio.Event)
    all_unbound: anyio.Event = field(default_factory=anyio.Event)
    expected_binds: int = 1
    refuse: Callable[[str], bool] = lambda destination: False

    async def serve(self) -> None:
        while True:
            event = await self.server.next()
            if isinstance(event, smpp34.Esme):
                self.sessions[event.session_id] = event
                if len(self.sessions) >= self.expected_binds:
                    self.bound.set()
            elif isinstance(event, smpp34.SubmitSmEvent):
                if self.refuse(event.destination_addr):
                    event.reject(smpp34.ESME_RINVDSTADR)
                    continue
                message_id = f"SM34-{len(self.submits) + 1:04d}"
                self.submits.append(
                    _Submit(
                        session_id=event.session_id,
                        destination=event.destination_addr,
                        short_message=event.short_message,
                        esm_class=event.esm_class,
                        data_coding=event.data_coding,
                        registered_delivery=event.registered_delivery,
                        message_id=message_id,
                    )
                )
                event.accept(message_id)
            elif isinstance(event, smpp34.Unbound):
                self.unbound.append(event.session_id)
                if len(self.unbound) >= self.expected_binds:
                    self.all_unbound.set()


@pytest.fixture
async def smsc() -> AsyncIterator[_SMSC]:
    port = _free_port()
    server = smpp34.Server("127.0.0.1", port, system_id="SMPP34")
    await server.start()
    state = _SMSC(server=server, port=port)
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(state.serve)
            yield state
            tg.cancel_scope.cancel()
    finally:
        await server.stop()


def _pool(smsc: _SMSC, connections: int = 1) -> SMPPPool:
    smsc.expected_binds = connections
    return SMPPPool(
        "127.0.0.1",
        smsc.port,
        Credentials(login="interop", password="secret"),
        limits=Limits(connections=connections, window=50, max_rate=None),
    )


async def test_bind_submit_long_receipts_incoming_unbind(smsc: _SMSC) -> None:
    async with _pool(smsc) as pool:
        with anyio.fail_after(10):
            await smsc.bound.wait()
        with anyio.fail_after(10):
            short = await pool.send(Message(to="+79991234567", text="Hello from smscenter"))
            long = await pool.send(Message(to="79991234568", text=LONG_TEXT))
            outcomes = [
                outcome
                async for outcome in pool.send_many(
                    Message(to=f"7999100{n:04d}", text=f"bulk {n}") for n in range(20)
                )
            ]

        # Every message got the id smpp34's server assigned; the long one, one id per part.
        # (Its server may hand events of one bind over in any order: match by content.)
        assert len(smsc.submits) == 23
        by_id = {s.message_id: s for s in smsc.submits}
        first = by_id[short.message_id]
        assert first.destination == "79991234567"
        assert first.short_message == b"Hello from smscenter"
        assert first.data_coding == 0 and first.registered_delivery == 1
        assert all(outcome.ok for outcome in outcomes)
        assert {o.index for o in outcomes} == set(range(20))
        for outcome in outcomes:
            submit = by_id[outcome.message_id or ""]
            assert submit.destination == outcome.recipient
            assert submit.short_message == f"bulk {outcome.index}".encode()

        # The long message: two parts, each with a UDH (esm_class UDHI) of the same reference,
        # total 2, its sequence number; part_ids in part order; the text joins back.
        assert long.parts == 2 and len(long.part_ids) == 2
        parts = [by_id[part_id] for part_id in long.part_ids]
        assert all(p.destination == "79991234568" and p.esm_class & 0x40 for p in parts)
        headers = [p.short_message[: p.short_message[0] + 1] for p in parts]
        assert headers[0][-2:] == b"\x02\x01" and headers[1][-2:] == b"\x02\x02"
        assert headers[0][:-1] == headers[1][:-1]
        joined = b"".join(p.short_message[p.short_message[0] + 1 :] for p in parts)
        assert joined.decode("ascii") == LONG_TEXT

        # smpp34's server pushes a receipt (text + standard TLVs) and an incoming message.
        # Our pool answers each deliver_sm only once the consumer took it (no receipt is
        # acknowledged unseen), so the pushes run while the stream is read.
        esme = smsc.sessions[first.session_id]
        assert esme.can_receive
        answers: list[Any] = []

        async def push() -> None:
            answers.append(
                await esme.deliver_sm(
                    "SMSC",
                    RECEIPT_TEXT.format(id=short.message_id).encode(),
                    source_addr="79991234567",
                    source_addr_ton=1,
                    source_addr_npi=1,
                    esm_class=0x04,
                    tlvs=[
                        smpp34.Tlv(
                            smpp34.TLV_RECEIPTED_MESSAGE_ID, short.message_id.encode() + b"\0"
                        ),
                        smpp34.Tlv(smpp34.TLV_MESSAGE_STATE, b"\x02"),
                        smpp34.Tlv(0x2000, b" 1.5000\0"),  # the provider's cost TLV (seed 003)
                    ],
                )
            )
            answers.append(
                await esme.deliver_sm(
                    "79990001111", b"Reply from a subscriber", source_addr="79995556677"
                )
            )

        events: list[DeliveryReport | IncomingMessage] = []
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg, pool.reports() as stream:
                tg.start_soon(push)
                async for event in stream:
                    events.append(event)
                    if len(events) == 2:
                        break
        # smpp34 saw both deliver_sm answered with ESME_ROK.
        assert [answer.is_success for answer in answers] == [True, True]
        report, mo = events
        assert isinstance(report, DeliveryReport)
        assert report.message_id == short.message_id
        assert report.status is MessageStatus.DELIVERED
        assert str(report.cost) == "1.5000"
        assert isinstance(mo, IncomingMessage)
        assert mo.text == "Reply from a subscriber"
        assert mo.phone.endswith("79995556677")

        stats = pool.statistics()
        assert stats.acknowledged == stats.submitted == 23
        assert stats.rejected == stats.unknown == 0

    # Leaving the pool unbinds: smpp34's server saw an unbind, not a dropped socket. (smpp34
    # 1.5.0 closes the connection on unbind without sending unbind_resp, SMPP 3.4 §4.2.2; the
    # session takes that as the goodbye it asked for, with nothing in flight.)
    with anyio.fail_after(10):
        await smsc.all_unbound.wait()
    assert smsc.unbound == [first.session_id]


async def test_mcon_pool_of_two_binds(smsc: _SMSC, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="smscenter")
    async with _pool(smsc, connections=2) as pool:
        with anyio.fail_after(10):
            await smsc.bound.wait()
            outcomes = [
                outcome
                async for outcome in pool.send_many(
                    Message(to=f"7999200{n:04d}", text=f"mcon {n}") for n in range(200)
                )
            ]
        assert len(outcomes) == 200 and all(o.ok for o in outcomes)
        assert {o.index for o in outcomes} == set(range(200))
        assert len(smsc.sessions) == 2
        assert pool.statistics().binds_up == 2
    with anyio.fail_after(10):
        await smsc.all_unbound.wait()
    assert sorted(smsc.unbound) == sorted(smsc.sessions)
    # smpp34 closes on unbind without unbind_resp: that is our own goodbye, not a lost link.
    assert not [r for r in caplog.records if "link lost" in r.getMessage()]
    assert [r for r in caplog.records if "closed after our unbind" in r.getMessage()]


async def test_refused_submit_is_an_outcome_value(smsc: _SMSC) -> None:
    """A submit_sm the peer refuses ends as an error value in send_many, not an exception."""
    smsc.refuse = lambda destination: destination.endswith("3")
    async with _pool(smsc) as pool:
        with anyio.fail_after(10):
            outcomes = [
                outcome
                async for outcome in pool.send_many(
                    Message(to=f"7999300{n:04d}", text=f"maybe {n}") for n in range(10)
                )
            ]
    refused = sorted(o.recipient for o in outcomes if not o.ok)
    assert refused == ["79993000003"]
    error = next(o.error for o in outcomes if not o.ok)
    assert isinstance(error, APIError) and error.code == CommandStatus.ESME_RINVDSTADR
    assert sum(o.ok for o in outcomes) == 9
