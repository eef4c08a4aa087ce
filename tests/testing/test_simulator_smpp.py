"""The simulator's SMPP half, driven by our own sans-IO core (ESME role) over real TCP.

Each test talks to :class:`SMSCSimulator` on 127.0.0.1 through :class:`Esme`, a tiny client that
feeds an ``SMPPConnection(role=ESME)`` from an anyio socket: no pool, no session layer.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any, TypeVar

import anyio
import anyio.abc
import httpx
import pytest

from smscenter.models import DeliveryError, MessageStatus
from smscenter.smpp.connection import Role, SMPPConnection
from smscenter.smpp.constants import BindMode, CommandId, CommandStatus, Tag
from smscenter.smpp.events import (
    BindComplete,
    BindRefused,
    ConnectionClosed,
    DeliverSmReceived,
    Event,
    ResponseReceived,
    SubmitsAccepted,
    UnbindReceived,
)
from smscenter.smpp.incoming import incoming_from_deliver_sm
from smscenter.smpp.pdu import DeliverSm, EnquireLink, QuerySm, QuerySmResp, SubmitSm, SubmitSmResp
from smscenter.smpp.reassembly import Reassembler
from smscenter.smpp.receipts import report_from_deliver_sm
from smscenter.smpp.text import TextEncoding, concat_udh, encode_text, split_text
from smscenter.testing import SMSCSimulator
from smscenter.testing._state import HlrResult

E = TypeVar("E", bound=Event)
PHONE = "79161234567"
TIMEOUT = 5.0


class Answer:
    """A submit_sm_resp as the tests read it: an acceptance (from ``SubmitsAccepted``) or any
    other answer (a ``ResponseReceived``)."""

    def __init__(
        self,
        event: ResponseReceived | None = None,
        *,
        accepted: tuple[int, str] | None = None,
    ) -> None:
        if accepted is not None:
            self.request_seq, self.message_id = accepted
            self.command_status = CommandStatus.ESME_ROK
            self.ok = True
            return
        assert event is not None
        self.request_seq = event.request_seq
        self.command_status = event.command_status
        self.ok = event.ok
        pdu = event.pdu
        self.message_id = pdu.message_id if isinstance(pdu, SubmitSmResp) else ""


class Esme:
    """A minimal ESME: our SMPPConnection(role=ESME) over an anyio TCP stream."""

    def __init__(self, stream: anyio.abc.ByteStream) -> None:
        self.stream = stream
        self.conn = SMPPConnection(Role.ESME, window=100_000)
        self.events: deque[Event] = deque()
        self.closed = False
        self.auto_ack = True

    async def flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            await self.stream.send(data)

    async def _read(self) -> None:
        try:
            data = await self.stream.receive(65536)
        except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
            data = b""
        if not data:
            self.closed = True
        for event in self.conn.receive_data(data):
            if self.auto_ack and isinstance(event, DeliverSmReceived):
                self.conn.respond(event.pdu)
            self.events.append(event)
        await self.flush()

    async def wait_for(self, kind: type[E], wait: float = TIMEOUT) -> E:
        """The next event of ``kind`` (other events stay queued, in order)."""
        with anyio.fail_after(wait):
            while True:
                for event in self.events:
                    if isinstance(event, kind):
                        self.events.remove(event)
                        return event
                if self.closed:
                    raise AssertionError(f"connection closed while waiting for {kind.__name__}")
                await self._read()

    async def wait_closed(self, wait: float = TIMEOUT) -> None:
        with anyio.fail_after(wait):
            while not self.closed:
                await self._read()

    async def bind(
        self,
        login: str,
        password: str,
        *,
        mode: BindMode = BindMode.TRANSCEIVER,
        system_type: str = "",
    ) -> BindComplete | BindRefused:
        self.conn.send_bind(mode, system_id=login, password=password, system_type=system_type)
        await self.flush()
        with anyio.fail_after(TIMEOUT):
            while True:
                for event in list(self.events):
                    if isinstance(event, BindComplete | BindRefused):
                        self.events.remove(event)
                        return event
                if self.closed:
                    raise AssertionError("closed during bind")
                await self._read()

    async def submit_many(self, pdus: list[SubmitSm]) -> list[Answer]:
        seqs = [self.conn.send(pdu) for pdu in pdus]
        await self.flush()
        wanted = set(seqs)
        got: dict[int, Answer] = {}
        with anyio.fail_after(TIMEOUT):
            while wanted - got.keys():
                for event in list(self.events):
                    if isinstance(event, ResponseReceived) and event.request_seq in wanted:
                        self.events.remove(event)
                        got[event.request_seq] = Answer(event)
                    elif isinstance(event, SubmitsAccepted):
                        self.events.remove(event)
                        for pair in event.accepted:
                            got[pair[0]] = Answer(accepted=pair)
                if wanted - got.keys():
                    if self.closed:
                        raise AssertionError("closed while waiting for responses")
                    await self._read()
        return [got[s] for s in seqs]

    async def submit(self, pdu: SubmitSm) -> Answer:
        return (await self.submit_many([pdu]))[0]

    async def sync(self) -> None:
        """An enquire_link round trip: the server has handled everything sent before it."""
        seq = self.conn.send(EnquireLink())
        await self.flush()
        with anyio.fail_after(TIMEOUT):
            while True:
                for event in list(self.events):
                    if isinstance(event, ResponseReceived) and event.request_seq == seq:
                        self.events.remove(event)
                        return
                await self._read()

    async def deliveries(self, count: int, wait: float = TIMEOUT) -> list[DeliverSm]:
        out = []
        for _ in range(count):
            out.append((await self.wait_for(DeliverSmReceived, wait)).pdu)
        if self.auto_ack:
            await self.sync()
        return out


@contextlib.asynccontextmanager
async def esme(
    sim: SMSCSimulator,
    *,
    login: str | None = None,
    password: str | None = None,
    mode: BindMode = BindMode.TRANSCEIVER,
    system_type: str = "",
    bind: bool = True,
) -> AsyncIterator[Esme]:
    """A connected (and, by default, bound) ESME for ``sim``'s default account."""
    stream = await anyio.connect_tcp(sim.smpp_host, sim.smpp_port)
    async with stream:
        client = Esme(stream)
        if bind:
            creds = sim.smpp_credentials
            assert creds.login is not None and creds.password is not None
            result = await client.bind(
                login or creds.login,
                password or creds.password,
                mode=mode,
                system_type=system_type,
            )
            assert isinstance(result, BindComplete), result
        yield client


def submit(
    text: str = "hello",
    *,
    to: str = PHONE,
    receipt: int = 1,
    sender: str = "Shop",
    coding: int | None = None,
    **fields: Any,
) -> SubmitSm:
    if coding is None:
        data = encode_text(text, TextEncoding.GSM)
        coding = 0
    else:
        data = text.encode("latin-1" if coding in (0, 4, 3) else "utf-16-be")
    return SubmitSm(
        source_addr=sender,
        source_addr_ton=5,
        destination_addr=to,
        dest_addr_ton=1,
        dest_addr_npi=1,
        registered_delivery=int(receipt),
        data_coding=coding,
        short_message=data,
        **fields,
    )


def long_submit(text: str, reference: int = 7, **kwargs: Any) -> list[SubmitSm]:
    parts = split_text(text, TextEncoding.GSM)
    total = len(parts)
    base = submit("x", **kwargs)
    return [
        SubmitSm(
            source_addr=base.source_addr,
            source_addr_ton=5,
            destination_addr=base.destination_addr,
            dest_addr_ton=1,
            dest_addr_npi=1,
            registered_delivery=base.registered_delivery,
            esm_class=0x40,
            short_message=concat_udh(reference, total, i) + part,
        )
        for i, part in enumerate(parts, 1)
    ]


@pytest.fixture
async def sim() -> AsyncIterator[SMSCSimulator]:
    async with SMSCSimulator(seed=1) as simulator:
        simulator.behaviour.smpp.throughput = None
        yield simulator


# --- bind ---------------------------------------------------------------------------------------


async def test_bind_ok_and_refused(sim: SMSCSimulator) -> None:
    async with esme(sim) as client:
        assert client.conn.bind_mode is BindMode.TRANSCEIVER
        assert [s.login for s in sim.smpp.sessions()] == ["demo"]
    async with esme(sim, bind=False) as client:
        refused = await client.bind("demo", "wrong")
        assert isinstance(refused, BindRefused)
        assert refused.command_status == CommandStatus.ESME_RINVPASWD
        refused = await client.bind("nobody", "x")
        assert isinstance(refused, BindRefused)
        assert refused.command_status == CommandStatus.ESME_RINVSYSID
    assert sim.smpp.counters.bind_refusals["demo"] == 1
    assert sim.smpp.counters.binds["demo"] == 1


async def test_second_account_binds_with_its_own_password(sim: SMSCSimulator) -> None:
    creds = sim.add_account("shop", "s3cret")
    async with esme(sim, login=creds.login, password="s3cret") as client:
        assert client.conn.bind_mode is BindMode.TRANSCEIVER
    sim.add_account("mall", "a-long-main-password", smpp_password="pw4smpp")
    async with esme(sim, login="mall", password="pw4smpp") as client:
        assert (await client.submit(submit())).ok
    assert sim.sent[0].login == "mall"


async def test_without_mcon_a_new_bind_kicks_the_old_one(sim: SMSCSimulator) -> None:
    async with esme(sim) as first, esme(sim) as second:
        unbind = await first.wait_for(UnbindReceived)
        assert unbind.sequence_number > 0
        await first.wait_closed()
        assert sim.smpp.counters.kicked["demo"] == 1
        response = await second.submit(submit())
        assert response.ok
        assert len(sim.smpp.sessions("demo")) == 1


async def test_mcon_allows_n_binds_and_refuses_the_next(sim: SMSCSimulator) -> None:
    async with contextlib.AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(esme(sim, system_type="MCON3")) for _ in "abc"]
        assert len(sim.smpp.sessions("demo")) == 3
        async with esme(sim, bind=False) as extra:
            refused = await extra.bind("demo", "demo-pw", system_type="MCON3")
            assert isinstance(refused, BindRefused)
            assert refused.command_status == CommandStatus.ESME_RALYBND
        # the three original binds still work
        for client in clients:
            assert (await client.submit(submit(f"hi {id(client)}"))).ok


# --- submit, receipts, shared state ---------------------------------------------------------------


async def test_submit_receipt_with_tlvs_and_text(sim: SMSCSimulator) -> None:
    async with esme(sim) as client:
        response = await client.submit(submit("Order 42 shipped"))
        assert response.ok
        message_id = response.message_id
        assert message_id.isdigit()
        sim.advance(10)
        (pdu,) = await client.deliveries(1)
    assert pdu.esm_class & 0x3C == 0x04
    report = report_from_deliver_sm(pdu)
    assert report.message_id == message_id
    assert report.status is MessageStatus.DELIVERED
    assert report.error is DeliveryError.NO_ERROR
    assert report.parts == 1 and report.delivered_parts == 1
    assert report.cost == Decimal("2.5")
    assert (report.mcc, report.mnc) == ("250", "01")
    assert report.phone == PHONE and report.sender == "Shop"
    assert report.submitted_at is not None and report.changed_at is not None
    text = pdu.short_message.decode()
    assert text.startswith(f"id:{message_id} sub:001 dlvrd:001 submit date:")
    assert text.endswith("stat:DELIVRD err:000")
    assert pdu.receipted_message_id == message_id
    assert pdu.tlv(Tag.MESSAGE_STATE) == b"\x02"
    assert pdu.tlv(Tag.NETWORK_ERROR_CODE) == b"\x03\x00\x00"
    assert pdu.tlv(Tag.PARTS) == b"\x00\x01"
    assert pdu.tlv(Tag.FLAG) == b"\x00\x00"
    assert pdu.tlv(Tag.EXTRA_STATUS) == b"\x00\x00"
    assert pdu.tlv(Tag.COST) == b"2.5000\x00"
    assert sim.smpp.counters.receipts_sent == 1
    assert sim.smpp.counters.receipts_acked == 1


async def test_failed_outcome_and_error_code(sim: SMSCSimulator) -> None:
    sim.behaviour.phone_outcomes[PHONE] = (20, 6)
    async with esme(sim) as client:
        response = await client.submit(submit())
        sim.advance(10)
        (pdu,) = await client.deliveries(1)
    report = report_from_deliver_sm(pdu)
    assert report.message_id == response.message_id
    assert report.status is MessageStatus.UNDELIVERABLE
    assert int(report.error) == 6
    assert report.delivered_parts == 0
    assert "stat:UNDELIV err:006" in pdu.short_message.decode()


async def test_smpp_message_visible_over_http_and_billed(sim: SMSCSimulator) -> None:
    before = sim.balance()
    async with esme(sim) as client:
        response = await client.submit(submit("visible over http"))
    message_id = response.message_id
    assert sim.balance() == before - Decimal("2.5")
    stored = sim.message(message_id)
    assert stored is not None and stored.transport == "smpp" and stored.sender == "Shop"
    sim.advance(10)
    async with httpx.AsyncClient(base_url=sim.base_url) as http:
        answer = await http.post(
            "/sys/status.php",
            data={
                **sim.credentials.http_params(),
                "id": message_id,
                "phone": PHONE,
                "fmt": "3",
                "all": "1",
            },
        )
    body = answer.json()
    assert body["status"] == 1
    assert body["message"] == "visible over http"


async def test_ids_are_shared_with_http_sends(sim: SMSCSimulator) -> None:
    async with httpx.AsyncClient(base_url=sim.base_url) as http:
        answer = await http.post(
            "/sys/send.php",
            data={**sim.credentials.http_params(), "phones": PHONE, "mes": "http", "fmt": "3"},
        )
    http_id = answer.json()["id"]
    async with esme(sim) as client:
        response = await client.submit(submit("smpp"))
    assert int(response.message_id) == http_id + 1


async def test_insufficient_funds_refused(sim: SMSCSimulator) -> None:
    sim.set_balance(None, Decimal("1"))
    async with esme(sim) as client:
        response = await client.submit(submit())
    assert response.command_status == CommandStatus.ESME_RSUBMITFAIL
    assert sim.sent == []
    assert sim.balance() == Decimal("1")
    assert sim.smpp.counters.refused == 1


async def test_duplicate_within_a_minute_refused(sim: SMSCSimulator) -> None:
    async with esme(sim) as client:
        first, second = await client.submit_many([submit("same"), submit("same")])
        assert first.ok
        assert second.command_status == CommandStatus.ESME_RSUBMITFAIL
        sim.advance(61)
        assert (await client.submit(submit("same"))).ok
    assert len(sim.sent) == 2


async def test_no_receipt_without_registered_delivery(sim: SMSCSimulator) -> None:
    async with esme(sim) as client:
        quiet = await client.submit(submit("quiet", receipt=False))
        loud = await client.submit(submit("loud"))
        sim.advance(10)
        (pdu,) = await client.deliveries(1)
        assert report_from_deliver_sm(pdu).message_id == loud.message_id
        # the quiet one is delivered all the same: HTTP status sees it
        message = sim.message(quiet.message_id)
        assert message is not None and message.status == 1
        with pytest.raises(TimeoutError):
            await client.wait_for(DeliverSmReceived, wait=0.3)


async def test_receipts_go_only_to_receiving_binds(sim: SMSCSimulator) -> None:
    async with esme(sim, mode=BindMode.TRANSMITTER, system_type="MCON2") as tx:
        response = await tx.submit(submit())
        sim.advance(10)
        assert sim.smpp.pending("demo") == 1  # nobody can receive it yet
        async with esme(sim, mode=BindMode.RECEIVER, system_type="MCON2") as rx:
            (pdu,) = await rx.deliveries(1)
        assert report_from_deliver_sm(pdu).message_id == response.message_id
        assert not any(isinstance(e, DeliverSmReceived) for e in tx.events)


async def test_unacked_receipt_is_delivered_again_after_reconnect(sim: SMSCSimulator) -> None:
    async with esme(sim) as client:
        client.auto_ack = False
        response = await client.submit(submit())
        sim.advance(10)
        await client.wait_for(DeliverSmReceived)
    async with esme(sim) as client:
        (pdu,) = await client.deliveries(1)
    assert report_from_deliver_sm(pdu).message_id == response.message_id
    assert sim.smpp.counters.receipts_sent == 2
    assert sim.smpp.counters.receipts_acked == 1


async def test_refused_receipt_is_retried(sim: SMSCSimulator) -> None:
    async with esme(sim) as client:
        client.auto_ack = False
        await client.submit(submit())
        sim.advance(10)
        first = await client.wait_for(DeliverSmReceived)
        client.conn.respond(first.pdu, CommandStatus.ESME_RX_T_APPN)  # "not now"
        await client.flush()
        client.auto_ack = True
        second = await client.wait_for(DeliverSmReceived)
        await client.sync()
    assert second.pdu.receipted_message_id == first.pdu.receipted_message_id
    assert sim.smpp.counters.receipts_acked == 1


# --- long messages, SINGLE, ISO ------------------------------------------------------------------


LONG = "".join(f"word{i} " for i in range(60))  # 3 GSM parts


async def test_long_message_one_id_one_receipt(sim: SMSCSimulator) -> None:
    pdus = long_submit(LONG)
    assert len(pdus) == 3
    async with esme(sim) as client:
        responses = await client.submit_many(pdus)
        ids = {r.message_id for r in responses}
        assert len(ids) == 1 and all(r.ok for r in responses)
        (message_id,) = ids
        stored = sim.message(message_id)
        assert stored is not None and stored.text == LONG and stored.parts == 3
        assert sim.balance() == Decimal(1000) - Decimal("7.5")
        sim.advance(10)
        (pdu,) = await client.deliveries(1)
        with pytest.raises(TimeoutError):
            await client.wait_for(DeliverSmReceived, wait=0.3)
    report = report_from_deliver_sm(pdu)
    assert report.message_id == message_id
    assert report.parts == 3 and report.delivered_parts == 3
    assert "sub:003 dlvrd:003" in pdu.short_message.decode()


async def test_single_gives_an_id_and_a_receipt_per_part(sim: SMSCSimulator) -> None:
    async with esme(sim, system_type="SINGLE") as client:
        responses = await client.submit_many(long_submit(LONG))
        ids = [r.message_id for r in responses]
        assert len(set(ids)) == 3
        sim.advance(10)
        pdus = await client.deliveries(3)
    assert sorted(report_from_deliver_sm(p).message_id for p in pdus) == sorted(ids)
    assert all(report_from_deliver_sm(p).parts == 1 for p in pdus)


async def test_iso_reads_data_coding_0_as_latin1(sim: SMSCSimulator) -> None:
    text = "Café ©"
    async with esme(sim, system_type="ISO,MCON2") as iso:
        response = await iso.submit(submit(text, coding=0, sender="A"))
    stored = sim.message(response.message_id)
    assert stored is not None and stored.text == text
    # the same bytes without ISO are GSM 03.38: "é" is 0x05 there, so 0xE9 reads differently
    async with esme(sim) as plain:
        response = await plain.submit(submit(text, coding=0, sender="B"))
    stored = sim.message(response.message_id)
    assert stored is not None and stored.text != text
    async with esme(sim) as plain:
        response = await plain.submit(submit(text, coding=4, sender="C"))
    stored = sim.message(response.message_id)
    assert stored is not None and stored.text == text


async def test_ucs2_text(sim: SMSCSimulator) -> None:
    async with esme(sim) as client:
        response = await client.submit(submit("Привет", coding=8))
    stored = sim.message(response.message_id)
    assert stored is not None and stored.text == "Привет"


# --- throttling ----------------------------------------------------------------------------------


async def test_throughput_limit_answers_throttled(sim: SMSCSimulator) -> None:
    sim.behaviour.smpp.throughput = 5
    async with esme(sim) as client:
        responses = await client.submit_many([submit(f"m{i}") for i in range(12)])
    statuses = [r.command_status for r in responses]
    assert statuses[:5] == [CommandStatus.ESME_ROK] * 5
    assert statuses.count(CommandStatus.ESME_RTHROTTLED) >= 6
    assert sim.smpp.counters.throttled == statuses.count(CommandStatus.ESME_RTHROTTLED)
    assert len(sim.sent) == statuses.count(CommandStatus.ESME_ROK)


async def test_default_throughput_is_30_per_second() -> None:
    async with SMSCSimulator() as sim:
        assert sim.behaviour.smpp.throughput == 30
        async with esme(sim) as client:
            responses = await client.submit_many([submit(f"m{i}") for i in range(40)])
        ok = sum(r.ok for r in responses)
        assert 30 <= ok < 40


# --- special texts, query_sm, incoming -----------------------------------------------------------


async def test_hlr_receipt_in_the_seed_format(sim: SMSCSimulator) -> None:
    sim.set_hlr_result(
        PHONE,
        HlrResult(imsi="250023012345678", msc="79232510066", mcc="250", mnc="02", cn="Russian Fed"),
    )
    async with esme(sim) as client:
        response = await client.submit(submit("__HLR__"))
        sim.advance(10)
        (pdu,) = await client.deliveries(1)
    stored = sim.message(response.message_id)
    assert stored is not None and stored.type == 4  # HLR
    text = pdu.short_message.decode()
    assert text == (
        f"id:{response.message_id} stat:DELIVRD err:000 imsi:250023012345678 "
        "msc:79232510066 mcc:250 mnc:02 cn:Russian+Fed net: rcn: rnet:"
    )
    report = report_from_deliver_sm(pdu)
    assert report.hlr is not None and report.hlr.imsi == "250023012345678"
    assert report.hlr.country == "Russian Fed"
    assert pdu.tlv(Tag.FLAG) == b"\x00\x04"


async def test_special_texts_become_message_kinds(sim: SMSCSimulator) -> None:
    async with esme(sim) as client:
        ping = await client.submit(submit("__PING__"))
        mail = await client.submit(submit("__MAIL__: hello\nsubj:Hi", to="a@example.com"))
        viber = await client.submit(submit("__VIBER__: hi\n~~~\nnote"))
    assert all(r.ok for r in (ping, mail, viber))
    kinds = {m.type for m in sim.sent}
    assert kinds == {5, 8, 10}  # ping, mail, viber
    (viber_message,) = [m for m in sim.sent if m.type == 10]
    assert viber_message.text == "hi" and viber_message.comment == "note"


async def test_query_sm_answers_from_the_store(sim: SMSCSimulator) -> None:
    async with esme(sim) as client:
        response = await client.submit(submit())
        message_id = response.message_id
        seq = client.conn.send(QuerySm(message_id=message_id, source_addr="Shop"))
        await client.flush()
        answer = await client.wait_for(ResponseReceived)
        assert answer.request_seq == seq and answer.ok
        assert isinstance(answer.pdu, QuerySmResp)
        assert answer.pdu.message_state == 1 or answer.pdu.message_state == 6  # not final yet
        assert answer.pdu.final_date == ""
        sim.advance(10)
        await client.deliveries(1)
        client.conn.send(QuerySm(message_id=message_id, source_addr="Shop"))
        await client.flush()
        answer = await client.wait_for(ResponseReceived)
        assert isinstance(answer.pdu, QuerySmResp)
        assert answer.pdu.message_state == 2 and answer.pdu.final_date.endswith("+")
        client.conn.send(QuerySm(message_id="999999", source_addr="Shop"))
        await client.flush()
        answer = await client.wait_for(ResponseReceived)
        assert answer.command_status == CommandStatus.ESME_RQUERYFAIL


async def test_incoming_short_and_long(sim: SMSCSimulator) -> None:
    long_text = "Ответ " * 30  # UCS-2, 3 parts
    async with esme(sim) as client:
        sim.inject_incoming("+79990001122", "STOP", to_phone="79005550001")
        (pdu,) = await client.deliveries(1)
        message = incoming_from_deliver_sm(pdu)
        assert message is not None
        assert (message.phone, message.text, message.to) == ("79990001122", "STOP", "79005550001")
        sim.inject_incoming("+79990001122", long_text)
        pdus = await client.deliveries(3)
    assert all(p.esm_class & 0x40 for p in pdus)
    reassembler = Reassembler()
    results = [incoming_from_deliver_sm(p, reassembler=reassembler) for p in pdus]
    assert results[:2] == [None, None]
    assert results[2] is not None and results[2].text == long_text
    assert sim.smpp.counters.incoming_sent == 2
    assert sim.smpp.counters.incoming_acked == 2


async def test_incoming_waits_for_a_receiving_bind(sim: SMSCSimulator) -> None:
    sim.inject_incoming("79990001122", "early")
    assert sim.smpp.pending("demo") == 1
    async with esme(sim) as client:
        (pdu,) = await client.deliveries(1)
    message = incoming_from_deliver_sm(pdu)
    assert message is not None and message.text == "early"


# --- link management -----------------------------------------------------------------------------


async def test_enquire_link_and_unbind(sim: SMSCSimulator) -> None:
    async with esme(sim) as client:
        seq = client.conn.send(EnquireLink())
        await client.flush()
        answer = await client.wait_for(ResponseReceived)
        assert answer.request_seq == seq and answer.pdu.command_id == CommandId.ENQUIRE_LINK_RESP
        client.conn.send_unbind()
        await client.flush()
        closed = await client.wait_for(ConnectionClosed)
        assert closed.reason == "unbind"
    assert sim.smpp.counters.enquire_links == 1
    assert sim.smpp.counters.unbinds == 1


async def test_idle_connection_is_cut(sim: SMSCSimulator) -> None:
    sim.behaviour.smpp.idle_timeout = 0.5
    async with esme(sim) as client:
        await client.wait_closed(wait=5)
    assert sim.smpp.counters.idle_cuts == 1


async def test_smpp_can_be_turned_off() -> None:
    async with SMSCSimulator(smpp=False) as sim:
        with pytest.raises(RuntimeError):
            sim.smpp_port  # noqa: B018


async def test_tls_listener() -> None:
    trustme = pytest.importorskip("trustme")
    import ssl

    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    async with SMSCSimulator(smpp_ssl_context=server_context) as sim:
        stream = await anyio.connect_tcp(
            sim.smpp_host,
            sim.smpp_port,
            tls=True,
            ssl_context=client_context,
            tls_hostname="127.0.0.1",
            tls_standard_compatible=False,
        )
        async with stream:
            client = Esme(stream)
            bound = await client.bind("demo", "demo-pw")
            assert isinstance(bound, BindComplete)
            assert (await client.submit(submit())).ok


async def test_fixed_port_in_use_fails_cleanly(sim: SMSCSimulator) -> None:
    with pytest.raises(OSError):
        async with SMSCSimulator(smpp_port=sim.smpp_port):
            pass  # pragma: no cover
    async with esme(sim) as client:  # the first simulator is unharmed
        assert (await client.submit(submit())).ok


async def test_fixture_serves_smpp(smsc_simulator: SMSCSimulator) -> None:
    smsc_simulator.behaviour.smpp.throughput = None
    async with esme(smsc_simulator) as client:
        assert (await client.submit(submit())).ok
    assert smsc_simulator.sent[0].transport == "smpp"


async def test_bind_without_mcon_kicks_all_mcon_binds(sim: SMSCSimulator) -> None:
    async with (
        esme(sim, system_type="MCON2") as a,
        esme(sim, system_type="MCON2") as b,
        esme(sim) as newest,
    ):
        await a.wait_closed()
        await b.wait_closed()
        assert sim.smpp.counters.kicked["demo"] == 2
        assert (await newest.submit(submit())).ok


async def test_link_clicked_extra_status(sim: SMSCSimulator) -> None:
    sim.behaviour.phone_outcomes[PHONE] = (4, 0)  # HTTP status 4: the link was opened
    async with esme(sim) as client:
        await client.submit(submit("see https://example.com"))
        sim.advance(10)
        (pdu,) = await client.deliveries(1)
    assert pdu.tlv(Tag.EXTRA_STATUS) == b"\x00\x04"
    report = report_from_deliver_sm(pdu)
    assert report.status is MessageStatus.LINK_CLICKED
    assert "stat:DELIVRD" in pdu.short_message.decode()


async def test_throughput_per_account(sim: SMSCSimulator) -> None:
    sim.behaviour.smpp.throughput = 2
    sim.behaviour.smpp.throughput_by_login["shop"] = None
    sim.add_account("shop", "shop-pw")
    async with esme(sim, system_type="MCON1") as demo:
        demo_answers = await demo.submit_many([submit(f"d{i}") for i in range(5)])
    async with esme(sim, login="shop", password="shop-pw") as shop:
        shop_answers = await shop.submit_many([submit(f"s{i}") for i in range(5)])
    assert sum(a.ok for a in demo_answers) == 2
    assert all(a.ok for a in shop_answers)
