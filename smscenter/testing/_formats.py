"""The provider's codes and formats as the simulator writes and reads them.

Status codes and names, message type numbers, the GSM 03.38 part count, money and dates as the
provider prints them, phone and e-mail recognition, a small operator table for lookups and HLR,
send.php's ``time`` and ``valid`` forms, and the error answer (:class:`SimError`)
(https://smscentre.com/api/http/: send.php, status.php, statuses, "Message types"). Pure
functions and constants.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from smscenter._provider import COMMENT_SEPARATOR, MOSCOW

# Status codes of status.php (smscentre.com/api/http).
ST_NOT_FOUND = -3
ST_QUEUED = -1
ST_TRANSMITTED = 0
ST_DELIVERED = 1
FINAL_STATUSES = frozenset({-2, 1, 2, 3, 4, 20, 22, 23, 24, 25})

# Message type numbers (callback ``type`` / ``flag`` bits 0-3, smscentre.com/api/http).
TYPE_SMS, TYPE_FLASH, TYPE_BIN, TYPE_PUSH, TYPE_HLR, TYPE_PING = 0, 1, 2, 3, 4, 5
TYPE_MMS, TYPE_CALL, TYPE_MAIL, TYPE_VIBER, TYPE_SOC = 6, 7, 8, 10, 12

#: The kind each type number stands for (the values of ``smscenter.MessageKind``).
KIND_OF_TYPE: Mapping[int, str] = {
    TYPE_SMS: "sms",
    TYPE_FLASH: "flash",
    TYPE_BIN: "binary",
    TYPE_PUSH: "wap_push",
    TYPE_HLR: "hlr",
    TYPE_PING: "ping",
    TYPE_MMS: "mms",
    TYPE_CALL: "call",
    TYPE_MAIL: "email",
    TYPE_VIBER: "viber",
    TYPE_SOC: "social",
}
#: Kinds the provider's type list (0-7, 8 e-mail, 10, 12; smscentre.com/api/http) has no number
#: for. They are billed and addressed like social-network messages, but the simulator keeps their
#: own kind and leaves ``type``/``flag`` out of its answers rather than report them as "social".
UNTYPED_KINDS = frozenset({"telegram", "bot"})

STATUS_NAMES: Mapping[int, str] = {
    -3: "Message not found",
    -2: "Stopped",
    -1: "Waiting to be sent",
    0: "Transmitted to the operator",
    1: "Delivered",
    2: "Read",
    3: "Expired",
    4: "Link clicked",
    20: "Impossible to deliver",
    22: "Invalid number",
    23: "Prohibited",
    24: "Insufficient funds",
    25: "Number unavailable",
}


class SimError(Exception):
    """A provider error answer: ``code`` (1..11), short English ``text``, optional message id."""

    def __init__(self, code: int, text: str, message_id: int | None = None) -> None:
        super().__init__(code, text, message_id)
        self.code = code
        self.text = text
        self.message_id = message_id


# GSM 03.38 default alphabet and its extension table (extension characters take two septets).
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXT = frozenset("^{}\\[~]|€\f")


def split_comment(text: str) -> tuple[str, str | None]:
    """Split off the ``\\n~~~\\n`` comment suffix, which is stored but neither sent nor billed."""
    body, sep, comment = text.partition(COMMENT_SEPARATOR)
    return (body, comment) if sep else (text, None)


def count_parts(text: str, *, latin: bool | None = None) -> int:
    """How many SMS parts the provider bills for ``text`` (comment already removed).

    160 GSM characters (extension characters count twice) or 70 UCS-2 characters fit one SMS;
    a longer text is split into parts of 153 / 67 (the rest is the concatenation header).

    :param latin: force the 7-bit (True) or UCS-2 (False) count, e.g. after transliteration.
    """
    if latin is None:
        latin = all(c in _GSM_BASIC or c in _GSM_EXT for c in text)
    if latin:
        length = sum(2 if c in _GSM_EXT else 1 for c in text)
        single, part = 160, 153
    else:
        length = len(text)
        single, part = 70, 67
    if length <= single:
        return 1
    return math.ceil(length / part)


def truncate_to_parts(text: str, max_parts: int) -> str:
    """Cut ``text`` so that it fits ``max_parts`` parts (the provider's ``maxsms``)."""
    while text and count_parts(text) > max_parts:
        latin = all(c in _GSM_BASIC or c in _GSM_EXT for c in text)
        limit = (160 if latin else 70) if max_parts == 1 else (153 if latin else 67) * max_parts
        text = text[: min(len(text) - 1, limit)]
    return text


def format_money(amount: Decimal) -> str:
    """Money the way the provider writes it: ``"4.1"``, ``"83.6"``, ``"1871.62"``, ``"4.0"``."""
    text = f"{amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):f}"
    return text[:-1] if text.endswith("0") else text


def format_date(ts: float, *, with_year4: bool = True) -> str:
    """``DD.MM.YYYY hh:mm:ss`` in the account's (Moscow) time zone."""
    fmt = "%d.%m.%Y %H:%M:%S" if with_year4 else "%d.%m.%y %H:%M:%S"
    return datetime.fromtimestamp(ts, MOSCOW).strftime(fmt)


_PHONE_RE = re.compile(r"\+?\d{10,15}")
_SEPARATORS = re.compile(r"[\s()\-]")


def normalize_phone(raw: str) -> str | None:
    """The digits of a phone number, or ``None`` when it is not a valid international number."""
    candidate = _SEPARATORS.sub("", raw)
    if not _PHONE_RE.fullmatch(candidate):
        return None
    digits = candidate.lstrip("+")
    # The provider corrects a Russian trunk prefix 8 when no "+" is given.
    if not candidate.startswith("+") and len(digits) == 11 and digits.startswith("8"):
        digits = "7" + digits[1:]
    return digits


_EMAIL_RE = re.compile(r"[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+")

# A few operators for operator lookup and HLR: prefix -> (country, operator, region, mcc, mnc, tz).
OPERATORS: tuple[tuple[str, tuple[str, str, str, str, str, str]], ...] = (
    ("7916", ("Russia", "MTS", "Moscow", "250", "01", "3")),
    ("7925", ("Russia", "MegaFon", "Moscow", "250", "02", "3")),
    ("7926", ("Russia", "MegaFon", "Moscow", "250", "02", "3")),
    ("7903", ("Russia", "Beeline", "Moscow", "250", "99", "3")),
    ("7905", ("Russia", "Beeline", "Moscow", "250", "99", "3")),
    ("7900", ("Russia", "Tele2", "Moscow", "250", "20", "3")),
    ("7977", ("Russia", "Tele2", "Moscow", "250", "20", "3")),
    ("77", ("Kazakhstan", "Kcell", "Almaty", "401", "02", "6")),
    ("7", ("Russia", "MTS", "Moscow", "250", "01", "3")),
    ("380", ("Ukraine", "Kyivstar", "Kyiv", "255", "03", "2")),
    ("375", ("Belarus", "A1", "Minsk", "257", "01", "3")),
    ("1", ("USA", "T-Mobile", "", "310", "260", "-5")),
    ("44", ("United Kingdom", "Vodafone", "", "234", "15", "0")),
    ("49", ("Germany", "Telekom", "", "262", "01", "1")),
)


def lookup_operator(phone: str) -> tuple[str, str, str, str, str, str] | None:
    """(country, operator, region, mcc, mnc, tz) for a normalized phone, or ``None``."""
    for prefix, info in OPERATORS:
        if phone.startswith(prefix):
            return info
    return None


def parse_schedule(value: str, now: float, tz_hours: float = 0.0) -> float | None:
    """Decode send.php ``time`` into Unix seconds (``None`` = now).

    Forms (smscentre.com/api/http, send.php): ``DDMMYYhhmm``, ``DD.MM.YY hh:mm``, ``h1-h2`` hour
    window, ``0<unix ts>``, ``+<minutes>``, ``0``. ``tz`` is hours relative to Moscow.

    :raises SimError: code 5 for anything else.
    """
    value = value.strip()
    zone = timezone(timedelta(hours=3 + tz_hours))
    if value in ("", "0"):
        return None
    if value.startswith("+"):
        if value[1:].isdigit():
            return now + int(value[1:]) * 60
        raise SimError(5, "invalid time format")
    if value.startswith("0") and value.isdigit() and len(value) > 2:
        return float(int(value[1:]))
    match = re.fullmatch(r"(\d{1,2})-(\d{1,2})", value)
    if match:
        h1, h2 = int(match[1]), int(match[2])
        if not (0 <= h1 <= 24 and 0 <= h2 <= 24):
            raise SimError(5, "invalid time format")
        local = datetime.fromtimestamp(now, zone)
        if h1 <= local.hour < h2:
            return None
        start = local.replace(hour=h1 % 24, minute=0, second=0, microsecond=0)
        if local.hour >= h2:
            start += timedelta(days=1)
        return start.timestamp()
    for pattern in ("%d%m%y%H%M", "%d.%m.%y %H:%M", "%d.%m.%Y %H:%M"):
        try:
            parsed = datetime.strptime(value, pattern)
        except ValueError:
            continue
        return parsed.replace(tzinfo=zone).timestamp()
    raise SimError(5, "invalid time format")


def parse_validity(value: str) -> float:
    """Decode ``valid`` (1..24 hours or ``hh:mm`` from 00:01 to 24:00) into seconds.

    :raises SimError: code 1 when out of range.
    """
    value = value.strip()
    if value.isdigit() and 1 <= int(value) <= 24:
        return int(value) * 3600.0
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value)
    if match:
        seconds = int(match[1]) * 3600 + int(match[2]) * 60
        if 60 <= seconds <= 24 * 3600 and int(match[2]) < 60:
            return float(seconds)
    raise SimError(1, "invalid valid value")
