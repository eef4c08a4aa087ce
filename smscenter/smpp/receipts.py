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

Receipt dates carry no time zone. The provider is in Moscow, so they are read as UTC+3 by default
(``MOSCOW``, a fixed offset: Moscow has kept UTC+3 all year since 2014); pass ``tz`` for
an account set to another zone.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import unquote_plus

import attrs

import smscenter.smpp.tlv as _tlv
from smscenter._cache import BoundedCache
from smscenter._fastinit import fast_init, from_fields
from smscenter._provider import MOSCOW, Transport
from smscenter.ids import ReceiptIdStyle, canonical_message_id, receipt_text_id
from smscenter.models import (
    DeliveryError,
    DeliveryReport,
    ExtraStatus,
    HlrInfo,
    MessageFlags,
    MessageStatus,
)
from smscenter.smpp.constants import Tag
from smscenter.smpp.pdu import DeliverSm
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


@fast_init
@attrs.frozen(kw_only=True)
class ReceiptText:
    """The fields of a receipt's text, as written (nothing mapped to the model yet).

    :ivar message_id: ``id:`` as written (not normalised).
    :ivar parts: ``sub:``, the number of parts submitted.
    :ivar delivered_parts: ``dlvrd:``.
    :ivar submitted_at: ``submit date:`` as an aware datetime.
    :ivar done_at: ``done date:``, when the status last changed.
    :ivar stat: the ``stat:`` word as written (``DELIVRD``, ``undeliv``...).
    :ivar error: ``err:`` as a number (decimal, or hex when it has hex letters or ``0x``).
    :ivar text: ``text:``/``Text:``, the start of the message; always the last field.
    :ivar hlr: the HLR fields (``imsi:``, ``msc:``, ``mcc:``... smscentre.com/api/smpp), when
    present.
    """

    message_id: str | None = None
    parts: int | None = None
    delivered_parts: int | None = None
    submitted_at: datetime | None = None
    done_at: datetime | None = None
    stat: str | None = None
    error: int | None = None
    text: str | None = None
    hlr: HlrInfo | None = None


# The exact layout of smscentre.com/api/smpp's example (plus the optional text): one regex match, no
# loop.
_STANDARD = re.compile(
    r"id:(\S*) sub:(\d*) dlvrd:(\d*) submit date:(\d*) done date:(\d*) stat:(\S*) err:(\S*)"
    r"(?: [Tt]ext:(.*))?",
    re.DOTALL,
)
# Everything else: find each known key at the start of the string or after whitespace, in any
# order and any case; a value runs to the next key. ``text:`` ends the scan, because the text
# may itself contain "id:" or spaces.
_KEY = re.compile(
    r"(?:^|(?<=\s))(id|sub|dlvrd|submit[ _]date|done[ _]date|stat|err|text|imsi|msc|mcc|mnc|cn"
    r"|net|rcn|rnet):",
    re.IGNORECASE,
)
_HLR_KEYS = ("imsi", "msc", "mcc", "mnc", "cn", "net", "rcn", "rnet")
_HEX_ERR = re.compile(r"(?:0[xX])?([0-9A-Fa-f]+)")


def parse_receipt_date(value: str, tz: tzinfo = MOSCOW) -> datetime | None:
    """Read a receipt date: ``YYMMDDhhmm``, ``YYMMDDhhmmss`` or ``YYYYMMDDhhmmss``.

    SMPP 3.4 Appendix B orders the digits year-month-day; smscentre.com/api/smpp's example
    ``1108202241`` therefore is 2011-08-20 22:41 Moscow time, a plausible date for a page whose
    examples date from the service's early years (day-first would also parse, as 11 Aug 2020,
    but nothing on smscentre.com/api/smpp or in the spec suggests the provider departs from the
    standard order). Two-digit years are 20YY. Any other length, or an impossible date, gives
    ``None``.

    :param tz: the zone the digits are in (the provider's: UTC+3).
    """
    n = len(value)
    if not (value.isascii() and value.isdigit()):
        return None
    try:
        if n == 10:
            return datetime(
                2000 + int(value[0:2]), int(value[2:4]), int(value[4:6]),
                int(value[6:8]), int(value[8:10]), tzinfo=tz,
            )  # fmt: skip
        if n == 12:
            return datetime(
                2000 + int(value[0:2]), int(value[2:4]), int(value[4:6]),
                int(value[6:8]), int(value[8:10]), int(value[10:12]), tzinfo=tz,
            )  # fmt: skip
        if n == 14:
            return datetime(
                int(value[0:4]), int(value[4:6]), int(value[6:8]),
                int(value[8:10]), int(value[10:12]), int(value[12:14]), tzinfo=tz,
            )  # fmt: skip
    except ValueError:
        return None
    return None


def _int_or_none(value: str) -> int | None:
    return int(value) if (value.isascii() and value.isdigit()) else None


def _parse_err(value: str) -> int | None:
    if value.isascii() and value.isdigit():
        return int(value)
    match = _HEX_ERR.fullmatch(value)
    return int(match[1], 16) if match else None


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


def parse_receipt_text(text: str, *, tz: tzinfo = MOSCOW) -> ReceiptText:
    """Parse a receipt's text leniently.

    Fields may come in any order and any case, any may be missing, dates may have 10, 12 or 14
    digits, ``err`` may be hex, and ``text:``/``Text:`` is always taken as the last field. The
    provider's HLR result (``imsi: msc: mcc: mnc: cn: net: rcn: rnet:``, names urlencoded with
    ``+`` for spaces; smscentre.com/api/smpp) fills :attr:`ReceiptText.hlr`. Text that is no receipt
    at all gives a record with every field ``None``; this never raises.

    :param tz: the zone receipt dates are written in (default: the provider's, UTC+3).
    """
    return _parse(text, tz, None)


_DateCache = BoundedCache[str, "datetime | None"]


def _parse(text: str, tz: tzinfo, dates: _DateCache | None) -> ReceiptText:
    return _parse_standard(text, tz, dates) or _parse_lenient(text, tz, dates)


def _date(value: str, tz: tzinfo, dates: _DateCache | None) -> datetime | None:
    # Receipts arriving together share their dates (minute resolution): a reader keeps them.
    if dates is None:
        return parse_receipt_date(value, tz)
    try:
        return dates[value]
    except KeyError:
        return dates.put(value, parse_receipt_date(value, tz))


def _parse_standard(text: str, tz: tzinfo, dates: _DateCache | None) -> ReceiptText | None:
    # The provider's layout, in one regex match.
    m = _STANDARD.fullmatch(text)
    if m is None:
        return None
    msg_id, sub, dlvrd, submit, done, stat, err, body = m.groups()
    return ReceiptText(
        message_id=msg_id or None,
        parts=int(sub) if sub else None,
        delivered_parts=int(dlvrd) if dlvrd else None,
        submitted_at=_date(submit, tz, dates),
        done_at=_date(done, tz, dates),
        stat=stat or None,
        error=_parse_err(err),
        text=body,
    )


def _parse_lenient(text: str, tz: tzinfo, dates: _DateCache | None) -> ReceiptText:
    fields: dict[str, str] = {}
    matches = list(_KEY.finditer(text))
    for i, match in enumerate(matches):
        key = match[1].lower().replace("_", " ")
        if key == "text":
            fields["text"] = text[match.end() :]
            break
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        fields.setdefault(key, text[match.end() : end].strip())
    get = fields.get
    hlr = None
    if any(key in fields for key in ("imsi", "msc", "cn", "net", "rcn", "rnet")):
        hlr = HlrInfo(
            imsi=get("imsi") or None,
            msc=get("msc") or None,
            mcc=get("mcc") or None,
            mnc=get("mnc") or None,
            country=unquote_plus(get("cn", "")) or None,
            operator=unquote_plus(get("net", "")) or None,
            roaming_country=unquote_plus(get("rcn", "")) or None,
            roaming_operator=unquote_plus(get("rnet", "")) or None,
        )
    return ReceiptText(
        message_id=get("id") or None,
        parts=_int_or_none(get("sub", "")),
        delivered_parts=_int_or_none(get("dlvrd", "")),
        submitted_at=_date(get("submit date", ""), tz, dates),
        done_at=_date(get("done date", ""), tz, dates),
        stat=get("stat") or None,
        error=_parse_err(get("err", "")),
        text=get("text"),
        hlr=hlr,
    )


# --- deliver_sm -> DeliveryReport -----------------------------------------------------------------

# esm_class bits 2-5 (SMPP 3.4 §5.2.12): 0x04 SMSC delivery receipt, 0x20 intermediate
# notification. Both report on a message we sent.
_RECEIPT_TYPES = frozenset({0x04, 0x20})
_TAG_RECEIPTED_ID = int(Tag.RECEIPTED_MESSAGE_ID)

_SHARED_MAX = 1024


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
        self._dates: _DateCache = BoundedCache(256)
        self._flags: BoundedCache[int, MessageFlags] = BoundedCache(64)
        # (text after the id without the excerpt, TLVs after receipted_message_id) -> the
        # fields of a report with that tail (the per-receipt ones are replaced on a hit).
        self._shared: BoundedCache[tuple[str, tuple[TlvPair, ...]], dict[str, Any]] = BoundedCache(
            _SHARED_MAX
        )

    def report(
        self, pdu: DeliverSm, *, text_ids: ReceiptIdStyle = ReceiptIdStyle.SAME
    ) -> DeliveryReport:
        """The report of a receipt ``deliver_sm``: see :func:`report_from_deliver_sm`.

        :param text_ids: how the SMSC writes the id in the receipt *text*.
        """
        text = _receipt_text(pdu)
        tlvs = pdu.tlvs
        space = text.find(" ")
        if space <= 3 or not text.startswith("id:"):
            return DeliveryReport(**self._read(pdu, text, text_ids))
        # The receipt's own parts: its id (TLV and text), the text excerpt (always last).
        tail = text[space:]
        cut = tail.find("ext:") - 2  # " text:" or " Text:"
        excerpt = None
        if cut >= 0 and tail[cut] == " " and tail[cut + 1] in "tT":
            excerpt = tail[cut + 6 :]
            tail = tail[:cut]
        if tlvs and tlvs[0][0] == _TAG_RECEIPTED_ID:
            receipted = _tlv.receipted_message_id(tlvs[0][1])
            key = (tail, tlvs[1:])
        else:
            receipted = ""
            key = (tail, tlvs)
        shared = self._shared.get(key)
        if shared is None:
            report = DeliveryReport(**self._read(pdu, text, text_ids))
            # Kept only when a hit would rebuild this very report (the excerpt and the id cut
            # where the parse put them; no second receipted_message_id among the shared TLVs).
            if (
                report.text == excerpt
                and report.raw_message_id == (receipted or text[3:space])
                and not any(tag == _TAG_RECEIPTED_ID for tag, _ in key[1])
            ):
                self._shared.put(key, report.__dict__.copy())
            return report
        # The remembered fields are what DeliveryReport's __init__ stored; the replaced ones
        # are given as it would store them (a canonical id, the raw one as written).
        raw_id = receipted or text[3:space]
        fields = shared.copy()
        fields["message_id"] = self._message_id(raw_id, bool(receipted), text_ids)
        fields["raw_message_id"] = raw_id
        fields["phone"] = pdu.source_addr or None
        fields["sender"] = pdu.destination_addr or None
        fields["text"] = excerpt
        return from_fields(DeliveryReport, fields)

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
        rt = _parse(text, self.tz, self._dates) if text else ReceiptText()

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


def _receipt_date(value: datetime | None, tz: tzinfo) -> str:
    return "" if value is None else value.astimezone(tz).strftime("%y%m%d%H%M")


def render_receipt_text(report: DeliveryReport, *, tz: tzinfo = MOSCOW) -> str:
    """The receipt text an SMSC writes for ``report`` (smscentre.com/api/smpp's layout; for the
    simulator).

    ``text:`` is added only when the report has a text (its first 20 characters).
    """
    err = int(report.error)
    out = (
        f"id:{report.message_id} sub:{report.parts or 1:03d} "
        f"dlvrd:{report.delivered_parts if report.delivered_parts is not None else 0:03d} "
        f"submit date:{_receipt_date(report.submitted_at, tz)} "
        f"done date:{_receipt_date(report.changed_at, tz)} "
        f"stat:{report.status.smpp_word} err:{err:03d}"
    )
    if report.text is not None:
        out += f" text:{report.text[:20]}"
    return out
