"""Mobile-originated messages from ``deliver_sm`` (pure: no I/O, no clock).

A ``deliver_sm`` that is no receipt (:func:`smscenter.smpp.receipts.is_receipt`) carries a
message a subscriber sent. Its text is decoded by ``data_coding``; a part of a multi-part message
goes to a :class:`~smscenter.smpp.reassembly.Reassembler` the caller owns.
"""

from __future__ import annotations

from smscenter._provider import Transport
from smscenter.models import IncomingMessage
from smscenter.smpp.constants import Tag
from smscenter.smpp.pdu import DeliverSm
from smscenter.smpp.reassembly import ExpiredMessage, Fragment, Reassembler
from smscenter.smpp.text import decode_text, parse_udh

__all__ = ("incoming_from_deliver_sm", "incoming_from_expired")

# esm_class bit 6 (SMPP 3.4 §5.2.12): short_message starts with a user data header.
_UDHI = 0x40


def incoming_from_deliver_sm(
    pdu: DeliverSm, *, reassembler: Reassembler | None = None, now: float = 0.0
) -> IncomingMessage | None:
    """Turn a mobile-originated ``deliver_sm`` into an :class:`~smscenter.models.IncomingMessage`.

    The text is decoded by ``data_coding`` (:func:`~smscenter.smpp.text.decode_text`; a body in
    ``message_payload`` is used when ``short_message`` is empty) with its UDH removed. A part of
    a multi-part message (UDH IEI 0x00/0x08, or the SAR TLVs 0x020C/0x020E/0x020F) goes to
    ``reassembler``: the result is ``None`` until the last part arrives, then the whole message.
    Without a reassembler each part comes back as a message of its own.

    :param reassembler: where multi-part messages are joined; the caller owns it and calls its
        :meth:`~smscenter.smpp.reassembly.Reassembler.expire` (see :func:`incoming_from_expired`).
    :param now: the caller's clock, in seconds, for the reassembler's timeout.
    """
    data = pdu.short_message
    if not data:
        data = pdu.tlv(Tag.MESSAGE_PAYLOAD) or b""
    reference = total = seq = None
    if pdu.esm_class & _UDHI:
        udh, data = parse_udh(data)
        reference, total, seq = udh.reference, udh.total, udh.seq
    if reference is None:
        ref_raw, total_raw, seq_raw = (
            pdu.tlv(Tag.SAR_MSG_REF_NUM),
            pdu.tlv(Tag.SAR_TOTAL_SEGMENTS),
            pdu.tlv(Tag.SAR_SEGMENT_SEQNUM),
        )
        if ref_raw and total_raw and seq_raw:
            reference = int.from_bytes(ref_raw, "big")
            total, seq = total_raw[0], seq_raw[0]
    # A header with an impossible part number is ignored rather than losing the message.
    if (
        reassembler is not None
        and reference is not None
        and total
        and seq
        and total > 1
        and seq <= total
    ):
        done = reassembler.add(
            Fragment(
                source=pdu.source_addr,
                destination=pdu.destination_addr,
                reference=reference,
                total=total,
                seq=seq,
                payload=data,
                data_coding=pdu.data_coding,
            ),
            now,
        )
        if done is None:
            return None
        text = done.text
    else:
        text = decode_text(data, pdu.data_coding)
    return IncomingMessage(
        phone=pdu.source_addr,
        text=text,
        to=pdu.destination_addr or None,
        transport=Transport.SMPP,
    )


def incoming_from_expired(expired: ExpiredMessage) -> IncomingMessage:
    """The part of a multi-part message that did arrive, as an incoming message.

    For callers who would rather deliver a partial text than drop it; which parts are missing is
    on ``expired.missing``.
    """
    return IncomingMessage(
        phone=expired.source,
        text=expired.partial_text,
        to=expired.destination or None,
        transport=Transport.SMPP,
    )
