"""The ESME's one success event: every successful submit_sm_resp to a submit_sm of ours comes in
one ``SubmitsAccepted`` per read, placed where the first of them arrived; everything else as a
``ResponseReceived`` (or a violation, a late answer) in its place. And the one request path,
``send_encoded``."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smscenter.exceptions import LocalProtocolError
from smscenter.smpp._window import Window
from smscenter.smpp.connection import Role, SMPPConnection, WindowFull
from smscenter.smpp.constants import MAX_SEQUENCE_NUMBER, BindMode, CommandId, CommandStatus
from smscenter.smpp.events import (
    Event,
    LateResponse,
    ProtocolViolation,
    ResponseReceived,
    SubmitsAccepted,
)
from smscenter.smpp.framer import PduFramer
from smscenter.smpp.pdu import BindTransceiverResp, DeliverSm, SubmitSm, SubmitSmResp, Unbind
from smscenter.smpp.tlv import Tlv


def bound(*, window: int = 100) -> SMPPConnection:
    conn = SMPPConnection(Role.ESME, window=window)
    conn.send_bind(BindMode.TRANSCEIVER, system_id="acme", password="pw")
    conn.data_to_send()
    conn.receive_data(BindTransceiverResp(sequence_number=1, system_id="SMSC").encode())
    return conn


def submit(conn: SMPPConnection, deadline: float | None = None) -> int:
    pdu = SubmitSm(destination_addr="79990000001", short_message=b"hi")
    return conn.send(pdu, deadline=deadline)


def ok(seq: int, message_id: str) -> bytes:
    return SubmitSmResp(sequence_number=seq, message_id=message_id).encode()


def flat(events: list[Event]) -> list[tuple[str, int, object]]:
    """Events as comparable rows, a SubmitsAccepted unrolled into one row per response."""
    rows: list[tuple[str, int, object]] = []
    for event in events:
        if isinstance(event, SubmitsAccepted):
            rows += [("ok", seq, mid) for seq, mid in event.accepted]
        elif isinstance(event, ResponseReceived):
            rows.append(("response", event.request_seq, int(event.pdu.command_status)))
        elif isinstance(event, LateResponse):
            rows.append(("late", event.request_seq, None))
        elif isinstance(event, ProtocolViolation):
            rows.append(("violation", event.request_seq or 0, None))
        else:
            rows.append((type(event).__name__, 0, None))
    return rows


def test_a_run_of_accepted_submits_is_one_event() -> None:
    conn = bound()
    seqs = [submit(conn) for _ in range(3)]
    assert conn.window_available == 97
    events = conn.receive_data(b"".join(ok(seq, f"id{seq}") for seq in seqs))
    assert events == [SubmitsAccepted(accepted=tuple((seq, f"id{seq}") for seq in seqs))]
    assert conn.window_available == 100 and conn.in_flight == 0


def test_one_event_per_read_where_the_first_acceptance_arrived() -> None:
    conn = bound()
    a, b, c, d = (submit(conn) for _ in range(4))
    receipt = DeliverSm(sequence_number=77, short_message=b"id:1 stat:DELIVRD").encode()
    refused = SubmitSmResp(sequence_number=b, command_status=CommandStatus.ESME_RINVDSTADR)
    with_tlv = SubmitSmResp(sequence_number=d, message_id="d", tlvs=(Tlv(0x1403, b"x"),))
    events = conn.receive_data(
        ok(a, "a") + refused.encode() + receipt + ok(c, "c") + with_tlv.encode()
    )
    kinds = [type(e).__name__ for e in events]
    # Everything but the accepted submits keeps its place; those come as one, at the first,
    # including one with TLVs (decoded in full, but an acceptance all the same).
    assert kinds == ["SubmitsAccepted", "ResponseReceived", "DeliverSmReceived"]
    assert events[0] == SubmitsAccepted(accepted=((a, "a"), (c, "c"), (d, "d")))
    assert isinstance(events[1], ResponseReceived) and events[1].command_status == 0x0B
    assert conn.in_flight == 0
    # A read that starts with something else: the acceptances come after it.
    e = submit(conn)
    events = conn.receive_data(receipt + ok(e, "e"))
    assert [type(x).__name__ for x in events] == ["DeliverSmReceived", "SubmitsAccepted"]


def test_unsolicited_late_and_mismatched_answers_are_not_batched() -> None:
    conn = bound()
    early = submit(conn, deadline=1.0)
    conn.expire(2.0)  # early's answer is now late
    probe = conn.send_enquire_link(deadline=50.0)
    mine = submit(conn)
    events = conn.receive_data(ok(mine, "m") + ok(early, "x") + ok(probe, "p") + ok(999, "u"))
    assert [type(e) for e in events] == [
        SubmitsAccepted,
        LateResponse,
        ProtocolViolation,
        ProtocolViolation,
    ]
    assert events[0] == SubmitsAccepted(accepted=((mine, "m"),))
    assert "cannot answer" in str(events[2].error)  # type: ignore[attr-defined]
    assert "answers no request" in str(events[3].error)  # type: ignore[attr-defined]
    assert conn.in_flight == 0


def test_a_response_split_across_reads_is_still_taken() -> None:
    conn = bound()
    a, b = submit(conn), submit(conn)
    data = ok(a, "first") + ok(b, "second")
    events: list[Event] = []
    events += conn.receive_data(data[:5])
    events += conn.receive_data(data[5:21])
    events += conn.receive_data(data[21:30])
    events += conn.receive_data(data[30:])
    assert flat(events) == [("ok", a, "first"), ("ok", b, "second")]


def test_a_message_id_without_its_nul_or_too_long_goes_the_strict_way() -> None:
    conn = bound()
    a, b = submit(conn), submit(conn)
    no_nul = struct.pack(">IIII", 16 + 3, 0x80000004, 0, a) + b"abc"
    long_id = struct.pack(">IIII", 16 + 71, 0x80000004, 0, b) + b"9" * 70 + b"\0"
    events = conn.receive_data(no_nul + long_id)
    assert isinstance(events[0], ProtocolViolation) and events[0].request_seq == a
    # Over the C-string limit of 65 is still decoded leniently by the PDU decoder: accepted.
    assert events[1:] == [SubmitsAccepted(accepted=((b, "9" * 70),))]


def test_window_pop_answered_stops_at_the_first_stranger() -> None:
    window = Window(10)
    window.add([1], CommandId.SUBMIT_SM, 5.0, counted=True)
    window.add([2], CommandId.QUERY_SM, 5.0, counted=True)
    window.add([3], CommandId.SUBMIT_SM, 5.0, counted=True)
    answers = [(1, "a"), (2, "b"), (3, "c"), (4, "d")]
    assert window.pop_answered(answers, 0, CommandId.SUBMIT_SM) == 1
    assert 1 not in window and window.in_flight == 2
    assert window.pop_answered(answers, 2, CommandId.SUBMIT_SM) == 3
    assert window.pop_answered(answers, 3, CommandId.SUBMIT_SM) == 3  # 4 was never sent
    assert window.in_flight == 1 and window.next_deadline() == 5.0


def test_framer_takes_acceptances_on_the_way_and_returns_everything_else() -> None:
    framer = PduFramer()
    receipt = DeliverSm(sequence_number=3).encode()
    framer.feed(ok(1, "a") + ok(2, "bb") + receipt + ok(4, "c") + ok(5, "d")[:10])
    out: list[tuple[int, str]] = []
    assert isinstance(framer.next_pdu(out), DeliverSm)
    assert out == [(1, "a"), (2, "bb")]
    assert framer.next_pdu(out) is None  # the incomplete one waits for its bytes
    assert out == [(1, "a"), (2, "bb"), (4, "c")] and framer.buffered == 10
    framer.feed(ok(5, "d")[10:] + ok(6, "e"))
    assert framer.next_pdu() == SubmitSmResp(sequence_number=5, message_id="d")  # no list
    assert framer.next_pdu(out) is None and out[-1] == (6, "e")


_RESPONSE = st.tuples(
    st.sampled_from(["ok", "error", "tlv", "unknown", "late", "twice"]),
    st.text(alphabet="0123456789abcdef", min_size=0, max_size=12),
)


@settings(max_examples=150, deadline=None)
@given(
    answers=st.lists(_RESPONSE, min_size=1, max_size=25),
    cuts=st.lists(st.integers(1, 60), max_size=12),
)
def test_every_answer_lands_once_however_the_reads_are_cut(
    answers: list[tuple[str, str]], cuts: list[int]
) -> None:
    # Whatever the reads: each acceptance of ours in SubmitsAccepted, in arrival order; every
    # other answer as its own event, in arrival order; nothing left in flight.
    conn = bound()
    chunks: list[bytes] = []
    accepted: list[tuple[str, int, object]] = []
    others: list[tuple[str, int, object]] = []
    for kind, text in answers:
        if kind == "unknown":
            chunks.append(ok(9_999, text))
            others.append(("violation", 0, None))
            continue
        seq = submit(conn, deadline=1.0 if kind == "late" else None)
        if kind == "late":
            conn.expire(1.0)
            others.append(("late", seq, None))
        elif kind == "error":
            others.append(("response", seq, 0x45))
        elif text:  # ok, tlv, twice: an acceptance with its id
            accepted.append(("ok", seq, text))
        else:  # an OK answer without an id: broken, the outcome is unknown
            others.append(("violation", seq, None))
        if kind == "twice":
            others.append(("violation", 0, None))  # the second answers nothing any more
        if kind == "error":
            chunks.append(SubmitSmResp(sequence_number=seq, command_status=0x45).encode())
        elif kind == "tlv":
            pdu = SubmitSmResp(sequence_number=seq, message_id=text, tlvs=(Tlv(0x1403, b"x"),))
            chunks.append(pdu.encode())
        else:
            chunks.append(ok(seq, text) * (2 if kind == "twice" else 1))
    data = b"".join(chunks)
    events: list[Event] = []
    start = 0
    reads: list[bytes] = []
    for cut in cuts:
        reads.append(data[start : start + cut])
        start += cut
    reads.append(data[start:])
    for read in reads:
        if not read:
            continue  # (b"" would mean EOF)
        got = conn.receive_data(read)
        assert sum(isinstance(e, SubmitsAccepted) for e in got) <= 1  # one per read at most
        events += got
    rows = flat(events)
    assert [row for row in rows if row[0] == "ok"] == accepted
    assert [row for row in rows if row[0] != "ok"] == others
    assert conn.in_flight == 0


def test_send_encoded_is_the_path_send_takes() -> None:
    pdu = SubmitSm(destination_addr="79990000001", short_message=b"hi")
    by_pdu, by_body = bound(window=2), bound(window=2)
    body = pdu.encode()[16:]
    assert [by_pdu.send(pdu, deadline=5.0)] == by_body.send_encoded(
        CommandId.SUBMIT_SM, (body,), deadline=5.0
    )
    assert by_pdu.data_to_send() == by_body.data_to_send()
    assert by_body.in_flight == 1 and by_body.next_timer(0.0) == 5.0
    by_body.send_encoded(CommandId.SUBMIT_SM, [b"x"])
    with pytest.raises(WindowFull):
        by_body.send_encoded(CommandId.SUBMIT_SM, [b"x"])
    with pytest.raises(LocalProtocolError, match="may not send submit_sm"):
        SMPPConnection(Role.ESME).send_encoded(CommandId.SUBMIT_SM, [b"x"])
    with pytest.raises(LocalProtocolError, match="is a response"):
        by_pdu.send_encoded(CommandId.SUBMIT_SM_RESP, [b"1\0"])
    with pytest.raises(LocalProtocolError, match="alone"):
        by_pdu.send_encoded(CommandId.ENQUIRE_LINK, [b"", b""])
    assert by_pdu.send_encoded(CommandId.SUBMIT_SM, []) == []
    assert by_pdu.data_to_send() == b""


def test_send_encoded_many_at_once_is_one_by_one() -> None:
    bodies = [SubmitSm(destination_addr=f"7999000000{n}").encode()[16:] for n in range(5)]
    one, many = bound(window=10), bound(window=10)
    singles = [one.send_encoded(CommandId.SUBMIT_SM, [body], deadline=3.0)[0] for body in bodies]
    assert many.send_encoded(CommandId.SUBMIT_SM, bodies, deadline=3.0) == singles
    assert one.data_to_send() == many.data_to_send()
    assert many.in_flight == 5 and many.next_timer(0.0) == 3.0
    with pytest.raises(WindowFull):
        many.send_encoded(CommandId.SUBMIT_SM, bodies + bodies[:1])
    assert many.in_flight == 5 and many.data_to_send() == b""  # nothing of it was queued


def test_one_allocator_wraps_and_skips_numbers_in_flight() -> None:
    bodies = [b"a", b"b", b"c"]
    conn = bound(window=10)
    conn._next_seq = MAX_SEQUENCE_NUMBER - 1
    assert conn.send_encoded(CommandId.SUBMIT_SM, bodies) == [
        MAX_SEQUENCE_NUMBER - 1,
        MAX_SEQUENCE_NUMBER,
        1,
    ]
    conn._next_seq = MAX_SEQUENCE_NUMBER
    assert conn.send_encoded(CommandId.SUBMIT_SM, bodies[:2]) == [2, 3]  # MAX, 1 in flight
    # send() and the control requests take their numbers from the same allocator.
    assert conn.send(SubmitSm()) == 4
    assert conn.send_enquire_link() == 5
    assert conn.send_encoded(CommandId.SUBMIT_SM, bodies[:1]) == [6]
    assert conn.in_flight == 7


def test_accepted_event_keeps_its_place_before_the_close() -> None:
    # The SMSC unbinds with two submits in flight, then answers both: the acceptances come
    # before the ConnectionClosed that draining the window brings (placed by index).
    conn = bound()
    a, b = submit(conn), submit(conn)
    events = conn.receive_data(Unbind(sequence_number=9).encode() + ok(a, "a") + ok(b, "b"))
    assert [type(e).__name__ for e in events] == [
        "UnbindReceived",
        "SubmitsAccepted",
        "ConnectionClosed",
    ]
    assert events[1] == SubmitsAccepted(accepted=((a, "a"), (b, "b")))
