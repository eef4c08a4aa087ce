"""Mobile-originated messages from ``deliver_sm`` (pure: no I/O, no clock).

A ``deliver_sm`` that is no receipt (:func:`smscenter.smpp.receipts.is_receipt`) carries a
message a subscriber sent. Its text is decoded by ``data_coding``; a part of a multi-part message
goes to a :class:`~smscenter.smpp.reassembly.Reassembler` the caller owns.
"""

from __future__ import annotations

from smscenter._provider import Transport
from smscenter.models import IncomingMessage
from smscenter.smpp.pdu import DeliverSm
from smscenter.smpp.reassembly import ExpiredMessage, Fragment, Reassembler, split_user_data
from smscenter.smpp.text import decode_text

__all__ = ("incoming_from_deliver_sm", "incoming_from_expired")


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
    data, part = split_user_data(pdu)
    # A header with an impossible part number is ignored rather than losing the message.
    if reassembler is not None and part is not None and part.total > 1 and part.seq <= part.total:
        done = reassembler.add(
            Fragment(
                source=pdu.source_addr,
                destination=pdu.destination_addr,
                reference=part.reference,
                total=part.total,
                seq=part.seq,
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
