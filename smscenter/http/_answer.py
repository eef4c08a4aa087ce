"""Reading the provider's fmt=3 answers: error answers to typed exceptions, and the value decoders.

An ``{"error": ..., "error_code": N}`` answer becomes the :class:`~smscenter.exceptions.APIError`
subclass the script's documentation gives that code (https://smscentre.com/api/http/, per
script); money, integers, Unix timestamps and the provider's local date texts decode to
:class:`~decimal.Decimal`, :class:`int` and aware :class:`~datetime.datetime` values, and any
answer of the wrong shape to :class:`~smscenter.exceptions.RemoteProtocolError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from smscenter.exceptions import (
    APIError,
    AuthenticationError,
    BlacklistedError,
    DuplicateRequestError,
    InsufficientFundsError,
    InvalidRecipientError,
    InvalidTimeError,
    IPBlockedError,
    MessageForbiddenError,
    NotFoundError,
    OperationFailedError,
    ParameterError,
    RemoteProtocolError,
    UndeliverableError,
    VerificationCodeError,
)
from smscenter.http._request import Request

# --- errors ---------------------------------------------------------------------------------------

#: Meanings shared by every script.
_COMMON_ERRORS: Final[dict[int, type[APIError]]] = {
    1: ParameterError,
    2: AuthenticationError,
    4: IPBlockedError,
    9: DuplicateRequestError,
    10: VerificationCodeError,
}

#: Per-script meanings of the other codes (smscentre.com/api/http, per script).
ERRORS_BY_COMMAND: Final[dict[str, dict[int, type[APIError]]]] = {
    "send": {
        3: InsufficientFundsError,
        5: InvalidTimeError,
        6: MessageForbiddenError,
        7: InvalidRecipientError,
        8: UndeliverableError,
    },
    "status": {3: NotFoundError, 5: OperationFailedError},
    "balance": {},
    "get": {3: NotFoundError},
    "info": {3: NotFoundError},
    "receive_phones": {3: InsufficientFundsError},
    # 6: the price could not be worked out because of the account's own restrictions.
    "wait_call": {3: InsufficientFundsError, 5: BlacklistedError, 6: OperationFailedError},
    "downloads": {5: NotFoundError},
    "jobs": {3: OperationFailedError, 5: InvalidTimeError},
    "phones": {3: NotFoundError, 5: OperationFailedError},
    "templates": {3: NotFoundError, 5: OperationFailedError},
    "tinyurls": {3: NotFoundError},
    "ping": {3: NotFoundError},
    "users": {3: NotFoundError, 5: OperationFailedError},
    "senders": {
        3: NotFoundError,
        5: OperationFailedError,
        7: InvalidRecipientError,
        8: UndeliverableError,
        11: VerificationCodeError,
    },
}

#: send.php returns the id it assigned anyway with these errors (smscentre.com/api/http, send.php).
_SEND_ERRORS_WITH_ID: Final = frozenset({3, 6, 7, 8})


def error_class(command: str, code: int) -> type[APIError]:
    """The exception class for provider error ``code`` from script ``command``."""
    specific = ERRORS_BY_COMMAND.get(command, {})
    return specific.get(code) or _COMMON_ERRORS.get(code) or APIError


def error_from_answer(request: Request, data: Mapping[str, Any]) -> APIError:
    """Build the typed error for an ``{"error": ..., "error_code": N}`` answer."""
    try:
        code = int(data["error_code"])
    except (TypeError, ValueError) as exc:
        raise RemoteProtocolError(f"{request.action}: error answer without a numeric code") from exc
    description = str(data.get("error") or "")
    message_id = None
    if request.command == "send" and code in _SEND_ERRORS_WITH_ID and data.get("id") is not None:
        message_id = str(data["id"])
    cls = error_class(request.command, code)
    return cls(code, description, message_id=message_id, endpoint=request.action)


def check_answer(request: Request, data: Any) -> Any:
    """Raise the typed :class:`~smscenter.exceptions.APIError` if ``data`` is an error answer.

    :returns: ``data`` unchanged otherwise.
    """
    if isinstance(data, Mapping) and "error_code" in data:
        raise error_from_answer(request, data)
    return data


# --- value decoding -----------------------------------------------------------------------------

_LOCAL_FORMATS: Final = (
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%y %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%d.%m.%Y",
)


def parse_money(value: Any) -> Decimal | None:
    """The provider writes money as decimal strings (``"4.1"``); ``None`` when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RemoteProtocolError(f"not an amount: {value!r}")
    try:
        return Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise RemoteProtocolError(f"not an amount: {value!r}") from exc


def _money(value: Any) -> Decimal:
    amount = parse_money(value)
    return Decimal(0) if amount is None else amount


def parse_int(value: Any, default: int | None = None) -> int | None:
    """An integer that may arrive as int or string; ``default`` when absent."""
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise RemoteProtocolError(f"not an integer: {value!r}") from exc


def _int(value: Any, default: int = 0) -> int:
    result = parse_int(value, default)
    assert result is not None
    return result


def parse_timestamp(value: Any) -> datetime | None:
    """A Unix timestamp as an aware UTC datetime; 0 or absent is ``None``."""
    seconds = parse_int(value)
    if not seconds:
        return None
    return datetime.fromtimestamp(seconds, UTC)


def parse_local(value: Any, tz: tzinfo) -> datetime | None:
    """A date the provider writes as account-local text, made aware in ``tz``."""
    if value is None:
        return None
    text = str(value).strip()
    if not text or text.strip("0.: -") == "":
        return None
    if text.isdigit():
        return parse_timestamp(text)
    for fmt in _LOCAL_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=tz)
        except ValueError:
            continue
    raise RemoteProtocolError(f"not a date the provider writes: {text!r}")


def _when(data: Mapping[str, Any], stamp: str, local: str, tz: tzinfo) -> datetime | None:
    # Prefer the timestamp: the text date depends on the account's zone setting.
    at = parse_timestamp(data.get(stamp))
    return at if at is not None else parse_local(data.get(local), tz)


def _str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text else None


def _mapping(data: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise RemoteProtocolError(f"{what}: expected a JSON object, got {type(data).__name__}")
    return data


def _rows(data: Any, what: str) -> list[Mapping[str, Any]]:
    # The provider answers an empty list as [] or, for some scripts, as an object; a single row
    # sometimes comes as a bare object.
    if isinstance(data, Mapping):
        return [data] if data else []
    if not isinstance(data, list):
        raise RemoteProtocolError(f"{what}: expected a JSON list, got {type(data).__name__}")
    return [_mapping(row, what) for row in data]


def _split_mccmnc(value: Any) -> tuple[str | None, str | None]:
    text = _str(value)
    if not text or not text.isdigit() or len(text) < 4:
        return None, None
    return text[:3], text[3:]
