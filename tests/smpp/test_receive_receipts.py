"""Receipts interleaved with submit answers, as an SMSC that reports at once sends them
(resp, receipt, resp, receipt...): the connection settles the acceptances around a run of
receipts in one go, and every event still lands where it arrived."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from smscenter.smpp.connection import Role, SMPPConnection
from smscenter.smpp.constants import BindMode, CommandStatus
from smscenter.smpp.events import DeliverSmReceived, Event, ProtocolViolation, SubmitsAccepted
from smscenter.smpp.pdu import BindTransceiverResp, DeliverSm, SubmitSm, SubmitSmResp
from smscenter.smpp.tlv import Tlv


def bound() -> SMPPConnection:
    conn = SMPPConnection(Role.ESME, window=100)
    conn.send_bind(BindMode.TRANSCEIVER, system_id="acme", password="pw")
    conn.data_to_send()
    conn.receive_data(BindTransceiverResp(sequence_number=1, system_id="SMSC").encode())
    return conn


def receipt(seq: int) -> bytes:
    text = b"id:%d sub:001 dlvrd:001 stat:DELIVRD err:000" % seq
    return DeliverSm(sequence_number=seq, esm_class=0x04, short_message=text).encode()


def test_acceptances_around_receipts_are_one_event_in_the_first_ones_place() -> None:
    conn = bound()
    sms = SubmitSm(destination_addr="79990000001", short_message=b"hi")
    a, b, c = (conn.send(sms) for _ in range(3))
    ok = [SubmitSmResp(sequence_number=s, message_id=f"id{s}").encode() for s in (a, b, c)]
    data = receipt(500) + ok[0] + receipt(501) + ok[1] + receipt(502) + ok[2] + receipt(503)
    events = conn.receive_data(data)
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["DeliverSmReceived", "SubmitsAccepted", *["DeliverSmReceived"] * 3]
    assert events[1] == SubmitsAccepted(accepted=((a, f"id{a}"), (b, f"id{b}"), (c, f"id{c}")))
    assert [e.pdu.sequence_number for e in events if isinstance(e, DeliverSmReceived)] == [
        500,
        501,
        502,
        503,
    ]
    assert conn.in_flight == 0


def test_a_stranger_among_receipts_is_reported_in_its_place() -> None:
    conn = bound()
    sms = SubmitSm(destination_addr="79990000001", short_message=b"hi")
    a = conn.send(sms)
    unknown = SubmitSmResp(sequence_number=9_999, message_id="x").encode()
    mine = SubmitSmResp(sequence_number=a, message_id="ours").encode()
    events = conn.receive_data(receipt(700) + unknown + receipt(701) + mine + receipt(702))
    kinds = [type(e).__name__ for e in events]
    assert kinds == [
        "DeliverSmReceived",
        "ProtocolViolation",  # the unsolicited answer, where it arrived
        "DeliverSmReceived",
        "SubmitsAccepted",
        "DeliverSmReceived",
    ]
    assert conn.in_flight == 0


def rows(events: list[Event]) -> list[object]:
    """Comparable events (an exception equals only itself: its text stands for it)."""
    return [
        (str(e.error), e.pdu, e.request_seq) if isinstance(e, ProtocolViolation) else e
        for e in events
    ]


_ITEM = st.sampled_from(["ok", "receipt", "error", "tlv", "unknown", "late", "empty"])


def _expected(reference: SMPPConnection, pdus: list[bytes]) -> list[Event]:
    """The events of one read, PDU by PDU on the reference connection, the acceptances of the
    read merged into one SubmitsAccepted where the first of them arrived."""
    out: list[Event] = []
    accepted: list[tuple[int, str]] = []
    at = -1
    for pdu in pdus:
        for event in reference.receive_data(pdu):
            if isinstance(event, SubmitsAccepted):
                if at < 0:
                    at = len(out)
                accepted += event.accepted
            else:
                out.append(event)
    if accepted:
        out.insert(at, SubmitsAccepted(accepted=tuple(accepted)))
    return out


@settings(max_examples=150, deadline=None)
@given(items=st.lists(_ITEM, min_size=1, max_size=30), cuts=st.lists(st.integers(1, 90)))
def test_events_are_those_of_one_pdu_at_a_time_however_reads_are_cut(
    items: list[str], cuts: list[int]
) -> None:
    conn, reference = bound(), bound()
    sms = SubmitSm(destination_addr="79990000001", short_message=b"hi")
    pdus: list[bytes] = []
    for n, kind in enumerate(items):
        if kind == "receipt":
            pdus.append(receipt(1000 + n))
            continue
        if kind == "unknown":
            pdus.append(SubmitSmResp(sequence_number=50_000 + n, message_id="u").encode())
            continue
        late = kind == "late"
        seq = conn.send(sms, deadline=1.0 if late else None)
        assert reference.send(sms, deadline=1.0 if late else None) == seq
        if late:
            conn.expire(1.0)
            reference.expire(1.0)
        if kind == "error":
            answer = SubmitSmResp(sequence_number=seq, command_status=CommandStatus.ESME_RSYSERR)
        elif kind == "tlv":
            answer = SubmitSmResp(sequence_number=seq, message_id="t", tlvs=(Tlv(0x1403, b"x"),))
        else:  # ok, late, empty (an OK answer without an id)
            answer = SubmitSmResp(sequence_number=seq, message_id="" if kind == "empty" else "m")
        pdus.append(answer.encode())
    data = b"".join(pdus)
    ends = []
    total = 0
    for pdu in pdus:
        total += len(pdu)
        ends.append(total)
    start = 0
    done = 0  # PDUs complete so far
    for cut in [*cuts, len(data)]:
        read = data[start : start + cut]
        if not read:
            break
        start += len(read)
        complete = [p for p, end in list(zip(pdus, ends, strict=True))[done:] if end <= start]
        done += len(complete)
        assert rows(conn.receive_data(read)) == rows(_expected(reference, complete))
    assert conn.in_flight == 0 == reference.in_flight
