"""Property: an ESME and an SMSC core stay consistent whatever the traffic and however the
bytes are chunked on the way."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from smscenter.smpp.connection import Role, SMPPConnection, State
from smscenter.smpp.constants import BindMode
from smscenter.smpp.events import (
    BindComplete,
    BindRequested,
    DeliverSmReceived,
    EnquireLinkReceived,
    Event,
    ResponseReceived,
    SubmitsAccepted,
    SubmitSmReceived,
)
from smscenter.smpp.pdu import DeliverSm, SubmitSm

ACTIONS = st.lists(
    st.sampled_from(["submit", "deliver", "esme_ping", "smsc_ping", "flush_esme", "flush_smsc"]),
    max_size=60,
)


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:], strict=False)]


@settings(max_examples=60, deadline=None)
@given(actions=ACTIONS, cuts=st.lists(st.integers(0, 10_000), max_size=8))
def test_every_request_answered_once_in_order(actions: list[str], cuts: list[int]) -> None:
    esme = SMPPConnection(Role.ESME, window=1000)
    smsc = SMPPConnection(Role.SMSC, window=1000)
    esme.send_bind(BindMode.TRANSCEIVER, system_id="a", password="b")
    (req,) = smsc.receive_data(esme.data_to_send())
    assert isinstance(req, BindRequested)
    smsc.accept_bind(req.pdu, system_id="s")
    (done,) = esme.receive_data(smsc.data_to_send())
    assert isinstance(done, BindComplete)

    submitted: list[int] = []
    delivered: list[int] = []
    seen_submits: list[bytes] = []
    seen_delivers: list[bytes] = []
    answered_esme: list[int] = []
    answered_smsc: list[int] = []

    def handle(conn: SMPPConnection, events: list[Event], answered: list[int]) -> None:
        for event in events:
            if isinstance(event, SubmitSmReceived):
                seen_submits.append(event.pdu.short_message)
                conn.respond(event.pdu, message_id=f"m{event.pdu.sequence_number}")
            elif isinstance(event, DeliverSmReceived):
                seen_delivers.append(event.pdu.short_message)
                conn.respond(event.pdu)
            elif isinstance(event, ResponseReceived):
                answered.append(event.request_seq)
            elif isinstance(event, SubmitsAccepted):
                answered.extend(seq for seq, _ in event.accepted)
            else:
                assert isinstance(event, EnquireLinkReceived), event

    def flush(src: SMPPConnection, dst: SMPPConnection, answered: list[int]) -> None:
        for chunk in _chunks(src.data_to_send(), cuts):
            handle(dst, dst.receive_data(chunk), answered)

    pings_esme: list[int] = []
    pings_smsc: list[int] = []
    for n, action in enumerate(actions):
        if action == "submit":
            submitted.append(esme.send(SubmitSm(short_message=b"s%d" % n)))
        elif action == "deliver":
            delivered.append(smsc.send(DeliverSm(short_message=b"d%d" % n)))
        elif action == "esme_ping":
            pings_esme.append(esme.send_enquire_link())
        elif action == "smsc_ping":
            pings_smsc.append(smsc.send_enquire_link())
        elif action == "flush_esme":
            flush(esme, smsc, answered_smsc)
        else:
            flush(smsc, esme, answered_esme)
    # Settle: answers may produce answers, so flush both ways until quiet.
    for _ in range(4):
        flush(esme, smsc, answered_smsc)
        flush(smsc, esme, answered_esme)

    submit_bodies = [b"s%d" % n for n, a in enumerate(actions) if a == "submit"]
    deliver_bodies = [b"d%d" % n for n, a in enumerate(actions) if a == "deliver"]
    assert seen_submits == submit_bodies
    assert seen_delivers == deliver_bodies
    assert sorted(answered_esme) == sorted(submitted + pings_esme)
    assert sorted(answered_smsc) == sorted(delivered + pings_smsc)
    assert esme.in_flight == 0 and smsc.in_flight == 0
    assert len(set(submitted + pings_esme)) == len(submitted) + len(pings_esme)
    assert esme.state is State.BOUND_TRX and smsc.state is State.BOUND_TRX
