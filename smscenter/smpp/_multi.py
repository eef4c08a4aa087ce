"""submit_multi's lists (SMPP 3.4 §4.5): the destination and refused-destination entries, and
their coders (given to the codec with :func:`~smscenter.smpp._codec.listed`)."""

from __future__ import annotations

import struct

import attrs

from smscenter.smpp._codec import encode_cstr, read_cstr, status
from smscenter.smpp._codec_errors import DecodeFail, PduEncodeError, truncated
from smscenter.smpp.constants import CommandStatus

__all__ = ("DestAddress", "DistributionList", "UnsuccessSme")


@attrs.frozen(kw_only=True)
class DestAddress:
    """A submit_multi destination that is an SME address (dest_flag 1)."""

    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""


@attrs.frozen(kw_only=True)
class DistributionList:
    """A submit_multi destination that is a distribution list name (dest_flag 2)."""

    dl_name: str = ""


@attrs.frozen(kw_only=True)
class UnsuccessSme:
    """A submit_multi_resp entry for a destination the SMSC refused."""

    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    error_status_code: int = CommandStatus.ESME_ROK


def decode_dests(
    d: bytes, p: int, end: int
) -> tuple[tuple[DestAddress | DistributionList, ...], int]:
    if p >= end:
        raise truncated("number_of_dests", p)
    count = d[p]
    p += 1
    out: list[DestAddress | DistributionList] = []
    for _ in range(count):
        if p >= end:
            raise truncated("dest_flag", p)
        flag = d[p]
        p += 1
        if flag == 1:
            if p + 2 > end:
                raise truncated("dest_addr_ton", p)
            ton, npi = d[p], d[p + 1]
            addr, p = read_cstr(d, p + 2, end, "destination_addr")
            out.append(DestAddress(dest_addr_ton=ton, dest_addr_npi=npi, destination_addr=addr))
        elif flag == 2:
            name, p = read_cstr(d, p, end, "dl_name")
            out.append(DistributionList(dl_name=name))
        else:
            raise DecodeFail("dest_flag", p - 1, f"unknown dest_flag {flag}", 0x40)
    return tuple(out), p


def encode_dests(pdu: str, dests: tuple[DestAddress | DistributionList, ...]) -> bytes:
    if len(dests) > 254:
        raise PduEncodeError(
            f"{pdu}.dest_addresses has {len(dests)} entries; the limit is 254",
            pdu=pdu,
            field="dest_addresses",
            limit=254,
        )
    parts = [bytes((len(dests),))]
    for dest in dests:
        if isinstance(dest, DestAddress):
            parts.append(bytes((1, dest.dest_addr_ton, dest.dest_addr_npi)))
            parts.append(encode_cstr(pdu, "destination_addr", dest.destination_addr, 21))
        else:
            parts.append(b"\x02")
            parts.append(encode_cstr(pdu, "dl_name", dest.dl_name, 21))
    return b"".join(parts)


_UNSUCC_TAIL = struct.Struct(">I")


def decode_unsuccess(d: bytes, p: int, end: int) -> tuple[tuple[UnsuccessSme, ...], int]:
    if p >= end:
        raise truncated("no_unsuccess", p)
    count = d[p]
    p += 1
    out: list[UnsuccessSme] = []
    for _ in range(count):
        if p + 2 > end:
            raise truncated("dest_addr_ton", p)
        ton, npi = d[p], d[p + 1]
        addr, p = read_cstr(d, p + 2, end, "destination_addr")
        if p + 4 > end:
            raise truncated("error_status_code", p)
        (code,) = _UNSUCC_TAIL.unpack_from(d, p)
        p += 4
        out.append(
            UnsuccessSme(
                dest_addr_ton=ton,
                dest_addr_npi=npi,
                destination_addr=addr,
                error_status_code=status(code),
            )
        )
    return tuple(out), p


def encode_unsuccess(pdu: str, items: tuple[UnsuccessSme, ...]) -> bytes:
    if len(items) > 255:
        raise PduEncodeError(
            f"{pdu}.unsuccess_smes has {len(items)} entries; the limit is 255",
            pdu=pdu,
            field="unsuccess_smes",
            limit=255,
        )
    parts = [bytes((len(items),))]
    for item in items:
        parts.append(bytes((item.dest_addr_ton, item.dest_addr_npi)))
        parts.append(encode_cstr(pdu, "destination_addr", item.destination_addr, 21))
        parts.append(_UNSUCC_TAIL.pack(item.error_status_code))
    return b"".join(parts)
