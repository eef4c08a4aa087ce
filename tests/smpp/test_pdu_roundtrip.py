"""Hypothesis round trips for every PDU, and encode-time field limits."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smscenter.exceptions import LocalProtocolError
from smscenter.smpp._codec import layout
from smscenter.smpp.constants import Tag
from smscenter.smpp.pdu import (
    PDU_CLASSES,
    BindTransmitter,
    DeliverSm,
    DestAddress,
    DistributionList,
    Pdu,
    PduEncodeError,
    SubmitMulti,
    SubmitMultiResp,
    SubmitSm,
    UnsuccessSme,
    decode_pdu,
)
from smscenter.smpp.tlv import Tlv, typed_value


def _cstring(limit: int) -> st.SearchStrategy[str]:
    # C-octet strings: any Latin-1 character but NUL, up to limit - 1 octets.
    return st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=255), max_size=limit - 1)


_U8 = st.integers(0, 0xFF)
_U32 = st.integers(0, 0xFFFFFFFF)
_TLVS = st.lists(st.builds(Tlv, st.integers(0, 0xFFFF), st.binary(max_size=40)), max_size=4).map(
    tuple
)
_DESTS = st.lists(
    st.one_of(
        st.builds(DestAddress, dest_addr_ton=_U8, dest_addr_npi=_U8, destination_addr=_cstring(21)),
        st.builds(DistributionList, dl_name=_cstring(21)),
    ),
    max_size=5,
).map(tuple)
_UNSUCC = st.lists(
    st.builds(
        UnsuccessSme,
        dest_addr_ton=_U8,
        dest_addr_npi=_U8,
        destination_addr=_cstring(21),
        error_status_code=_U32,
    ),
    max_size=4,
).map(tuple)


def _strategy(cls: type[Pdu]) -> st.SearchStrategy[Pdu]:
    kwargs: dict[str, st.SearchStrategy[Any]] = {
        "sequence_number": _U32,
        "command_status": _U32 if cls.is_response() else st.just(0),
        "tlvs": _TLVS,
    }
    for field, kind, limit in layout(cls):
        if kind == "B":
            kwargs[field] = _U8
        elif kind == "c":
            kwargs[field] = _cstring(limit)
        elif kind == "sm":
            kwargs[field] = st.binary(max_size=254)
        elif field == "dest_addresses":
            kwargs[field] = _DESTS
        elif field == "unsuccess_smes":
            kwargs[field] = _UNSUCC
        else:  # pragma: no cover
            raise AssertionError(kind)
    return st.builds(cls, **kwargs)


@pytest.mark.parametrize("cls", [PDU_CLASSES[k] for k in sorted(PDU_CLASSES)], ids=str)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_round_trip(cls: type[Pdu], data: st.DataObject) -> None:
    pdu = data.draw(_strategy(cls))
    raw = pdu.encode()
    assert int.from_bytes(raw[:4], "big") == len(raw)
    again = decode_pdu(raw)
    assert again == pdu
    assert again.encode() == raw


@pytest.mark.parametrize(
    ("pdu", "field", "fragment"),
    [
        (SubmitSm(source_addr="1" * 21), "source_addr", "limit is 20"),
        (SubmitSm(destination_addr="1" * 30), "destination_addr", "limit is 20"),
        (SubmitSm(service_type="CMTABC"), "service_type", "limit is 5"),
        (SubmitSm(validity_period="0" * 17), "validity_period", "limit is 16"),
        (SubmitSm(short_message=b"x" * 255), "short_message", "limit is 254"),
        (SubmitSm(esm_class=256), "esm_class", "0..255"),
        (SubmitSm(data_coding=-1), "data_coding", "0..255"),
        (SubmitSm(sequence_number=1 << 32), "sequence_number", "0..4294967295"),
        (SubmitSm(source_addr="Привет"), "source_addr", "outside Latin-1"),
        (SubmitSm(source_addr="a\0b"), "source_addr", "NUL"),
        (SubmitSm(short_message="text"), "short_message", "must be bytes"),  # type: ignore[arg-type]
        (BindTransmitter(password="x" * 9), "password", "limit is 8"),
        (BindTransmitter(system_id="s" * 16), "system_id", "limit is 15"),
        (BindTransmitter(system_type="MCON1,ISO,SINGLE"), "system_type", "limit is 12"),
        (DeliverSm(tlvs=(Tlv(0x0424, b"x" * 65536),)), "tlvs", "65535"),
        (
            SubmitMulti(dest_addresses=(DistributionList(dl_name="d"),) * 255),
            "dest_addresses",
            "254",
        ),
        (
            SubmitMultiResp(unsuccess_smes=(UnsuccessSme(destination_addr="1" * 21),)),
            "destination_addr",
            "limit is 20",
        ),
    ],
)
def test_field_limits_checked_at_encode(pdu: Pdu, field: str, fragment: str) -> None:
    with pytest.raises(PduEncodeError, match=fragment) as info:
        pdu.encode()
    assert info.value.field == field
    assert isinstance(info.value, LocalProtocolError)
    assert type(pdu).__name__ in str(info.value)


def test_password_never_in_encode_errors() -> None:
    with pytest.raises(PduEncodeError) as info:
        BindTransmitter(password="topsecret1").encode()
    assert "topsecret1" not in str(info.value)


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_typed_tlv_values_round_trip(data: st.DataObject) -> None:
    from smscenter.smpp.tlv import CSTRING_TAGS as _CSTRING_TAGS
    from smscenter.smpp.tlv import INT_SIZES as _INT_SIZES

    tag = data.draw(st.sampled_from(sorted(_INT_SIZES)))
    size = _INT_SIZES[tag][0]
    value = data.draw(st.integers(0, (1 << (8 * size)) - 1))
    tlv = Tlv.of(tag, value)
    assert len(tlv.value) == size
    assert typed_value(*tlv) == value
    text_tag = data.draw(st.sampled_from(sorted(_CSTRING_TAGS - {Tag.COST})))
    text = data.draw(_cstring(6))
    assert typed_value(*Tlv.of(text_tag, text)) == text
    cost = data.draw(st.decimals(min_value=0, max_value=999, places=4, allow_nan=False))
    assert typed_value(*Tlv.of(Tag.COST, cost)) == cost
    # Any bytes under any tag: typed, or raw when not in the tag's shape, never an error.
    raw = data.draw(st.binary(max_size=8))
    result = typed_value(data.draw(st.integers(0, 0xFFFF)), raw)
    assert isinstance(result, int | str | bytes | Decimal)
