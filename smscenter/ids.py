"""One canonical form of a provider's message id, for every channel.

An SMSC chooses its message ids freely: SMPP 3.4 §4.4.2 makes ``submit_sm_resp.message_id`` a
C-Octet String of up to 65 octets (64 characters and the NUL) and leaves its content to the SMSC.
In practice ids are numbers written in decimal or hexadecimal, and SMSCs differ in how they
*format* the same number between ``submit_sm_resp``, the receipt's ``receipted_message_id`` TLV
(SMPP 3.4 §5.3.2.12) and the receipt text (Appendix B): letter case and zero padding change.
:func:`canonical_message_id` is the one function that turns any of these spellings into the form
every model of this package carries in ``message_id``; the spelling seen on the wire stays on
each model as ``raw_message_id``.

The rule (what :func:`canonical_message_id` does):

1. Surrounding whitespace goes (a padded C-string is the same id).
2. An id made only of the digits ``0-9`` and the hex letters ``a-f`` / ``A-F``, with its letters
   all in one case, is a *number*: its leading zeros go (an all-zero id becomes ``"0"``) and its
   letters become upper case. ``"10a"`` and ``"10A"`` give ``"10A"``; ``"000a01"`` gives
   ``"A01"``; ``"00042"`` gives ``"42"``.
3. Anything else (other letters, punctuation such as a UUID's dashes, mixed-case hex letters,
   non-ASCII) is an opaque string and is kept exactly as written, case and zeros included.

Why this cannot make two different ids equal: for a number in one base, the upper-case spelling
without leading zeros is unique, so two ids become equal only when they differ in zero padding or
letter case alone, which are formatting, not identity, for numeric ids. Ids whose case may carry
meaning (base-62 style ids with letters beyond ``f``, or hex letters in mixed case) fall under
rule 3 and keep it. The rule does not convert between bases: ``"266"`` and ``"10A"`` stay
different (see the pool's ``receipt_ids`` option for SMSCs that switch base in receipt texts).
"""

from __future__ import annotations

import enum
import re

__all__ = ("ReceiptIdStyle", "canonical_message_id", "receipt_text_id")

_HEX_NUMBER = re.compile(r"[0-9a-fA-F]+")


def canonical_message_id(value: str) -> str:
    """The canonical form of a message id (see the module's rule); idempotent.

    ``send_result.message_id``, ``report.message_id``, ``query_result.message_id`` and
    ``incoming.reply_to_id`` all carry this form, whatever channel they came from.
    """
    # The common case first: the provider's own decimal ids, already canonical.
    if value.isdigit() and value.isascii():
        return value if value[0] != "0" else (value.lstrip("0") or "0")
    stripped = value.strip()
    if not stripped or not _HEX_NUMBER.fullmatch(stripped):
        return stripped
    upper = stripped.upper()
    if upper != stripped and stripped.lower() != stripped:
        return stripped  # mixed-case letters: the case may be part of the id
    return upper.lstrip("0") or "0"


class ReceiptIdStyle(enum.Enum):
    """How an SMSC writes a message's id in the *text* of its delivery receipt, compared with
    the id its ``submit_sm_resp`` gave (SMPP 3.4 Appendix B leaves the text's format to the SMSC).

    Only receipts without the ``receipted_message_id`` TLV depend on it: the TLV carries the
    id as ``submit_sm_resp`` did (SMPP 3.4 §5.3.2.12) and always wins.
    """

    #: Find out from the receipts and sends themselves (see :class:`~smscenter.SMPPPool`).
    AUTO = "auto"
    #: The same number in the same base (letter case and zero padding may differ).
    SAME = "same"
    #: ``submit_sm_resp`` gave a hexadecimal id; the text writes it in decimal.
    DECIMAL_TEXT = "decimal-text"
    #: ``submit_sm_resp`` gave a decimal id; the text writes it in hexadecimal.
    HEX_TEXT = "hex-text"


_DECIMAL_NUMBER = re.compile(r"[0-9]+")


def receipt_text_id(text_id: str, style: ReceiptIdStyle) -> str | None:
    """The canonical id of the sent message, from a receipt text's ``id:`` written in ``style``.

    ``None`` when the text's id cannot be in that style (``DECIMAL_TEXT`` with hex letters in
    it, ``HEX_TEXT`` with characters that are no hex digits). ``SAME`` and ``AUTO`` give
    :func:`canonical_message_id` unchanged.
    """
    stripped = text_id.strip()
    if style is ReceiptIdStyle.DECIMAL_TEXT:
        if not _DECIMAL_NUMBER.fullmatch(stripped):
            return None
        return format(int(stripped), "X")
    if style is ReceiptIdStyle.HEX_TEXT:
        if not _HEX_NUMBER.fullmatch(stripped):
            return None
        return str(int(stripped, 16))
    return canonical_message_id(stripped)
