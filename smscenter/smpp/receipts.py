"""Delivery receipts and incoming messages from ``deliver_sm`` (pure: no I/O, no clock).

A receipt ``deliver_sm`` carries the same facts twice: in the standard TLVs
(``receipted_message_id`` 0x001E, ``message_state`` 0x0427, ``network_error_code`` 0x0423) and in
the text ``id:.. sub:.. dlvrd:.. submit date:.. done date:.. stat:.. err:.. text:..`` (SMPP 3.4
Appendix B; smscentre.com/api/smpp). The provider adds its own TLVs 0x2000-0x2004 (cost, flag,
parts, MCC+MNC, extra status). :func:`report_from_deliver_sm` folds all of it into one
:class:`~smscenter.models.DeliveryReport`, the same class HTTP status lookups return; where a TLV
and the text disagree the TLV wins (the order Kannel and Jasmin use).

Receipt dates carry no time zone. The provider is in Moscow, so they are read as UTC+3 by default
(:data:`PROVIDER_TZ`, a fixed offset: Moscow has kept UTC+3 all year since 2014); pass ``tz`` for
an account set to another zone.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation
from urllib.parse import unquote_plus

import attrs

from smscenter._fastinit import positional
from smscenter._provider import MOSCOW as PROVIDER_TZ
from smscenter._provider import Transport
from smscenter.ids import ReceiptIdStyle, canonical_message_id, receipt_text_id
from smscenter.models import (
    DeliveryError,
    DeliveryReport,
    ExtraStatus,
    HlrInfo,
    IncomingMessage,
    MessageFlags,
    MessageStatus,
)
from smscenter.smpp.constants import Tag
from smscenter.smpp.pdu import DeliverSm
from smscenter.smpp.reassembly import ExpiredMessage, Fragment, Reassembler
from smscenter.smpp.text import decode_text, parse_udh

__all__ = (
    "PROVIDER_TZ",
    "ReceiptText",
    "incoming_from_deliver_sm",
    "incoming_from_expired",
    "is_receipt",
    "normalize_message_id",
    "parse_receipt_date",
    "parse_receipt_text",
    "render_receipt_text",
    "report_from_deliver_sm",
)


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


# Receipts arriving together share their dates (minute resolution), so a small cache saves the
# datetime construction on the hot path; it is simply emptied when full.
_DATE_CACHES: dict[tzinfo, dict[str, datetime | None]] = {}
_DATE_CACHE_MAX = 1024


def _date_cache(tz: tzinfo) -> dict[str, datetime | None]:
    cache = _DATE_CACHES.get(tz)
    if cache is None:
        if len(_DATE_CACHES) >= 16:
            _DATE_CACHES.clear()
        cache = _DATE_CACHES[tz] = {}
    return cache


def _date(
    value: str, tz: tzinfo, cache: dict[str, datetime | None] | None = None
) -> datetime | None:
    if cache is None:
        cache = _date_cache(tz)
    try:
        return cache[value]
    except KeyError:
        pass
    if len(cache) >= _DATE_CACHE_MAX:
        cache.clear()
    result = cache[value] = parse_receipt_date(value, tz)
    return result


def parse_receipt_date(value: str, tz: tzinfo = PROVIDER_TZ) -> datetime | None:
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


def parse_receipt_text(text: str, *, tz: tzinfo = PROVIDER_TZ) -> ReceiptText:
    """Parse a receipt's text leniently.

    Fields may come in any order and any case, any may be missing, dates may have 10, 12 or 14
    digits, ``err`` may be hex, and ``text:``/``Text:`` is always taken as the last field. The
    provider's HLR result (``imsi: msc: mcc: mnc: cn: net: rcn: rnet:``, names urlencoded with
    ``+`` for spaces; smscentre.com/api/smpp) fills :attr:`ReceiptText.hlr`. Text that is no receipt
    at all gives a record with every field ``None``; this never raises.

    :param tz: the zone receipt dates are written in (default: the provider's, UTC+3).
    """
    fields = _parse_fast(text, tz)
    if fields is None:
        return _parse_lenient(text, tz)
    return ReceiptText(
        message_id=fields[0],
        parts=fields[1],
        delivered_parts=fields[2],
        submitted_at=fields[3],
        done_at=fields[4],
        stat=fields[5],
        error=fields[6],
        text=fields[7],
    )


_Fields = tuple[
    str | None, int | None, int | None, datetime | None, datetime | None, str | None,
    int | None, str | None,
]  # fmt: skip


_Tail = tuple[
    int | None, int | None, datetime | None, datetime | None, str | None, int | None, str | None
]
# Everything after the id ("sub:001 dlvrd:001 submit date:... stat:DELIVRD err:000") repeats
# across the receipts of a bulk send (same parts, same minute, same outcome), so its parse is
# cached per zone: a hit costs a find, a slice and a dict lookup instead of the regex.
_TAIL_CACHES: dict[tzinfo, dict[str, _Tail]] = {}
_TAIL_CACHE_MAX = 4096


def _parse_fast(text: str, tz: tzinfo) -> _Fields | None:
    # The hot path for report_from_deliver_sm: a plain tuple, no record to build.
    cache = _TAIL_CACHES.get(tz)
    if cache is None:
        if len(_TAIL_CACHES) >= 16:
            _TAIL_CACHES.clear()
        cache = _TAIL_CACHES[tz] = {}
    space = text.find(" ")
    if space > 3 and text.startswith("id:"):
        tail = cache.get(text[space:])
        if tail is not None:
            return (text[3:space], *tail)
    m = _STANDARD.fullmatch(text)
    if m is None:
        return None
    msg_id, sub, dlvrd, submit, done, stat, err, body = m.groups()
    parsed: _Tail = (
        int(sub) if sub else None,
        int(dlvrd) if dlvrd else None,
        _date(submit, tz),
        _date(done, tz),
        stat or None,
        int(err) if (err.isascii() and err.isdigit()) else _parse_err(err),
        body,
    )
    if msg_id and space == 3 + len(msg_id):
        if len(cache) >= _TAIL_CACHE_MAX:
            cache.clear()
        cache[text[space:]] = parsed
    return (msg_id or None, *parsed)


def _parse_lenient(text: str, tz: tzinfo) -> ReceiptText:
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
        submitted_at=_date(get("submit date", ""), tz),
        done_at=_date(get("done date", ""), tz),
        stat=get("stat") or None,
        error=_parse_err(get("err", "")),
        text=get("text"),
        hlr=hlr,
    )


# --- deliver_sm -> model --------------------------------------------------------------------------

# esm_class bits 2-5 (SMPP 3.4 §5.2.12): 0x04 SMSC delivery receipt, 0x20 intermediate
# notification. Both report on a message we sent.
_RECEIPT_TYPES = frozenset({0x04, 0x20})
_UDHI = 0x40

_TAG_RECEIPTED_ID = int(Tag.RECEIPTED_MESSAGE_ID)
_TAG_PAYLOAD = int(Tag.MESSAGE_PAYLOAD)
_TAG_SAR_REF = int(Tag.SAR_MSG_REF_NUM)
_TAG_SAR_TOTAL = int(Tag.SAR_TOTAL_SEGMENTS)
_TAG_SAR_SEQ = int(Tag.SAR_SEGMENT_SEQNUM)

_EMPTY_FIELDS: _Fields = (None, None, None, None, None, None, None, None)
_NO_TLVS: dict[int, bytes] = {}
# Enum members and lookups resolved once: the receipt path runs for every message sent.
_SMPP = Transport.SMPP
_UNKNOWN = MessageStatus.UNKNOWN
_DELIVERED = MessageStatus.DELIVERED
_NO_ERROR = DeliveryError.NO_ERROR
_STATE_STATUS = {state: MessageStatus.from_message_state(state) for state in range(10)}
_make_report = positional(DeliveryReport)
_SAME = ReceiptIdStyle.SAME
_AUTO = ReceiptIdStyle.AUTO
# report_from_deliver_sm passes the fields positionally: a model change must fail here, loudly.
_REPORT_FIELDS = (
    "message_id", "status", "raw_status", "phone", "error", "changed_at", "submitted_at",
    "parts", "delivered_parts", "cost", "mcc", "mnc", "flags", "message_type", "extra_status",
    "hlr", "call", "operator_error", "sender", "text", "comment", "status_text", "country",
    "operator", "region", "client_id", "transport", "raw_message_id",
)  # fmt: skip
if tuple(f.name for f in attrs.fields(DeliveryReport)) != _REPORT_FIELDS:  # pragma: no cover
    raise ImportError("DeliveryReport's fields changed: update report_from_deliver_sm")
_WORD_STATUS = {
    word: MessageStatus.from_smpp_word(word)
    for word in ("DELIVRD", "UNDELIV", "EXPIRED", "ENROUTE", "ACCEPTD", "REJECTD", "DELETED")
}
_FLAGS_CACHE: dict[int, MessageFlags] = {}
_ERROR_CACHE: dict[int, DeliveryError] = {}
_EXTRA_CACHE: dict[int, ExtraStatus] = {}


def _error(code: int) -> DeliveryError:
    error = _ERROR_CACHE.get(code)
    if error is None:
        error = DeliveryError(code)
        if len(_ERROR_CACHE) < 1024:
            _ERROR_CACHE[code] = error
    return error


def _extra(value: int) -> ExtraStatus:
    extra = _EXTRA_CACHE.get(value)
    if extra is None:
        extra = ExtraStatus(value)
        if len(_EXTRA_CACHE) < 1024:
            _EXTRA_CACHE[value] = extra
    return extra


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


def _cstr(value: bytes) -> str:
    # Up to the first NUL; lenient when an SMSC leaves the NUL out.
    return value.partition(b"\0")[0].decode("latin-1")


def _network_error(value: bytes) -> int | None:
    # SMPP 3.4 §5.3.2.31: a network type octet, then a 2-octet error code. Some SMSCs write the
    # code as three ASCII digits instead (Kannel copes with both).
    if len(value) == 3:
        if value.isdigit():
            return int(value)
        return (value[1] << 8) | value[2]
    text = _cstr(value)
    return int(text) if (text.isascii() and text.isdigit()) else None


_COST_CACHE: dict[bytes, Decimal] = {}
_MCCMNC_CACHE: dict[bytes, tuple[str | None, str | None]] = {}


def _cost(value: bytes) -> Decimal | None:
    # smscentre.com/api/smpp: " n.nnnn", a C-string that may start with a space.
    try:
        cost = Decimal(_cstr(value).strip())
    except InvalidOperation:
        return None
    if len(_COST_CACHE) < 1024:
        _COST_CACHE[value] = cost
    return cost


def _mccmnc(value: bytes) -> tuple[str | None, str | None]:
    # smscentre.com/api/smpp: MCC+MNC as one digit string; the MCC is always 3 digits (ITU-T E.212).
    digits = _cstr(value).strip()
    pair = (digits[:3] or None, digits[3:] or None)
    if len(_MCCMNC_CACHE) < 1024:
        _MCCMNC_CACHE[value] = pair
    return pair


def _flags(value: int) -> MessageFlags:
    flags = _FLAGS_CACHE.get(value)
    if flags is None:
        flags = MessageFlags.from_int(value)
        if len(_FLAGS_CACHE) < 1024:
            _FLAGS_CACHE[value] = flags
    return flags


def report_from_deliver_sm(
    pdu: DeliverSm,
    *,
    tz: tzinfo = PROVIDER_TZ,
    hex_ids: bool = False,
    text_ids: ReceiptIdStyle = ReceiptIdStyle.SAME,
) -> DeliveryReport:
    """Turn a receipt ``deliver_sm`` into a :class:`~smscenter.models.DeliveryReport`.

    Reads the receipt text (:func:`parse_receipt_text`), the standard TLVs
    (``receipted_message_id`` 0x001E, ``message_state`` 0x0427, ``network_error_code`` 0x0423)
    and the provider's (smscentre.com/api/smpp: cost 0x2000, flag 0x2001, parts 0x2002, MCC+MNC
    0x2003, extra status 0x2004). Where a TLV and the text both say something, the TLV wins. The id
    is made canonical (:func:`smscenter.ids.canonical_message_id`). In a receipt ``source_addr``
    is the recipient of the original message (:attr:`~smscenter.models.DeliveryReport.phone`) and
    ``destination_addr`` its sender.

    A delivered message whose extra status says "link clicked" or "read" reports
    :attr:`~smscenter.models.MessageStatus.LINK_CLICKED` / ``READ``, as HTTP status does;
    :attr:`~smscenter.models.DeliveryReport.raw_status` keeps the ``stat:`` word (or the
    ``message_state`` number when there is no text).

    Never raises for odd content: missing or malformed fields are simply absent.

    :param tz: the zone receipt dates are written in (default: the provider's, UTC+3).
    :param hex_ids: the SMSC writes hexadecimal ids that ``submit_sm_resp`` gave in decimal
        (in the TLV and the text alike).
    :param text_ids: how the SMSC writes the id in the receipt *text*
        (:class:`~smscenter.ids.ReceiptIdStyle`); used only when there is no
        ``receipted_message_id`` TLV. ``AUTO`` reads it as ``SAME``: the detection lives in the
        pool, which sees the sends.
    """
    # One dict lookup per tag instead of an if-chain per TLV (a repeated tag: the last wins).
    # A comprehension, because dict() takes a slow path for tuple subclasses such as Tlv.
    tlvs = {tlv[0]: tlv[1] for tlv in pdu.tlvs} if pdu.tlvs else _NO_TLVS
    data = pdu.short_message or tlvs.get(0x0424, b"")  # message_payload when no short_message
    value = tlvs.get(0x001E)  # receipted_message_id
    receipted_id = _cstr(value) if value is not None else None
    value = tlvs.get(0x0427)  # message_state
    state = value[0] if value is not None and len(value) == 1 else None
    value = tlvs.get(0x0423)  # network_error_code
    net_err = _network_error(value) if value is not None else None
    cost = flags = parts = extra = None
    mcc = mnc = None
    # The provider's TLVs (smscentre.com/api/smpp); their raw values repeat, so the parsed forms are
    # cached.
    value = tlvs.get(0x2000)
    if value is not None:
        cost = _COST_CACHE.get(value) or _cost(value)
    value = tlvs.get(0x2001)
    if value is not None and len(value) == 2:
        flags = _flags((value[0] << 8) | value[1])
    value = tlvs.get(0x2002)
    if value is not None and len(value) == 2:
        parts = (value[0] << 8) | value[1]
    value = tlvs.get(0x2003)
    if value is not None:
        mcc, mnc = _MCCMNC_CACHE.get(value) or _mccmnc(value)
    value = tlvs.get(0x2004)
    if value is not None and len(value) == 2:
        extra = (value[0] << 8) | value[1]
    # Receipt text is written by the SMSC in ASCII (SMPP 3.4 Appendix B), whatever data_coding
    # says, except that UCS-2 really is UCS-2.
    text = data.decode("utf-16-be", "replace") if pdu.data_coding == 8 else data.decode("latin-1")
    fields = _parse_fast(text, tz)
    hlr = None
    if fields is None:
        if text:
            rt = _parse_lenient(text, tz)
            hlr = rt.hlr
            fields = (
                rt.message_id, rt.parts, rt.delivered_parts, rt.submitted_at, rt.done_at,
                rt.stat, rt.error, rt.text,
            )  # fmt: skip
        else:
            fields = _EMPTY_FIELDS
    text_id, text_parts, dlvrd, submitted_at, done_at, stat, text_err, excerpt = fields

    raw_id = receipted_id if receipted_id else text_id
    if not raw_id:
        message_id = ""
    elif hex_ids:
        message_id = normalize_message_id(raw_id, hex_ids=True)
    elif receipted_id or text_ids is _SAME or text_ids is _AUTO:
        if raw_id.isdigit() and raw_id.isascii() and raw_id[0] != "0":
            message_id = raw_id  # the provider's usual decimal id: canonical already
        else:
            message_id = canonical_message_id(raw_id)
    else:
        # Only the text's id may be in another base; the TLV carries submit_sm_resp's id.
        message_id = receipt_text_id(raw_id, text_ids) or canonical_message_id(raw_id)
    if state is not None:
        status = _STATE_STATUS.get(state, _UNKNOWN)
    elif stat is not None:
        status = _WORD_STATUS.get(stat) or MessageStatus.from_smpp_word(stat)
    else:
        status = _UNKNOWN
    raw_status = stat if stat is not None else ("" if state is None else str(state))
    extra_status = None
    if extra is not None:
        extra_status = _extra(extra)
        if extra and status is _DELIVERED:
            if extra & 4:  # link clicked
                status = MessageStatus.LINK_CLICKED
            elif extra & 2:  # read
                status = MessageStatus.READ
    err = net_err if net_err is not None else text_err
    if mcc is None and hlr is not None:
        mcc, mnc = hlr.mcc, hlr.mnc
    # Positional, in field order (checked at import below): a keyword call spends most of
    # its time matching the 28 keyword arguments, and this runs once per receipt.
    return _make_report(
        message_id,  # message_id
        status,  # status
        raw_status,  # raw_status
        pdu.source_addr or None,  # phone
        _NO_ERROR if not err else _error(err),  # error
        done_at,  # changed_at
        submitted_at,  # submitted_at
        parts if parts is not None else text_parts,  # parts
        dlvrd,  # delivered_parts
        cost,  # cost
        mcc,  # mcc
        mnc,  # mnc
        flags,  # flags
        None,  # message_type (__attrs_post_init__ derives it from flags)
        extra_status,  # extra_status
        hlr,  # hlr
        None,  # call
        None,  # operator_error
        pdu.destination_addr or None,  # sender
        excerpt,  # text
        None,  # comment
        None,  # status_text
        None,  # country
        None,  # operator
        None,  # region
        None,  # client_id: SMPP has no field for it (SMPP 3.4 §4.6.1)
        _SMPP,  # transport
        raw_id or "",  # raw_message_id
    )


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
        data = pdu.tlv(_TAG_PAYLOAD) or b""
    reference = total = seq = None
    if pdu.esm_class & _UDHI:
        udh, data = parse_udh(data)
        reference, total, seq = udh.reference, udh.total, udh.seq
    if reference is None:
        ref_raw, total_raw, seq_raw = (
            pdu.tlv(_TAG_SAR_REF),
            pdu.tlv(_TAG_SAR_TOTAL),
            pdu.tlv(_TAG_SAR_SEQ),
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


def _receipt_date(value: datetime | None, tz: tzinfo) -> str:
    return "" if value is None else value.astimezone(tz).strftime("%y%m%d%H%M")


def render_receipt_text(report: DeliveryReport, *, tz: tzinfo = PROVIDER_TZ) -> str:
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
