"""The text of a delivery receipt (pure: no I/O, no clock): ``id:.. sub:.. dlvrd:.. submit date:..
done date:.. stat:.. err:.. text:..`` (SMPP 3.4 Appendix B; smscentre.com/api/smpp), read into a
:class:`ReceiptText` and written back by :func:`render_receipt_text` (the simulator's receipts).

The provider's exact layout is read with one regex match; anything else (fields in another
order or case, missing fields, the provider's HLR fields) by a lenient scan that never raises.
Receipt dates carry no time zone: they are read in the zone given (the provider's, UTC+3, by
default). :mod:`smscenter.smpp.receipts` folds the text and the TLVs into a report.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING
from urllib.parse import unquote_plus

import attrs

from smscenter._cache import BoundedCache
from smscenter._fastinit import fast_init
from smscenter._provider import MOSCOW
from smscenter.models import HlrInfo

if TYPE_CHECKING:
    from smscenter.models import DeliveryReport

__all__ = (
    "DateCache",
    "ReceiptText",
    "parse_receipt_date",
    "parse_receipt_text",
    "read_text",
    "render_receipt_text",
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


def parse_receipt_text(text: str, *, tz: tzinfo = MOSCOW) -> ReceiptText:
    """Parse a receipt's text leniently.

    Fields may come in any order and any case, any may be missing, dates may have 10, 12 or 14
    digits, ``err`` may be hex, and ``text:``/``Text:`` is always taken as the last field. The
    provider's HLR result (``imsi: msc: mcc: mnc: cn: net: rcn: rnet:``, names urlencoded with
    ``+`` for spaces; smscentre.com/api/smpp) fills :attr:`ReceiptText.hlr`. Text that is no receipt
    at all gives a record with every field ``None``; this never raises.

    :param tz: the zone receipt dates are written in (default: the provider's, UTC+3).
    """
    return read_text(text, tz, None)


#: Parsed receipt dates by their digits (owned by a reader, bounded).
DateCache = BoundedCache[str, "datetime | None"]


def read_text(text: str, tz: tzinfo, dates: DateCache | None) -> ReceiptText:
    """:func:`parse_receipt_text` with a cache of parsed dates (a :class:`ReceiptReader
    <smscenter.smpp.receipts.ReceiptReader>`'s: receipts arriving together share them)."""
    return _parse_standard(text, tz, dates) or _parse_lenient(text, tz, dates)


def _date(value: str, tz: tzinfo, dates: DateCache | None) -> datetime | None:
    # Receipts arriving together share their dates (minute resolution): a reader keeps them.
    if dates is None:
        return parse_receipt_date(value, tz)
    try:
        return dates[value]
    except KeyError:
        return dates.put(value, parse_receipt_date(value, tz))


def _parse_standard(text: str, tz: tzinfo, dates: DateCache | None) -> ReceiptText | None:
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


def _parse_lenient(text: str, tz: tzinfo, dates: DateCache | None) -> ReceiptText:
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
