"""Bounded fuzzing: random and mutated bytes into the framer and into both connection roles.

Only typed smscenter errors may come out of the framer, and ``SMPPConnection.receive_data``
must never raise at all (malformed input becomes events).
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smscenter.exceptions import SMSCenterError
from smscenter.smpp.connection import Role, SMPPConnection
from smscenter.smpp.constants import BindMode
from smscenter.smpp.events import Event
from smscenter.smpp.framer import PduFramer
from smscenter.smpp.pdu import (
    PDU_CLASSES,
    BindTransceiverResp,
    DataSm,
    DeliverSm,
    EnquireLink,
    Pdu,
    PduDecodeError,
    PduEncodeError,
    SubmitMulti,
    SubmitSm,
    SubmitSmResp,
    decode_pdu,
)
from smscenter.smpp.pdu import DestAddress as _Dest
from smscenter.smpp.tlv import Tlv

SEED_PDUS: list[Pdu] = [
    SubmitSm(
        sequence_number=2,
        source_addr="SMSC",
        destination_addr="79991234567",
        short_message=b"hello",
        tlvs=(Tlv(0x2002, b"\x00\x01"),),
    ),
    SubmitSmResp(sequence_number=2, message_id="854019"),
    DeliverSm(
        sequence_number=3,
        esm_class=4,
        short_message=b"id:1 stat:DELIVRD",
        tlvs=(Tlv(0x001E, b"1\0"), Tlv(0x0427, b"\x02"), Tlv(0x2000, b"1.5\0")),
    ),
    DataSm(sequence_number=4, tlvs=(Tlv(0x0424, b"payload"),)),
    SubmitMulti(sequence_number=5, dest_addresses=(_Dest(destination_addr="7999"),)),
    EnquireLink(sequence_number=6),
    *(cls(sequence_number=7) for cls in PDU_CLASSES.values()),
]
SEED_STREAM = b"".join(p.encode() for p in SEED_PDUS)


def _framer_consume(data: bytes, *, chunk: int) -> None:
    framer = PduFramer(max_length=4096)
    for i in range(0, len(data), chunk):
        framer.feed(data[i : i + chunk])
        while True:
            try:
                pdu = framer.next_pdu()
            except PduDecodeError as exc:
                assert isinstance(exc, SMSCenterError)
                if exc.fatal:
                    return
                continue
            if pdu is None:
                break
            # Whatever decoded encodes again, or is refused with the typed error naming the
            # limit: decoding is lenient (some SMSCs overrun a C-string limit), encoding never.
            assert isinstance(pdu, Pdu)
            try:
                again = pdu.encode()
            except PduEncodeError as exc:
                assert "limit" in str(exc)
                continue
            assert decode_pdu(again) == pdu


def _connections() -> list[SMPPConnection]:
    esme = SMPPConnection(Role.ESME, window=4)
    smsc = SMPPConnection(Role.SMSC, window=4)
    esme.send_bind(BindMode.TRANSCEIVER, system_id="a", password="b")
    smsc.receive_data(esme.data_to_send())
    bound = SMPPConnection(Role.ESME, window=4)
    bound.send_bind(BindMode.TRANSCEIVER, system_id="a", password="b")
    bound.data_to_send()
    bound.receive_data(BindTransceiverResp(sequence_number=1, system_id="s").encode())
    bound.send(SubmitSm(), deadline=1.0)
    return [esme, smsc, bound, SMPPConnection(Role.SMSC)]


def _connection_consume(data: bytes, *, chunk: int) -> None:
    for conn in _connections():
        for i in range(0, len(data), chunk):
            events = conn.receive_data(data[i : i + chunk])
            assert all(isinstance(e, Event) for e in events)
            out = conn.data_to_send()
            assert isinstance(out, bytes)
            conn.expire(10.0)
            conn.timers(10.0)
        conn.receive_data(b"")


def _mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(4)
        pos = rng.randrange(len(buf)) if buf else 0
        if op == 0 and buf:
            buf[pos] = rng.randrange(256)
        elif op == 1:
            buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 2 and buf:
            del buf[pos : pos + rng.randint(1, 8)]
        else:
            # Flip a length-ish byte: command_length, sm_length or a TLV length.
            for at in (3, 2, pos):
                if at < len(buf):
                    buf[at] ^= 1 << rng.randrange(8)
                    break
    return bytes(buf)


def test_mutated_streams_seeded() -> None:
    rng = random.Random(20261122)
    for _ in range(400):
        data = _mutate(rng, SEED_STREAM)
        chunk = rng.choice([1, 7, 64, 4096])
        _framer_consume(data, chunk=chunk)
        _connection_consume(data, chunk=chunk)


def test_random_bytes_seeded() -> None:
    rng = random.Random(7)
    for _ in range(200):
        data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 200)))
        _framer_consume(data, chunk=rng.choice([1, 16, 300]))
        _connection_consume(data, chunk=64)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prefix=st.binary(max_size=64),
    header=st.tuples(
        st.integers(0, 300),
        st.sampled_from(sorted(PDU_CLASSES) + [0, 0x00010200, 0x80010200]),
        st.integers(0, 0xFFFFFFFF),
        st.integers(0, 0xFFFFFFFF),
    ),
    body=st.binary(max_size=280),
    chunk=st.integers(1, 64),
)
def test_hypothesis_headers_and_bodies(
    prefix: bytes, header: tuple[int, int, int, int], body: bytes, chunk: int
) -> None:
    length, command_id, status, seq = header
    pdu = (
        length.to_bytes(4, "big")
        + command_id.to_bytes(4, "big")
        + status.to_bytes(4, "big")
        + seq.to_bytes(4, "big")
        + body
    )
    for data in (pdu, prefix + pdu, pdu + SEED_STREAM):
        _framer_consume(data, chunk=chunk)
        _connection_consume(data, chunk=chunk)
