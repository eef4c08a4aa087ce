"""Delivery receipts from ``deliver_sm`` (pure: no I/O, no clock); incoming messages are
:mod:`smscenter.smpp.incoming`.

A receipt ``deliver_sm`` carries the same facts twice: in the standard TLVs
(``receipted_message_id`` 0x001E, ``message_state`` 0x0427, ``network_error_code`` 0x0423) and in
the text ``id:.. sub:.. dlvrd:.. submit date:.. done date:.. stat:.. err:.. text:..`` (SMPP 3.4
Appendix B; smscentre.com/api/smpp). The provider adds its own TLVs 0x2000-0x2004 (cost, flag,
parts, MCC+MNC, extra status). :func:`report_from_deliver_sm` folds all of it into one
:class:`~smscenter.models.DeliveryReport`, the same class HTTP status lookups return; where a TLV
and the text disagree the TLV wins (the order Kannel and Jasmin use). A :class:`ReceiptReader`
does the same for a stream of receipts, remembering what they share.

The text itself is read by :mod:`smscenter.smpp.receipt_text` (its names are here too). Receipt
dates carry no time zone. The provider is in Moscow, so they are read as UTC+3 by default
(``MOSCOW``, a fixed offset: Moscow has kept UTC+3 all year since 2014); pass ``tz`` for
an account set to another zone.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

import smscenter.smpp.tlv as _tlv
from smscenter._cache import BoundedCache
from smscenter._provider import MOSCOW, Transport
from smscenter.ids import ReceiptIdStyle, canonical_message_id, receipt_text_id
from smscenter.models import (
    DeliveryError,
    DeliveryReport,
    ExtraStatus,
    MessageFlags,
    MessageStatus,
)
from smscenter.smpp.constants import Tag
from smscenter.smpp.pdu import DeliverSm
from smscenter.smpp.receipt_text import (
    DateCache,
    ReceiptText,
    parse_receipt_date,
    parse_receipt_text,
    read_text,
    render_receipt_text,
)
from smscenter.smpp.tlv import TlvPair

__all__ = (
    "ReceiptReader",
    "ReceiptText",
    "is_receipt",
    "normalize_message_id",
    "parse_receipt_date",
    "parse_receipt_text",
    "render_receipt_text",
    "report_from_deliver_sm",
)


def normalize_message_id(value: str, *, hex_ids: bool = False) -> str:
    """Normalise a message id so receipts match what ``submit_sm_resp`` returned.

    This is :func:`smscenter.ids.canonical_message_id` (surrounding whitespace and the leading
    zeros of a numeric id go, its hex letters become upper case). With ``hex_ids=True`` (an SMSC
    that writes hexadecimal ids in receipts but returned decimal ones) a hexadecimal id is
    converted to decimal, as Kannel's ``msg-id-type`` setting does.
    """
    if hex_ids:
        converted = receipt_text_id(value, ReceiptIdStyle.HEX_TEXT)
        if converted is not None:
            return converted
    return canonical_message_id(value)


# --- deliver_sm -> DeliveryReport -----------------------------------------------------------------

# esm_class bits 2-5 (SMPP 3.4 §5.2.12): 0x04 SMSC delivery receipt, 0x20 intermediate
# notification. Both report on a message we sent.
_RECEIPT_TYPES = frozenset({0x04, 0x20})
_TAG_RECEIPTED_ID = int(Tag.RECEIPTED_MESSAGE_ID)

_SHARED_MAX = 1024
_new = object.__new__
_osa = object.__setattr__
# The text_ids styles that read a decimal text id as it is written.
_PLAIN_TEXT_IDS = (ReceiptIdStyle.SAME, ReceiptIdStyle.AUTO)


def is_receipt(pdu: DeliverSm) -> bool:
    """True when a ``deliver_sm`` reports on a sent message rather than carrying an incoming one.

    The message type bits of ``esm_class`` say so (0x04 SMSC delivery receipt, 0x20 intermediate
    notification; SMPP 3.4 §5.2.12). An SMSC that leaves them 0 but includes
    ``receipted_message_id`` is sending a receipt too.
    """
    kind = pdu.esm_class & 0x3C
    if kind in _RECEIPT_TYPES:
        return True
    return kind == 0 and pdu.tlv(_TAG_RECEIPTED_ID) is not None


def _receipt_text(pdu: DeliverSm) -> str:
    # Receipt text is written by the SMSC in ASCII (SMPP 3.4 Appendix B), whatever data_coding
    # says, except that UCS-2 really is UCS-2; message_payload carries it when short_message is
    # empty.
    data = pdu.short_message or pdu.tlv(Tag.MESSAGE_PAYLOAD) or b""
    return data.decode("utf-16-be", "replace") if pdu.data_coding == 8 else data.decode("latin-1")


class ReceiptReader:
    """Turns receipt ``deliver_sm`` PDUs into :class:`~smscenter.models.DeliveryReport`\\ s,
    remembering what receipts share.

    What :func:`report_from_deliver_sm` does, faster for a stream of receipts: everything but
    the id, the addresses and the text excerpt repeats across the receipts of a bulk send
    (the text after the id, "sub:001 dlvrd:001 submit date:... stat:DELIVRD err:000", and the
    TLVs after ``receipted_message_id``: state, error, the provider's cost, flag, parts,
    MCC+MNC). The reader reads such a receipt once and keeps its report fields in a bounded
    cache (:class:`~smscenter._cache.BoundedCache`); the next receipt with the same tail costs
    a lookup and the report's construction. One reader per session (or pool): what one reads
    never changes what another returns.

    :param tz: the zone receipt dates are written in (default: the provider's, UTC+3).
    :param hex_ids: the SMSC writes hexadecimal ids that ``submit_sm_resp`` gave in decimal
        (in the TLV and the text alike).
    """

    __slots__ = ("_dates", "_flags", "_shared", "hex_ids", "tz")

    def __init__(self, *, tz: tzinfo = MOSCOW, hex_ids: bool = False) -> None:
        self.tz = tz
        self.hex_ids = hex_ids
        # What a miss re-reads otherwise: the dates (minute resolution) and decoded flags.
        self._dates: DateCache = BoundedCache(256)
        self._flags: BoundedCache[int, MessageFlags] = BoundedCache(64)
        # (text after the id without the excerpt, TLVs after receipted_message_id) -> the
        # fields of a report with that tail (the per-receipt ones are replaced on a hit).
        self._shared: BoundedCache[tuple[bytes, tuple[TlvPair, ...]], dict[str, Any]] = (
            BoundedCache(_SHARED_MAX)
        )

    def report(
        self, pdu: DeliverSm, *, text_ids: ReceiptIdStyle = ReceiptIdStyle.SAME
    ) -> DeliveryReport:
        """The report of a receipt ``deliver_sm``: see :func:`report_from_deliver_sm`.

        :param text_ids: how the SMSC writes the id in the receipt *text*.
        """
        # The usual receipt is read on its bytes: its text is in short_message, in a one-octet
        # coding (Latin-1 and ASCII keep every offset; UCS-2 and message_payload take _read).
        sm = pdu.short_message
        space = sm.find(32)  # the space after "id:..."
        if space <= 3 or sm[:3] != b"id:" or pdu.data_coding == 8:
            return DeliveryReport(**self._read(pdu, _receipt_text(pdu), text_ids))
        # The receipt's own parts: its id (TLV and text), the text excerpt (always last).
        tail = sm[space:]
        cut = tail.find(b"ext:") - 2  # " text:" or " Text:"
        excerpt = None
        if cut >= 0 and tail[cut] == 32 and tail[cut + 1] in b"tT":
            excerpt = tail[cut + 6 :].decode("latin-1")
            tail = tail[:cut]
        tlvs = pdu.tlvs
        if tlvs and tlvs[0][0] == _TAG_RECEIPTED_ID:
            # _tlv.receipted_message_id, inline (one call per receipt): up to the first NUL.
            # (partition takes one argument, without find's argument parsing)
            receipted = tlvs[0][1].partition(b"\0")[0].decode("latin-1")
            key = (tail, tlvs[1:])
        else:
            receipted = ""
            key = (tail, tlvs)
        raw_id = receipted or sm[3:space].decode("latin-1")
        shared = self._shared.get(key)
        if shared is None:
            return self._first(pdu, key, excerpt, raw_id, text_ids)
        # The remembered fields are what DeliveryReport's __init__ stored; the replaced ones
        # are given as it would store them (a canonical id, the raw one as written).
        fields = shared.copy()
        if (
            raw_id.isdigit()
            and raw_id.isascii()
            and raw_id[0] != "0"
            and not self.hex_ids
            and (receipted or text_ids in _PLAIN_TEXT_IDS)
        ):
            fields["message_id"] = raw_id  # the provider's usual decimal id: canonical already
        else:
            fields["message_id"] = self._message_id(raw_id, bool(receipted), text_ids)
        fields["raw_message_id"] = raw_id
        fields["phone"] = pdu.source_addr or None
        fields["sender"] = pdu.destination_addr or None
        fields["text"] = excerpt
        report = _new(DeliveryReport)  # from_fields, inline: once per receipt
        _osa(report, "__dict__", fields)
        return report

    def _first(
        self,
        pdu: DeliverSm,
        key: tuple[bytes, tuple[TlvPair, ...]],
        excerpt: str | None,
        raw_id: str,
        text_ids: ReceiptIdStyle,
    ) -> DeliveryReport:
        # A tail not seen yet: read the whole receipt, and remember its fields only when a hit
        # would rebuild this very report (the excerpt and the id cut where the parse put them;
        # no second receipted_message_id among the shared TLVs).
        report = DeliveryReport(**self._read(pdu, _receipt_text(pdu), text_ids))
        if (
            report.text == excerpt
            and report.raw_message_id == raw_id
            and not any(tag == _TAG_RECEIPTED_ID for tag, _ in key[1])
        ):
            self._shared.put(key, report.__dict__.copy())
        return report

    def _message_id(self, raw_id: str, from_tlv: bool, text_ids: ReceiptIdStyle) -> str:
        # The report's message_id, canonical (as DeliveryReport's post-init would leave it).
        if not raw_id:
            return ""
        if self.hex_ids:
            return canonical_message_id(normalize_message_id(raw_id, hex_ids=True))
        if from_tlv or text_ids is ReceiptIdStyle.SAME or text_ids is ReceiptIdStyle.AUTO:
            if raw_id.isdigit() and raw_id.isascii() and raw_id[0] != "0":
                return raw_id  # the provider's usual decimal id: canonical already
            return canonical_message_id(raw_id)
        # Only the text's id may be in another base; the TLV carries submit_sm_resp's id.
        return canonical_message_id(receipt_text_id(raw_id, text_ids) or raw_id)

    def _flag(self, value: int) -> MessageFlags:
        return self._flags.put(value, MessageFlags.from_int(value))

    def _read(self, pdu: DeliverSm, text: str, text_ids: ReceiptIdStyle) -> dict[str, Any]:
        # The report's fields (as DeliveryReport's keyword arguments), from the PDU alone.
        # One value per tag (a repeated tag: the last wins).
        tlvs = {tlv[0]: tlv[1] for tlv in pdu.tlvs}
        value = tlvs.get(Tag.RECEIPTED_MESSAGE_ID)
        receipted = _tlv.receipted_message_id(value) if value is not None else ""
        value = tlvs.get(Tag.MESSAGE_STATE)
        state = _tlv.message_state(value) if value is not None else None
        value = tlvs.get(Tag.NETWORK_ERROR_CODE)
        net_err = _tlv.network_error_code(value) if value is not None else None
        # The provider's TLVs (smscentre.com/api/smpp).
        value = tlvs.get(Tag.COST)
        cost = _tlv.cost(value) if value is not None else None
        value = tlvs.get(Tag.FLAG)
        flag = _tlv.flag(value) if value is not None else None
        value = tlvs.get(Tag.PARTS)
        parts = _tlv.parts(value) if value is not None else None
        value = tlvs.get(Tag.MCCMNC)
        # MCC+MNC as one digit string; the MCC is always 3 digits (ITU-T E.212).
        digits = _tlv.mccmnc(value).strip() if value is not None else None
        value = tlvs.get(Tag.EXTRA_STATUS)
        extra = _tlv.extra_status(value) if value is not None else None
        rt = read_text(text, self.tz, self._dates) if text else ReceiptText()

        raw_id = receipted or rt.message_id or ""
        if state is not None:
            status = MessageStatus.from_message_state(state)
        elif rt.stat is not None:
            status = MessageStatus.from_smpp_word(rt.stat)
        else:
            status = MessageStatus.UNKNOWN
        extra_status = None
        if extra is not None:
            extra_status = ExtraStatus(extra)
            if extra and status is MessageStatus.DELIVERED:
                if extra & ExtraStatus.LINK_CLICKED:
                    status = MessageStatus.LINK_CLICKED
                elif extra & ExtraStatus.READ:
                    status = MessageStatus.READ
        err = net_err[1] if net_err is not None else rt.error
        mcc = mnc = None
        if digits is not None:
            mcc, mnc = digits[:3] or None, digits[3:] or None
        if mcc is None and rt.hlr is not None:
            mcc, mnc = rt.hlr.mcc, rt.hlr.mnc
        return {
            "message_id": self._message_id(raw_id, bool(receipted), text_ids),
            "status": status,
            "raw_status": rt.stat if rt.stat is not None else ("" if state is None else str(state)),
            "phone": pdu.source_addr or None,
            "error": DeliveryError(err) if err else DeliveryError.NO_ERROR,
            "changed_at": rt.done_at,
            "submitted_at": rt.submitted_at,
            "parts": parts if parts is not None else rt.parts,
            "delivered_parts": rt.delivered_parts,
            "cost": cost,
            "mcc": mcc,
            "mnc": mnc,
            "flags": None if flag is None else self._flags.get(flag) or self._flag(flag),
            "extra_status": extra_status,
            "hlr": rt.hlr,
            "sender": pdu.destination_addr or None,
            "text": rt.text,
            # client_id: SMPP has no field for it (SMPP 3.4 §4.6.1)
            "transport": Transport.SMPP,
            "raw_message_id": raw_id,
        }


def report_from_deliver_sm(
    pdu: DeliverSm,
    *,
    tz: tzinfo = MOSCOW,
    hex_ids: bool = False,
    text_ids: ReceiptIdStyle = ReceiptIdStyle.SAME,
) -> DeliveryReport:
    """Turn a receipt ``deliver_sm`` into a :class:`~smscenter.models.DeliveryReport`.

    Reads the receipt text (:func:`parse_receipt_text`), the standard TLVs
    (``receipted_message_id`` 0x001E, ``message_state`` 0x0427, ``network_error_code`` 0x0423)
    and the provider's (smscentre.com/api/smpp: cost 0x2000, flag 0x2001, parts 0x2002, MCC+MNC
    0x2003, extra status 0x2004; one reader each in :mod:`smscenter.smpp.tlv`). Where a TLV and
    the text both say something, the TLV wins. The id is made canonical
    (:func:`smscenter.ids.canonical_message_id`). In a receipt ``source_addr`` is the recipient
    of the original message (:attr:`~smscenter.models.DeliveryReport.phone`) and
    ``destination_addr`` its sender.

    A delivered message whose extra status says "link clicked" or "read" reports
    :attr:`~smscenter.models.MessageStatus.LINK_CLICKED` / ``READ``, as HTTP status does;
    :attr:`~smscenter.models.DeliveryReport.raw_status` keeps the ``stat:`` word (or the
    ``message_state`` number when there is no text).

    Never raises for odd content: missing or malformed fields are simply absent. For a stream
    of receipts use a :class:`ReceiptReader` (what this function makes for each call).

    :param tz: the zone receipt dates are written in (default: the provider's, UTC+3).
    :param hex_ids: the SMSC writes hexadecimal ids that ``submit_sm_resp`` gave in decimal
        (in the TLV and the text alike).
    :param text_ids: how the SMSC writes the id in the receipt *text*
        (:class:`~smscenter.ids.ReceiptIdStyle`); used only when there is no
        ``receipted_message_id`` TLV. ``AUTO`` reads it as ``SAME``: the detection lives in the
        pool, which sees the sends.
    """
    reader = ReceiptReader(tz=tz, hex_ids=hex_ids)
    return DeliveryReport(**reader._read(pdu, _receipt_text(pdu), text_ids))
