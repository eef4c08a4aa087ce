"""Delivery receipts and incoming messages from ``deliver_sm`` (pure: no I/O, no clock).

A receipt ``deliver_sm`` carries the same facts twice: in the standard TLVs
(``receipted_message_id`` 0x001E, ``message_state`` 0x0427, ``network_error_code`` 0x0423) and in
the text ``id:.. sub:.. dlvrd:.. submit date:.. done date:.. stat:.. err:.. text:..`` (SMPP 3.4
Appendix B; seed 003). The provider adds its own TLVs 0x2000-0x2004 (cost, flag, parts, MCC+MNC,
extra status). :func:`report_from_deliver_sm` folds all of it into one
:class:`~smscenter.models.DeliveryReport`, the same class HTTP status lookups return; where a TLV
and the text disagree the TLV wins (the order Kannel and Jasmin use, smpp-notes §4.4).

Receipt dates carry no time zone. The provider is in Moscow, so they are read as UTC+3 by default
(:data:`PROVIDER_TZ`, a fixed offset: Moscow has kept UTC+3 all year since 2014); pass ``tz`` for
an account set to another zone.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from urllib.parse import unquote_plus

import attrs

from smscenter.models import HlrInfo

__all__ = (
    "PROVIDER_TZ",
    "ReceiptText",
    "normalize_message_id",
    "parse_receipt_date",
    "parse_receipt_text",
)

#: The provider's clock: Moscow, UTC+3 (seed 003 gives no zone; the service runs on Moscow time).
PROVIDER_TZ: tzinfo = timezone(timedelta(hours=3), "MSK")


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
    :ivar hlr: the HLR fields (``imsi:``, ``msc:``, ``mcc:``... seed 003), when present.
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


# The exact layout of seed 003's example (plus the optional text): one regex match, no loop.
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
_DATE_CACHE: dict[tuple[str, tzinfo], datetime | None] = {}
_DATE_CACHE_MAX = 1024


def _date(value: str, tz: tzinfo) -> datetime | None:
    key = (value, tz)
    try:
        return _DATE_CACHE[key]
    except KeyError:
        pass
    if len(_DATE_CACHE) >= _DATE_CACHE_MAX:
        _DATE_CACHE.clear()
    result = _DATE_CACHE[key] = parse_receipt_date(value, tz)
    return result


def parse_receipt_date(value: str, tz: tzinfo = PROVIDER_TZ) -> datetime | None:
    """Read a receipt date: ``YYMMDDhhmm``, ``YYMMDDhhmmss`` or ``YYYYMMDDhhmmss``.

    SMPP 3.4 Appendix B orders the digits year-month-day; seed 003's example
    ``1108202241`` therefore is 2011-08-20 22:41 Moscow time, a plausible date for a page whose
    examples date from the service's early years (day-first would also parse, as 11 Aug 2020,
    but nothing in the seed or the spec suggests the provider departs from the standard order).
    Two-digit years are 20YY. Any other length, or an impossible date, gives ``None``.

    :param tz: the zone the digits are in (the provider's: UTC+3).
    """
    n = len(value)
    if not value.isdigit():
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
    return int(value) if value.isdigit() else None


def _parse_err(value: str) -> int | None:
    if value.isdigit():
        return int(value)
    match = _HEX_ERR.fullmatch(value)
    return int(match[1], 16) if match else None


def normalize_message_id(value: str, *, hex_ids: bool = False) -> str:
    """Normalise a message id so receipts match what ``submit_sm_resp`` returned.

    Whitespace and leading zeros go, letters become upper case (smpp-notes §4.4). With
    ``hex_ids=True`` (an SMSC that writes hexadecimal ids in receipts but returned decimal ones)
    the id is converted to decimal, as Kannel's ``msg-id-type`` does.
    """
    value = value.strip()
    if hex_ids:
        try:
            return str(int(value, 16))
        except ValueError:
            pass
    stripped = value.lstrip("0")
    if not stripped:
        return "0" if value else ""
    return stripped.upper() if not stripped.isdigit() else stripped


def parse_receipt_text(text: str, *, tz: tzinfo = PROVIDER_TZ) -> ReceiptText:
    """Parse a receipt's text leniently.

    Fields may come in any order and any case, any may be missing, dates may have 10, 12 or 14
    digits, ``err`` may be hex, and ``text:``/``Text:`` is always taken as the last field. The
    provider's HLR result (``imsi: msc: mcc: mnc: cn: net: rcn: rnet:``, names urlencoded with
    ``+`` for spaces; seed 003) fills :attr:`ReceiptText.hlr`. Text that is no receipt at all
    gives a record with every field ``None``; this never raises.

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


def _parse_fast(text: str, tz: tzinfo) -> _Fields | None:
    # The hot path for report_from_deliver_sm: a plain tuple, no record to build.
    m = _STANDARD.fullmatch(text)
    if m is None:
        return None
    msg_id, sub, dlvrd, submit, done, stat, err, body = m.groups()
    return (
        msg_id or None,
        int(sub) if sub else None,
        int(dlvrd) if dlvrd else None,
        _date(submit, tz),
        _date(done, tz),
        stat or None,
        int(err) if err.isdigit() else _parse_err(err),
        body,
    )


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
