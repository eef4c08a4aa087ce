"""An ESME SMPPConnection against an SMSC SMPPConnection, joined in memory: every flow, no I/O."""

from __future__ import annotations

import pytest

from smscenter.exceptions import LocalProtocolError
from smscenter.smpp.connection import LEGAL, Role, SMPPConnection, State, WindowFull
from smscenter.smpp.constants import MAX_SEQUENCE_NUMBER, BindMode, CommandId, CommandStatus
from smscenter.smpp.events import (
    BindComplete,
    BindRefused,
    BindRequested,
    ConnectionClosed,
    DataSmReceived,
    DeliverSmReceived,
    EnquireLinkReceived,
    Event,
    LateResponse,
    OutbindReceived,
    PendingRequest,
    ProtocolViolation,
    RequestExpired,
    RequestReceived,
    ResponseReceived,
    SubmitsAccepted,
    SubmitSmReceived,
    UnbindComplete,
    UnbindReceived,
)
from smscenter.smpp.framer import PduFramer
from smscenter.smpp.pdu import (
    AlertNotification,
    BindReceiver,
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitter,
    CancelSmResp,
    DataSm,
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    Pdu,
    QuerySm,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    UnbindResp,
    decode_pdu,
)


class Pair:
    """An ESME and an SMSC core wired back to back (h11's ConnectionPair, for SMPP)."""

    def __init__(self, *, window: int = 10, interval: float = 30.0) -> None:
        self.esme = SMPPConnection(Role.ESME, window=window, enquire_link_interval=interval)
        self.smsc = SMPPConnection(Role.SMSC, window=window, enquire_link_interval=interval)

    def to_smsc(self) -> list[Event]:
        return self.smsc.receive_data(self.esme.data_to_send())

    def to_esme(self) -> list[Event]:
        return self.esme.receive_data(self.smsc.data_to_send())

    def bind(self, mode: BindMode = BindMode.TRANSCEIVER) -> None:
        self.esme.send_bind(mode, system_id="acme", password="pw", deadline=10.0)
        (req,) = self.to_smsc()
        assert isinstance(req, BindRequested)
        self.smsc.accept_bind(req.pdu, system_id="SMSC")
        (done,) = self.to_esme()
        assert isinstance(done, BindComplete)


def _state(conn: SMPPConnection) -> State:
    # (a function, so the type checker does not carry one assert's narrowing to the next)
    return conn.state


def _pdus(data: bytes) -> list[Pdu]:
    framer = PduFramer()
    framer.feed(data)
    out = []
    while (pdu := framer.next_pdu()) is not None:
        out.append(pdu)
    return out


# --- bind ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "cls", "state"),
    [
        (BindMode.TRANSMITTER, BindTransmitter, State.BOUND_TX),
        (BindMode.RECEIVER, BindReceiver, State.BOUND_RX),
        (BindMode.TRANSCEIVER, BindTransceiver, State.BOUND_TRX),
    ],
)
def test_bind_each_mode(mode: BindMode, cls: type[Pdu], state: State) -> None:
    pair = Pair()
    assert pair.esme.state is State.OPEN
    seq = pair.esme.send_bind(
        mode, system_id="acme", password="pw", system_type="MCON2", deadline=10.0
    )
    assert seq == 1
    (req,) = pair.to_smsc()
    assert isinstance(req, BindRequested)
    assert type(req.pdu) is cls
    assert req.mode is mode
    assert req.pdu.system_type == "MCON2"
    assert req.pdu.password == "pw"
    pair.smsc.accept_bind(req.pdu, system_id="SMSC")
    assert pair.smsc.state is state
    (done,) = pair.to_esme()
    assert isinstance(done, BindComplete)
    assert done.mode is mode
    assert done.system_id == "SMSC"
    assert pair.esme.state is state
    assert pair.esme.bind_mode is mode
    assert pair.smsc.bind_mode is mode
    assert pair.esme.in_flight == 0


def test_bind_refused_then_retry() -> None:
    pair = Pair()
    pair.esme.send_bind(BindMode.TRANSCEIVER, system_id="acme", password="bad")
    (req,) = pair.to_smsc()
    assert isinstance(req, BindRequested)
    pair.smsc.reject_bind(req.pdu, CommandStatus.ESME_RINVPASWD)
    assert pair.smsc.state is State.OPEN
    (refused,) = pair.to_esme()
    assert isinstance(refused, BindRefused)
    assert refused.command_status == CommandStatus.ESME_RINVPASWD
    assert pair.esme.state is State.OPEN
    pair.bind()
    assert _state(pair.esme) is State.BOUND_TRX
    with pytest.raises(ValueError):
        pair.smsc.reject_bind(req.pdu, CommandStatus.ESME_ROK)


def test_only_one_bind_outstanding() -> None:
    conn = SMPPConnection(Role.ESME)
    conn.send_bind(BindMode.TRANSMITTER, system_id="a", password="b")
    with pytest.raises(LocalProtocolError, match="already outstanding"):
        conn.send_bind(BindMode.TRANSMITTER, system_id="a", password="b")


def test_bind_expiry_frees_the_bind_slot() -> None:
    conn = SMPPConnection(Role.ESME)
    seq = conn.send_bind(BindMode.TRANSMITTER, system_id="a", password="b", deadline=5.0)
    assert conn.expire(4.9) == []
    assert conn.expire(5.0) == [
        RequestExpired(request_seq=seq, request_command_id=CommandId.BIND_TRANSMITTER)
    ]
    conn.send_bind(BindMode.TRANSMITTER, system_id="a", password="b")  # allowed again


def test_outbind_then_bind() -> None:
    pair = Pair()
    pair.smsc.send_outbind(system_id="SMSC", password="pw")
    (event,) = pair.to_esme()
    assert isinstance(event, OutbindReceived)
    assert event.pdu.system_id == "SMSC"
    pair.bind(BindMode.RECEIVER)
    assert pair.esme.state is State.BOUND_RX


def test_deliver_sm_right_behind_bind_resp_is_not_lost() -> None:
    # smpp34 1.4.1: an SMSC with queued traffic sends deliver_sm in the same chunk as bind_resp.
    pair = Pair()
    pair.esme.send_bind(BindMode.TRANSCEIVER, system_id="acme", password="pw")
    (req,) = pair.to_smsc()
    assert isinstance(req, BindRequested)
    pair.smsc.accept_bind(req.pdu, system_id="SMSC")
    pair.smsc.send(DeliverSm(short_message=b"queued"))
    events = pair.to_esme()
    assert [type(e) for e in events] == [BindComplete, DeliverSmReceived]


# --- submit, window, timeouts -------------------------------------------------------------------


def test_submit_and_response() -> None:
    pair = Pair()
    pair.bind()
    seq = pair.esme.send(SubmitSm(destination_addr="79991234567", short_message=b"hi"))
    assert seq == 2
    assert pair.esme.in_flight == 1
    (got,) = pair.to_smsc()
    assert isinstance(got, SubmitSmReceived)
    assert got.pdu.sequence_number == seq
    assert got.pdu.short_message == b"hi"
    pair.smsc.respond(got.pdu, message_id="854019")
    # An accepted submit_sm comes as the one success event, with its (request_seq, message_id).
    (resp,) = pair.to_esme()
    assert resp == SubmitsAccepted(accepted=((seq, "854019"),))
    assert pair.esme.in_flight == 0


def test_submit_error_status() -> None:
    pair = Pair()
    pair.bind()
    pair.esme.send(SubmitSm())
    (got,) = pair.to_smsc()
    assert isinstance(got, RequestReceived)
    pair.smsc.respond(got.pdu, CommandStatus.ESME_RTHROTTLED)
    (resp,) = pair.to_esme()
    assert isinstance(resp, ResponseReceived)
    assert not resp.ok
    assert resp.command_status == CommandStatus.ESME_RTHROTTLED


def test_window_full() -> None:
    pair = Pair(window=2)
    pair.bind()
    pair.esme.send(SubmitSm())
    pair.esme.send(SubmitSm())
    assert pair.esme.window_available == 0
    with pytest.raises(WindowFull):
        pair.esme.send(SubmitSm())
    # Control PDUs do not wait for a slot.
    pair.esme.send_enquire_link()
    events = pair.to_smsc()
    first = events[0]
    assert isinstance(first, SubmitSmReceived)
    pair.smsc.respond(first.pdu, message_id="1")
    pair.to_esme()
    assert pair.esme.window_available == 1
    pair.esme.send(SubmitSm())


def test_timeout_and_late_response() -> None:
    pair = Pair()
    pair.bind()
    seq = pair.esme.send(SubmitSm(), deadline=100.0)
    (got,) = pair.to_smsc()
    assert isinstance(got, SubmitSmReceived)
    assert pair.esme.expire(99.9) == []
    assert pair.esme.next_timer(50.0) == 80.0  # enquire_link due at 50 + 30 comes first
    expired = pair.esme.expire(100.0)
    assert expired == [RequestExpired(request_seq=seq, request_command_id=CommandId.SUBMIT_SM)]
    assert pair.esme.in_flight == 0
    pair.smsc.respond(got.pdu, message_id="late")
    (late,) = pair.to_esme()
    assert isinstance(late, LateResponse)
    assert late.request_seq == seq
    assert late.request_command_id is CommandId.SUBMIT_SM
    assert isinstance(late.pdu, SubmitSmResp) and late.pdu.message_id == "late"
    # A second copy of that response is unsolicited.
    pair.smsc.respond(got.pdu, message_id="late")
    (again,) = pair.to_esme()
    assert isinstance(again, ProtocolViolation)


def test_expiry_with_out_of_order_deadlines() -> None:
    pair = Pair()
    pair.bind()
    a = pair.esme.send(SubmitSm(), deadline=50.0)
    b = pair.esme.send(SubmitSm(), deadline=20.0)
    c = pair.esme.send(SubmitSm(), deadline=None)
    d = pair.esme.send(SubmitSm(), deadline=30.0)
    assert [e.request_seq for e in pair.esme.expire(25.0)] == [b]  # type: ignore[attr-defined]
    assert sorted(e.request_seq for e in pair.esme.expire(60.0)) == [a, d]  # type: ignore[attr-defined]
    assert pair.esme.expire(1e9) == []
    assert pair.esme.in_flight == 1  # c never expires
    assert c


def test_sequence_numbers_wrap() -> None:
    pair = Pair()
    pair.bind()
    assert pair.esme.send(SubmitSm()) == 2  # stays in flight
    pair.esme._next_seq = MAX_SEQUENCE_NUMBER
    assert pair.esme.send(SubmitSm()) == MAX_SEQUENCE_NUMBER
    assert pair.esme.send(SubmitSm()) == 1  # wrapped (the bind's 1 is free again)
    assert pair.esme.send(SubmitSm()) == 3  # 2 is still in flight: skipped
    seqs = [p.sequence_number for p in _pdus(pair.esme.data_to_send())]
    assert seqs == [2, MAX_SEQUENCE_NUMBER, 1, 3]


def test_outbound_bytes_are_batched() -> None:
    pair = Pair()
    pair.bind()
    for _ in range(5):
        pair.esme.send(SubmitSm(short_message=b"x"))
    data = pair.esme.data_to_send()
    assert isinstance(data, bytes)
    assert len(_pdus(data)) == 5
    assert pair.esme.data_to_send() == b""


# --- deliver_sm, data_sm -----------------------------------------------------------------------


def test_deliver_sm_and_resp() -> None:
    pair = Pair()
    pair.bind(BindMode.RECEIVER)
    seq = pair.smsc.send(DeliverSm(esm_class=4, short_message=b"id:1 stat:DELIVRD"), deadline=9)
    (got,) = pair.to_esme()
    assert isinstance(got, DeliverSmReceived)
    assert got.pdu.sequence_number == seq
    pair.esme.respond(got.pdu)
    (resp,) = pair.to_smsc()
    assert isinstance(resp, ResponseReceived)
    assert isinstance(resp.pdu, DeliverSmResp)
    assert resp.request_seq == seq


def test_data_sm_both_ways_on_transceiver() -> None:
    pair = Pair()
    pair.bind()
    pair.esme.send(DataSm(destination_addr="7999"))
    (got,) = pair.to_smsc()
    assert isinstance(got, DataSmReceived)
    pair.smsc.respond(got.pdu, message_id="d1")
    (resp,) = pair.to_esme()
    assert isinstance(resp, ResponseReceived) and resp.ok
    pair.smsc.send(DataSm(source_addr="7999"))
    (got2,) = pair.to_esme()
    assert isinstance(got2, DataSmReceived)


def test_alert_notification_needs_no_response() -> None:
    pair = Pair()
    pair.bind(BindMode.RECEIVER)
    pair.smsc.send(AlertNotification(source_addr="7999"))
    assert pair.smsc.in_flight == 0
    (got,) = pair.to_esme()
    assert isinstance(got, RequestReceived)
    assert isinstance(got.pdu, AlertNotification)
    assert pair.esme.data_to_send() == b""
    with pytest.raises(LocalProtocolError, match="no response"):
        pair.esme.respond(got.pdu)


# --- enquire_link ---------------------------------------------------------------------------------


@pytest.mark.parametrize("initiator", ["esme", "smsc"])
def test_enquire_link_both_ways(initiator: str) -> None:
    pair = Pair()
    pair.bind()
    sender = pair.esme if initiator == "esme" else pair.smsc
    forward, back = (
        (pair.to_smsc, pair.to_esme) if initiator == "esme" else (pair.to_esme, pair.to_smsc)
    )
    seq = sender.send_enquire_link(deadline=5.0)
    (got,) = forward()
    assert got == EnquireLinkReceived(sequence_number=seq)
    (resp,) = back()  # answered automatically
    assert isinstance(resp, ResponseReceived)
    assert isinstance(resp.pdu, EnquireLinkResp)
    assert sender.timers(6.0).link_dead is False


def test_enquire_link_allowed_while_open() -> None:
    pair = Pair()
    pair.esme.send_enquire_link()
    assert pair.to_smsc() == [EnquireLinkReceived(sequence_number=1)]
    (resp,) = pair.to_esme()
    assert isinstance(resp, ResponseReceived)


def test_keepalive_timers() -> None:
    pair = Pair(interval=30.0)
    pair.bind()
    t = pair.esme.timers(0.0)
    assert (t.enquire_link_due, t.link_dead, t.next_check) == (False, False, 30.0)
    t = pair.esme.timers(29.0)
    assert not t.enquire_link_due
    assert t.next_check == 30.0
    assert pair.esme.timers(30.0).enquire_link_due
    pair.esme.send_enquire_link(deadline=40.0)
    t = pair.esme.timers(31.0)
    assert not t.enquire_link_due  # one is already out
    assert t.next_check == 40.0
    assert pair.esme.timers(40.0).link_dead  # never answered
    # Answered in time instead: the link is fine and the interval restarts from the send.
    pair2 = Pair(interval=30.0)
    pair2.bind()
    pair2.esme.timers(0.0)
    pair2.esme.send_enquire_link(deadline=45.0)
    pair2.esme.timers(35.0)  # sees the send
    pair2.to_smsc()
    pair2.to_esme()
    t = pair2.esme.timers(36.0)
    assert not t.link_dead and not t.enquire_link_due
    assert t.next_check == 65.0
    # Traffic counts as activity: a submit postpones the next enquire_link.
    pair2.esme.send(SubmitSm())
    assert not pair2.esme.timers(66.0).enquire_link_due
    assert pair2.esme.timers(96.0).enquire_link_due


def test_no_keepalive_before_bind() -> None:
    conn = SMPPConnection(Role.ESME, enquire_link_interval=1.0)
    conn.timers(0.0)
    assert not conn.timers(100.0).enquire_link_due
    assert conn.next_timer(100.0) is None


# --- unbind -------------------------------------------------------------------------------------


def test_esme_unbinds_with_requests_in_flight() -> None:
    pair = Pair()
    pair.bind()
    a = pair.esme.send(SubmitSm())
    b = pair.esme.send(SubmitSm())
    pair.esme.send_unbind(deadline=5.0)
    assert pair.esme.state is State.UNBINDING
    with pytest.raises(LocalProtocolError):
        pair.esme.send(SubmitSm())
    events = pair.to_smsc()
    assert [type(e) for e in events] == [
        SubmitSmReceived,
        SubmitSmReceived,
        UnbindReceived,
        ConnectionClosed,
    ]
    assert pair.smsc.state is State.CLOSED
    # The SMSC answered one submit before the unbind arrived? Here: the answer to `a` comes
    # from a response written before unbind_resp (responses are accepted while UNBINDING).
    resp_a = SubmitSmResp(sequence_number=a, message_id="m").encode()
    unbind_resp = pair.smsc.data_to_send()
    events = pair.esme.receive_data(resp_a + unbind_resp)
    assert events[0] == SubmitsAccepted(accepted=((a, "m"),))
    assert isinstance(events[1], UnbindComplete)
    closed = events[2]
    assert isinstance(closed, ConnectionClosed)
    assert closed.reason == "unbind"
    assert closed.unanswered == (PendingRequest(sequence_number=b, command_id=CommandId.SUBMIT_SM),)
    assert _state(pair.esme) is State.CLOSED
    with pytest.raises(LocalProtocolError):
        pair.esme.send_enquire_link()
    assert pair.esme.receive_data(b"anything") == []


def test_smsc_unbinds() -> None:
    pair = Pair()
    pair.bind()
    pair.smsc.send_unbind()
    events = pair.to_esme()
    assert isinstance(events[0], UnbindReceived)
    assert isinstance(events[1], ConnectionClosed)
    assert events[1].reason == "unbound by peer"
    events = pair.to_smsc()
    assert isinstance(events[0], UnbindComplete)
    assert pair.smsc.state is State.CLOSED and pair.esme.state is State.CLOSED


def test_both_unbind_at_once() -> None:
    pair = Pair()
    pair.bind()
    pair.esme.send_unbind()
    pair.smsc.send_unbind()
    e_events = pair.to_esme()
    s_events = pair.to_smsc()
    assert isinstance(e_events[0], UnbindReceived)
    assert isinstance(s_events[0], UnbindReceived)
    assert pair.esme.state is State.CLOSED and pair.smsc.state is State.CLOSED


def test_eof() -> None:
    pair = Pair()
    pair.bind()
    seq = pair.esme.send(SubmitSm())
    events = pair.esme.receive_data(b"")
    assert events == [
        ConnectionClosed(
            reason="eof",
            unanswered=(PendingRequest(sequence_number=seq, command_id=CommandId.SUBMIT_SM),),
        )
    ]
    conn = SMPPConnection(Role.ESME)
    conn.receive_data(SubmitSmResp(sequence_number=1).encode()[:5])
    events = conn.receive_data(b"")
    assert isinstance(events[0], ProtocolViolation)
    assert "middle of a PDU" in str(events[0].error)
    assert isinstance(events[1], ConnectionClosed)


# --- illegal PDUs ---------------------------------------------------------------------------------

ILLEGAL_CASES = [
    # (bind mode or None for OPEN, who receives, offending PDU, expected answer class, status)
    (None, "smsc", SubmitSm(sequence_number=77), SubmitSmResp, CommandStatus.ESME_RINVBNDSTS),
    (None, "esme", DeliverSm(sequence_number=77), DeliverSmResp, CommandStatus.ESME_RINVBNDSTS),
    (None, "smsc", EnquireLinkResp(sequence_number=77), None, None),
    (
        BindMode.RECEIVER,
        "smsc",
        SubmitSm(sequence_number=77),
        SubmitSmResp,
        CommandStatus.ESME_RINVBNDSTS,
    ),
    (
        BindMode.TRANSMITTER,
        "esme",
        DeliverSm(sequence_number=77),
        DeliverSmResp,
        CommandStatus.ESME_RINVBNDSTS,
    ),
    (
        BindMode.TRANSMITTER,
        "esme",
        AlertNotification(sequence_number=77),
        GenericNack,
        CommandStatus.ESME_RINVBNDSTS,
    ),
    (
        BindMode.TRANSCEIVER,
        "smsc",
        BindTransceiver(sequence_number=77),
        BindTransceiverResp,
        CommandStatus.ESME_RALYBND,
    ),
    (
        BindMode.TRANSCEIVER,
        "esme",
        SubmitSm(sequence_number=77),
        SubmitSmResp,
        CommandStatus.ESME_RINVBNDSTS,
    ),
    (
        BindMode.TRANSCEIVER,
        "smsc",
        DeliverSm(sequence_number=77),
        DeliverSmResp,
        CommandStatus.ESME_RINVBNDSTS,
    ),
    (
        BindMode.RECEIVER,
        "esme",
        QuerySm(sequence_number=77),
        None.__class__,  # placeholder, replaced below
        CommandStatus.ESME_RINVBNDSTS,
    ),
]
ILLEGAL_CASES[-1] = (
    BindMode.RECEIVER,
    "esme",
    QuerySm(sequence_number=77),
    QuerySm.response_class,
    CommandStatus.ESME_RINVBNDSTS,
)


@pytest.mark.parametrize(("mode", "receiver", "pdu", "answer", "status"), ILLEGAL_CASES)
def test_illegal_pdu_per_state(
    mode: BindMode | None,
    receiver: str,
    pdu: Pdu,
    answer: type[Pdu] | None,
    status: int | None,
) -> None:
    pair = Pair()
    if mode is not None:
        pair.bind(mode)
    conn = pair.smsc if receiver == "smsc" else pair.esme
    state_before = conn.state
    (event,) = conn.receive_data(pdu.encode())
    assert isinstance(event, ProtocolViolation)
    assert event.pdu == pdu
    assert event.answered_with == status
    out = _pdus(conn.data_to_send())
    if answer is None:
        assert out == []
    else:
        (reply,) = out
        assert type(reply) is answer
        assert reply.sequence_number == 77
        assert reply.command_status == status
    assert conn.state is state_before


@pytest.mark.parametrize(
    ("mode", "sender", "pdu"),
    [
        (None, "esme", SubmitSm()),
        (None, "smsc", DeliverSm()),
        (BindMode.RECEIVER, "esme", SubmitSm()),
        (BindMode.TRANSMITTER, "smsc", DeliverSm()),
        (BindMode.TRANSCEIVER, "smsc", SubmitSm()),
        (BindMode.TRANSCEIVER, "esme", DeliverSm()),
        (BindMode.TRANSCEIVER, "esme", BindTransmitter()),
    ],
)
def test_illegal_sends_are_local_errors(mode: BindMode | None, sender: str, pdu: Pdu) -> None:
    pair = Pair()
    if mode is not None:
        pair.bind(mode)
    conn = pair.esme if sender == "esme" else pair.smsc
    with pytest.raises(LocalProtocolError, match="may not send"):
        conn.send(pdu)
    assert conn.data_to_send() == b""


def test_send_and_respond_misuse() -> None:
    pair = Pair()
    pair.bind()
    with pytest.raises(LocalProtocolError, match="is a response"):
        pair.esme.send(SubmitSmResp())
    with pytest.raises(LocalProtocolError, match="is a request"):
        pair.esme.send_response(SubmitSm())
    with pytest.raises(LocalProtocolError, match="may not send"):
        pair.esme.send_response(SubmitSmResp(sequence_number=3))  # the SMSC's to send


def test_legal_table_shape() -> None:
    assert set(LEGAL) == set(State)
    for state, by_role in LEGAL.items():
        assert set(by_role) == {Role.ESME, Role.SMSC}
        if state is State.CLOSED:
            assert not by_role[Role.ESME] and not by_role[Role.SMSC]
    assert CommandId.SUBMIT_SM in LEGAL[State.BOUND_TX][Role.ESME]
    assert CommandId.SUBMIT_SM not in LEGAL[State.BOUND_RX][Role.ESME]
    assert CommandId.DELIVER_SM in LEGAL[State.BOUND_RX][Role.SMSC]
    assert CommandId.DELIVER_SM not in LEGAL[State.BOUND_TX][Role.SMSC]


# --- generic_nack and garbage -----------------------------------------------------------------


def test_unknown_command_id_gets_generic_nack() -> None:
    pair = Pair()
    pair.bind()
    raw = bytes.fromhex("00000010000102000000000000000063")
    (event,) = pair.smsc.receive_data(raw + EnquireLink(sequence_number=100).encode())[:1]
    assert isinstance(event, ProtocolViolation)
    assert event.answered_with == CommandStatus.ESME_RINVCMDID
    nack, link_resp = _pdus(pair.smsc.data_to_send())
    assert nack == GenericNack(sequence_number=0x63, command_status=CommandStatus.ESME_RINVCMDID)
    assert link_resp == EnquireLinkResp(sequence_number=100)  # still in sync


def test_malformed_request_gets_generic_nack() -> None:
    pair = Pair()
    pair.bind()
    raw = bytes.fromhex("00000014000000040000000000000005") + b"abcd"  # no NUL
    (event,) = pair.smsc.receive_data(raw)
    assert isinstance(event, ProtocolViolation)
    assert event.answered_with == CommandStatus.ESME_RINVCMDLEN
    (nack,) = _pdus(pair.smsc.data_to_send())
    assert nack == GenericNack(sequence_number=5, command_status=CommandStatus.ESME_RINVCMDLEN)
    assert pair.smsc.state is State.BOUND_TRX


def test_malformed_response_ends_its_request() -> None:
    pair = Pair()
    pair.bind()
    seq = pair.esme.send(SubmitSm())
    pair.esme.data_to_send()
    raw = (
        bytes.fromhex("000000148000000400000000") + seq.to_bytes(4, "big") + b"abcd"
    )  # message_id without NUL
    (event,) = pair.esme.receive_data(raw)
    assert isinstance(event, ProtocolViolation)
    assert event.request_seq == seq
    assert event.answered_with is None  # never answer a response
    assert pair.esme.data_to_send() == b""
    assert pair.esme.in_flight == 0


def test_generic_nack_answers_a_request() -> None:
    pair = Pair()
    pair.bind()
    seq = pair.esme.send(SubmitSm())
    pair.to_smsc()
    pair.smsc.send_response(
        GenericNack(sequence_number=seq, command_status=CommandStatus.ESME_RSYSERR)
    )
    (resp,) = pair.to_esme()
    assert isinstance(resp, ResponseReceived)
    assert resp.request_seq == seq
    assert isinstance(resp.pdu, GenericNack)
    assert resp.command_status == CommandStatus.ESME_RSYSERR


def test_unsolicited_and_mismatched_responses() -> None:
    pair = Pair()
    pair.bind()
    (event,) = pair.esme.receive_data(SubmitSmResp(sequence_number=999).encode())
    assert isinstance(event, ProtocolViolation)
    assert "answers no request" in str(event.error)
    seq = pair.esme.send(SubmitSm())
    pair.esme.data_to_send()
    (event,) = pair.esme.receive_data(CancelSmResp(sequence_number=seq).encode())
    assert isinstance(event, ProtocolViolation)
    assert "cannot answer" in str(event.error)
    assert pair.esme.in_flight == 1  # still waiting for the real answer
    (event,) = pair.esme.receive_data(SubmitSmResp(sequence_number=seq, message_id="1").encode())
    assert event == SubmitsAccepted(accepted=((seq, "1"),))
    assert pair.esme.data_to_send() == b""  # responses are never answered


def test_bad_command_length_closes() -> None:
    pair = Pair()
    pair.bind()
    seq = pair.esme.send(SubmitSm())
    raw = bytes.fromhex("0000000800000004000000000000002a")
    events = pair.esme.receive_data(raw)
    assert isinstance(events[0], ProtocolViolation)
    assert events[0].answered_with == CommandStatus.ESME_RINVCMDLEN
    assert isinstance(events[1], ConnectionClosed)
    assert events[1].reason == "protocol error"
    assert events[1].unanswered == (
        PendingRequest(sequence_number=seq, command_id=CommandId.SUBMIT_SM),
    )
    out = pair.esme.data_to_send()
    nack = decode_pdu(out[-16:])
    assert nack == GenericNack(sequence_number=42, command_status=CommandStatus.ESME_RINVCMDLEN)
    assert pair.esme.state is State.CLOSED


def test_unbind_resp_type_check() -> None:
    # An unbind answered by a generic_nack leaves us UNBINDING (the caller decides to close).
    pair = Pair()
    pair.bind()
    seq = pair.esme.send_unbind()
    (event,) = pair.esme.receive_data(
        GenericNack(sequence_number=seq, command_status=CommandStatus.ESME_RINVBNDSTS).encode()
    )
    assert isinstance(event, ResponseReceived)
    assert pair.esme.state is State.UNBINDING
    assert UnbindResp(sequence_number=seq).encode()


def test_repr() -> None:
    conn = SMPPConnection(Role.ESME, window=5)
    assert repr(conn) == "<SMPPConnection role=ESME state=OPEN in_flight=0/5>"
    with pytest.raises(ValueError):
        SMPPConnection(Role.ESME, enquire_link_interval=0)


def test_fast_built_events_equal_normal_ones() -> None:
    pair = Pair()
    pair.bind()
    seq = pair.esme.send(SubmitSm())
    (got,) = pair.to_smsc()
    assert got == SubmitSmReceived(pdu=SubmitSm(sequence_number=seq))
    assert hash(got) == hash(SubmitSmReceived(pdu=SubmitSm(sequence_number=seq)))
    pair.smsc.respond(got.pdu, CommandStatus.ESME_RSYSERR)
    (resp,) = pair.to_esme()
    assert resp == ResponseReceived(
        request_seq=seq,
        request_command_id=CommandId.SUBMIT_SM,
        pdu=SubmitSmResp(sequence_number=seq, command_status=CommandStatus.ESME_RSYSERR),
    )
    assert "ResponseReceived(request_seq=" in repr(resp)


def test_respond_fast_path_checks_state_and_fields() -> None:
    pair = Pair()
    pair.bind(BindMode.RECEIVER)
    pair.smsc.send(DeliverSm())
    (got,) = pair.to_esme()
    assert isinstance(got, DeliverSmReceived)
    pair.esme.respond(got.pdu, CommandStatus.ESME_RX_T_APPN)  # e.g. the handoff queue is full
    (resp,) = pair.to_smsc()
    assert isinstance(resp, ResponseReceived)
    assert resp.pdu == DeliverSmResp(
        sequence_number=got.pdu.sequence_number, command_status=CommandStatus.ESME_RX_T_APPN
    )
    pair.esme.receive_data(b"")  # closed
    with pytest.raises(LocalProtocolError, match="may not send"):
        pair.esme.respond(got.pdu)
    with pytest.raises(LocalProtocolError):
        SMPPConnection(Role.ESME).respond(DeliverSm(sequence_number=1 << 33))


def test_control_requests_via_plain_send_drive_the_session() -> None:
    pair = Pair()
    pair.esme.send(BindTransceiver(system_id="acme", password="pw"))
    with pytest.raises(LocalProtocolError, match="already outstanding"):
        pair.esme.send(BindTransmitter(system_id="acme", password="pw"))
    (req,) = pair.to_smsc()
    assert isinstance(req, BindRequested)
    pair.smsc.accept_bind(req.pdu, system_id="SMSC")
    (done,) = pair.to_esme()
    assert isinstance(done, BindComplete)
    assert _state(pair.esme) is State.BOUND_TRX
    pair.esme.send(EnquireLink(), deadline=5.0)
    assert pair.esme.timers(6.0).link_dead
    pair.esme.send(Unbind())
    assert _state(pair.esme) is State.UNBINDING
