"""Facts about the provider that hold across its channels (HTTP, SMPP, SMTP, webhooks).

Each is defined here once and imported where a transport needs it.
"""

from __future__ import annotations

import enum
from datetime import timedelta, timezone, tzinfo
from typing import Any, Final

__all__ = ("COMMENT_SEPARATOR", "MOSCOW", "Transport", "unknown_member")

#: The provider's clock: times without a zone in its answers, receipts and callbacks are Moscow
#: time, a fixed UTC+3 (Moscow has kept UTC+3 all year since 2014).
MOSCOW: Final[tzinfo] = timezone(timedelta(hours=3), "MSK")

#: What separates a message's text from the comment appended to it (send.php ``mes``; the
#: provider keeps the comment out of what the recipient sees).
COMMENT_SEPARATOR: Final = "\n~~~\n"


class Transport(enum.Enum):
    """Which of the provider's channels a value or an error came through."""

    HTTP = "http"
    SMPP = "smpp"
    SMTP = "smtp"
    WEBHOOK = "webhook"


def unknown_member(cls: type[Any], value: object) -> Any:
    """Make a pseudo-member of an int enum for a value the provider sends that has no name here.

    For an ``IntEnum``'s ``_missing_``: unknown wire values are kept, never fatal, so a new code
    from the provider survives a decode/encode round trip (``DeliveryError(999)`` reads
    ``DeliveryError.UNKNOWN_999``). Anything but an int gets ``None`` (the usual ValueError).
    """
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    member = int.__new__(cls, value)
    member._name_ = f"UNKNOWN_{value}"
    member._value_ = value
    return member
