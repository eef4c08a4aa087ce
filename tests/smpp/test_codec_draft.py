"""A decoded PDU is filled as an instance of its class's draft (plain stores, _codec.py), then
becomes an instance of the class itself: the same value, type and frozenness as one built
through ``__init__``, for every PDU class."""

from __future__ import annotations

import attrs
import pytest

from smscenter.smpp._codec import PDU_CLASSES
from smscenter.smpp.pdu import DeliverSm, decode_pdu


@pytest.mark.parametrize("cls", sorted(PDU_CLASSES.values(), key=lambda c: int(c.command_id)))
def test_a_decoded_pdu_is_of_its_class_and_equals_the_one_built(cls: type) -> None:
    built = cls(sequence_number=7)
    decoded = decode_pdu(built.encode())
    assert type(decoded) is cls
    assert decoded == built and repr(decoded) == repr(built)
    assert set(vars(decoded)) == {f.name for f in attrs.fields(cls)}
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        decoded.sequence_number = 8


def test_a_decoded_receipt_keeps_every_field() -> None:
    built = DeliverSm(
        sequence_number=3,
        source_addr="79991234567",
        destination_addr="SMSC",
        esm_class=4,
        short_message=b"id:1 stat:DELIVRD",
        tlvs=((0x001E, b"1\0"), (0x0427, b"\x02")),
    )
    decoded = decode_pdu(built.encode())
    assert decoded == built and hash(decoded.tlvs) == hash(built.tlvs)
    assert attrs.evolve(decoded, esm_class=0).esm_class == 0
