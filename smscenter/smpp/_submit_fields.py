"""The fields of a ``submit_sm`` from a :class:`~smscenter.models.Message` (pure: no I/O, no
clock): the addresses, the schedule and the short messages of the parts with their coding.

:func:`smscenter.smpp.submit.build_submit_sm` and the session's
:class:`~smscenter.smpp.submit.SubmitBuilder` both read a message through these, so the PDUs and
the encoded bodies cannot disagree on a field; a kind SMPP cannot carry raises
:class:`~smscenter.exceptions.ValidationError` here, before anything is sent.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

from smscenter.exceptions import ValidationError
from smscenter.models import Message, MessageKind, SendWindow
from smscenter.smpp.constants import NPI, TON
from smscenter.smpp.provider_text import provider_text
from smscenter.smpp.text import (
    TextEncoding,
    choose_encoding,
    split_encoded,
    split_text,
    truncate_to_parts,
)
from smscenter.smpp.times import absolute_time, relative_time

if TYPE_CHECKING:
    from smscenter.smpp.submit import SubmitOptions

__all__ = (
    "ADDRESS_MAX",
    "BINARY_KINDS",
    "DC_CLASS0",
    "DIGITS_RE",
    "ESM_UDHI",
    "destination",
    "payloads",
    "resolve",
    "schedule",
    "source",
)

# SMPP 3.4 §5.2.8/§5.2.9: source_addr / destination_addr in submit_sm, 21 octets with the NUL.
ADDRESS_MAX = 20
DIGITS_RE = re.compile(r"\+?[0-9]{1,20}")

# esm_class (SMPP 3.4 §5.2.12): 0x40 = short_message starts with a UDH.
ESM_UDHI = 0x40
# data_coding (TS 23.038 §4, general group): 0x10 says bits 0-1 are a message class, and class 0
# is the "flash" SMS shown immediately and not stored. The alphabet bits 2-3 stay the provider's
# ``coding * 4``, so a flash GSM text is 0x10, flash Latin-1 0x14, flash UCS-2 0x18.
DC_CLASS0 = 0x10
# The provider's 8-bit coding (smscentre.com/api/smpp: coding 1 "for Latin text or binary data").
_DC_BINARY = 0x04


BINARY_KINDS = frozenset({MessageKind.BINARY, MessageKind.BINARY_HEX})


def resolve(message: Message, recipient: str | None, member: frozenset[str] | None) -> str:
    """``recipient`` as :attr:`Message.to` writes it (``member``: the recipients as a set, for
    a long list), or the error saying why it is not one of them."""
    to = message.to
    if recipient is None:
        if len(to) != 1:
            raise ValidationError(
                f"the message has {len(to)} recipients; say which one this PDU is for"
            )
        return to[0]
    recipients = to if member is None else member
    if recipient in recipients:
        return recipient
    normalized = message.for_recipient(recipient).to[0]
    if normalized not in recipients:
        raise ValidationError(f"{recipient!r} is not one of the message's recipients")
    return normalized


def source(message: Message, options: SubmitOptions) -> tuple[str, int, int]:
    sender = message.sender or ""
    if sender == ".":
        sender = ""  # the HTTP API's "no default sender": over SMPP simply none
    if not sender:
        ton, npi = TON.UNKNOWN, NPI.UNKNOWN
    elif DIGITS_RE.fullmatch(sender):
        sender = sender.lstrip("+")
        ton, npi = TON.INTERNATIONAL, NPI.ISDN
    else:
        ton, npi = TON.ALPHANUMERIC, NPI.UNKNOWN
    if len(sender) > ADDRESS_MAX:
        raise ValidationError(
            f"sender {sender!r} is {len(sender)} characters; SMPP source_addr holds at most "
            f"{ADDRESS_MAX}"
        )
    return (
        sender,
        ton if options.source_ton is None else options.source_ton,
        npi if options.source_npi is None else options.source_npi,
    )


def destination(recipient: str, options: SubmitOptions) -> tuple[str, int, int]:
    if recipient.startswith("G") and recipient[1:].isdigit():
        raise ValidationError(
            f"{recipient!r} is a contact group; SMPP sends to one address at a time (use HTTP)"
        )
    if len(recipient.lstrip("+")) > ADDRESS_MAX:
        raise ValidationError(
            f"recipient {recipient!r} is longer than the {ADDRESS_MAX} characters SMPP "
            "destination_addr holds"
        )
    if DIGITS_RE.fullmatch(recipient):
        return recipient.lstrip("+"), options.dest_ton, options.dest_npi
    # e-mail addresses, Telegram @nick / #id: not numbers
    return recipient, TON.ALPHANUMERIC, NPI.UNKNOWN


def schedule(message: Message, options: SubmitOptions) -> str:
    when = message.send_at
    if when is None:
        return ""
    if isinstance(when, SendWindow):
        raise ValidationError(
            "a SendWindow (send only between given hours) cannot be expressed in SMPP; give an "
            "exact send_at or send over HTTP"
        )
    if isinstance(when, timedelta):
        return relative_time(when)
    return absolute_time(when, local_tz=options.local_tz)


def payloads(message: Message, options: SubmitOptions) -> tuple[tuple[bytes, ...], int, int]:
    """The short messages of the parts (no UDH yet), the data_coding and the esm_class."""
    if message.kind in BINARY_KINDS:
        data = _binary_payload(message)
        if options.binary_has_udh:
            if len(data) > 140:
                raise ValidationError("a binary message with its own UDH must fit 140 octets")
            return (data,), _DC_BINARY, ESM_UDHI
        return split_encoded(data, TextEncoding.LATIN1), _DC_BINARY, 0
    text = message.text
    if message.max_parts is not None:
        text = truncate_to_parts(text, choose_encoding(text, iso=options.iso), message.max_parts)
    wire = provider_text(message, text=text)
    encoding = choose_encoding(wire, iso=options.iso)
    data_coding = encoding.data_coding
    if message.kind is MessageKind.FLASH:
        data_coding |= DC_CLASS0
    return split_text(wire, encoding), data_coding, 0


def _binary_payload(message: Message) -> bytes:
    if message.kind is MessageKind.BINARY_HEX:
        return bytes.fromhex(message.text)
    try:
        return message.text.encode("latin-1")
    except UnicodeEncodeError:
        raise ValidationError(
            "a binary message's text must hold one byte per character (U+0000..U+00FF); use "
            "Message.binary(to, data) for raw bytes"
        ) from None
