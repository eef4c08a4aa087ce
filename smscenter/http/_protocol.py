"""The provider's HTTP API without I/O: arguments in, form fields out; fmt=3 JSON in, models out.

Every provider parameter name (``phones``, ``mes``, ``psw``...) lives here and nowhere else. The
client (:mod:`smscenter.http.client`) only moves :class:`Request` values over the wire and hands
the decoded JSON back to the ``parse_*`` functions, so all of this is testable without a socket.

Sources: the provider's HTTP API pages (https://smscentre.com/api/http/: send.php, status.php,
get.php, info.php, receive_phones, wait_call, downloads) and its official client libraries
(``cost=3``, format flags, ``time`` forms).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import attrs

from smscenter._provider import COMMENT_SEPARATOR
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
    ValidationError,
    VerificationCodeError,
)
from smscenter.http._options import option_params, with_viber_button
from smscenter.http.records import (
    CallToConfirm,
    DownloadStatus,
    DownloadTask,
    MegafonAccount,
    OperatorInfo,
    OperatorPrice,
    PriceList,
    PriceZone,
    ReceiveNumber,
    StatisticsRow,
)
from smscenter.models import (
    Attachment,
    Balance,
    Cost,
    DeliveryError,
    DeliveryReport,
    HlrInfo,
    IncomingMessage,
    Message,
    MessageFlags,
    MessageKind,
    MessageStatus,
    MessageType,
    RecipientResult,
    SendResult,
    SendWindow,
    Translit,
    client_id_of,
)

#: Sent with every request: JSON answers, UTF-8 in and out (the provider's default is cp1251).
COMMON_PARAMS: Final[tuple[tuple[str, str], ...]] = (("fmt", "3"), ("charset", "utf-8"))

#: Params whose value is a secret besides the credentials: a sub-client's password (users.php).
SECRET_PARAMS: Final = frozenset({"pswc"})


@attrs.frozen(kw_only=True, repr=False)
class Request:
    """One API call, ready to send.

    :ivar command: the script name: ``send`` for ``/sys/send.php``.
    :ivar action: what the call does (``send``, ``cost``, ``status``, ``get_messages``...):
        the ``endpoint`` an :class:`~smscenter.exceptions.APIError` reports.
    :ivar params: form fields, without credentials and without ``fmt``/``charset``.
    :ivar files: attachments; when present the body is multipart.
    :ivar acts: the call acts (creates a mailing, sends a notification, rents a number, creates
        or pays a sub-client): once an attempt may have reached the provider it is not repeated,
        since a repeat could act twice.
    """

    command: str
    action: str
    params: tuple[tuple[str, str], ...] = ()
    files: tuple[Attachment, ...] = ()
    acts: bool = False

    @property
    def path(self) -> str:
        """The URL path on the provider's host."""
        return f"/sys/{self.command}.php"

    def form(self, auth: Mapping[str, str]) -> list[tuple[str, str]]:
        """The whole form body: credentials, ``fmt=3``, ``charset=utf-8`` and the params."""
        return [*auth.items(), *COMMON_PARAMS, *self.params]

    def get(self, name: str) -> str | None:
        """The value of one param, if present."""
        for key, value in self.params:
            if key == name:
                return value
        return None

    def secrets(self) -> tuple[str, ...]:
        """The secret values among the params (masked in errors like the credentials)."""
        return tuple(value for key, value in self.params if key in SECRET_PARAMS and value)

    def __repr__(self) -> str:
        params = tuple((k, "***" if k in SECRET_PARAMS else v) for k, v in self.params)
        return (
            f"Request(command={self.command!r}, action={self.action!r}, params={params!r}, "
            f"files={self.files!r})"
        )


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


# --- value encoding -----------------------------------------------------------------------------

_KIND_FLAGS: Final[dict[MessageKind, tuple[str, str]]] = {
    # The provider's official libraries' format numbers 1..13 map to these flags.
    MessageKind.FLASH: ("flash", "1"),
    MessageKind.WAP_PUSH: ("push", "1"),
    MessageKind.HLR: ("hlr", "1"),
    # Both binary kinds go as hex (``bin=2``): with ``bin=1`` the form would carry the bytes as
    # text, and a form encoded as UTF-8 turns each byte >= 0x80 into two (0xFF as %C3%BF).
    MessageKind.BINARY: ("bin", "2"),
    MessageKind.BINARY_HEX: ("bin", "2"),
    MessageKind.PING: ("ping", "1"),
    MessageKind.MMS: ("mms", "1"),
    MessageKind.EMAIL: ("mail", "1"),
    MessageKind.CALL: ("call", "1"),
    MessageKind.VIBER: ("viber", "1"),
    MessageKind.SOCIAL: ("soc", "1"),
    MessageKind.TELEGRAM: ("tg", "1"),
    # SMS and BOT need no flag: a bot message is a plain send with ``bot=``.
}


def encode_time(when: datetime | timedelta | SendWindow) -> str:
    """The send.php ``time`` value (the official libraries: ``DDMMYYhhmm, h1-h2, 0ts, +m``).

    An aware datetime is an exact instant: ``0<unix timestamp>``. A naive one is wall time in the
    account's own zone: ``DDMMYYhhmm``. A timedelta is ``+<minutes>`` from now; a
    :class:`SendWindow` is ``h1-h2``.
    """
    if isinstance(when, SendWindow):
        return f"{when.start_hour}-{when.end_hour}"
    if isinstance(when, timedelta):
        return f"+{int(when.total_seconds() // 60)}"
    if when.tzinfo is not None and when.utcoffset() is not None:
        return f"0{int(when.timestamp())}"
    return when.strftime("%d%m%y%H%M")


def encode_validity(validity: timedelta) -> str:
    """The send.php ``valid`` value as ``hh:mm`` (``00:01`` .. ``24:00``)."""
    minutes = int(validity.total_seconds() // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def encode_date(value: date) -> str:
    """A ``dd.mm.yyyy`` date (get.php ``start``/``end``)."""
    return value.strftime("%d.%m.%Y")


def wire_text(message: Message) -> str:
    """The ``mes`` value: the text (with a Viber button's macro) and its comment suffix; binary
    payloads as hex digits.

    A :attr:`MessageKind.BINARY` text holds one byte per character (U+0000..U+00FF, checked
    when the message is built); it is sent byte for byte as the hex form of ``bin=2``
    (https://smscentre.com/api/http/send/sms/).
    """
    if message.kind is MessageKind.BINARY:
        body = message.text.encode("latin-1").hex().upper()
    else:
        body = with_viber_button(message.text, message.options)
    return f"{body}{COMMENT_SEPARATOR}{message.comment}" if message.comment else body


def message_options(message: Message) -> list[tuple[str, str]]:
    """Everything in a send except recipients and text: kind flag, sender, schedule..."""
    params: list[tuple[str, str]] = []
    flag = _KIND_FLAGS.get(message.kind)
    if flag is not None:
        params.append(flag)
    if message.sender is not None:
        params.append(("sender", message.sender))
    if message.translit is not Translit.NONE:
        params.append(("translit", str(int(message.translit))))
    if message.send_at is not None:
        params.append(("time", encode_time(message.send_at)))
    if message.validity is not None:
        params.append(("valid", encode_validity(message.validity)))
    if message.client_id is not None:
        params.append(("id", str(message.client_id)))
    if message.max_parts is not None:
        params.append(("maxsms", str(message.max_parts)))
    if message.subject is not None:
        params.append(("subj", message.subject))
    if message.voice is not None:
        params.append(("voice", message.voice))
    if message.bot is not None:
        params.append(("bot", message.bot))
    if message.tinyurl:
        params.append(("tinyurl", "1"))
    params.extend(option_params(message.options))
    params.extend(message.extra)
    return params


def send_request(
    message: Message, *, price_only: bool = False, per_recipient: bool = False
) -> Request:
    """send.php for one :class:`Message`.

    Sends use ``cost=3`` so the answer carries cost and the new balance (as the official
    libraries do); ``price_only`` uses ``cost=1`` (nothing is sent).

    :param per_recipient: add ``op=1`` for each recipient's status, operator and cost.
    """
    params = [
        ("phones", ",".join(message.to)),
        ("mes", wire_text(message)),
        ("cost", "1" if price_only else "3"),
        *message_options(message),
    ]
    if per_recipient:
        params.append(("op", "1"))
    return Request(
        command="send",
        action="cost" if price_only else "send",
        params=tuple(params),
        files=message.attachments,
    )


def _list_line(message: Message) -> str:
    # Inside ``list`` one line is one recipient group; a line break within a text is written as
    # the two characters backslash-n (send.php ``list``, smscentre.com/api/http).
    text = wire_text(message).replace("\r\n", "\n").replace("\n", "\\n")
    return f"{','.join(message.to)}:{text}"


_PER_MESSAGE_FIELDS: Final = ("to", "text", "comment")


def list_send_request(
    messages: Sequence[Message], *, price_only: bool = False, per_recipient: bool = False
) -> Request:
    """send.php ``list=``: a different text per recipient, in one request.

    Every message must share kind, sender and the other options; only recipients, text and
    comment vary.

    :raises ValueError: for an empty sequence, differing options or attachments.
    """
    if not messages:
        raise ValidationError("send_list needs at least one message")
    first = messages[0]
    if first.attachments:
        raise ValidationError("a list send cannot carry attachments")
    for index, other in enumerate(messages[1:], start=1):
        same = attrs.evolve(other, to=first.to, text=first.text, comment=first.comment)
        if same != first:
            raise ValidationError(
                f"message {index} differs from message 0 in more than recipients, text and "
                "comment; a list send shares one set of options"
            )
    params = [
        ("list", "\n".join(_list_line(m) for m in messages)),
        ("cost", "1" if price_only else "3"),
        *message_options(first),
    ]
    if per_recipient:
        params.append(("op", "1"))
    return Request(command="send", action="cost" if price_only else "send", params=tuple(params))


def status_request(message_id: str, phone: str, *, detail: int = 0) -> Request:
    """status.php for one message. ``detail`` is ``all``: 0 basic, 1 full, 2 with operator."""
    _check_detail(detail)
    return Request(
        command="status",
        action="status",
        params=(("id", str(message_id)), ("phone", phone), ("all", str(detail))),
    )


def status_many_request(items: Iterable[tuple[str, str]], *, detail: int = 0) -> Request:
    """status.php for many ``(message_id, phone)`` pairs at once.

    The trailing commas make the provider answer with a list even for a single pair
    (status.php, smscentre.com/api/http).
    """
    _check_detail(detail)
    pairs = [(str(i), p) for i, p in items]
    if not pairs:
        raise ValidationError("status_many needs at least one (message_id, phone) pair")
    ids = ",".join(i for i, _ in pairs) + ","
    phones = ",".join(p for _, p in pairs) + ","
    return Request(
        command="status",
        action="status",
        params=(("id", ids), ("phone", phones), ("all", str(detail))),
    )


def delete_request(message_id: str, phone: str) -> Request:
    """status.php ``del=1``: delete a sent message from the history."""
    return Request(
        command="status",
        action="delete",
        params=(("id", str(message_id)), ("phone", phone), ("del", "1")),
    )


def _check_detail(detail: int) -> None:
    if detail not in (0, 1, 2):
        raise ValidationError(f"detail (status.php 'all') must be 0, 1 or 2, got {detail!r}")


def balance_request(*, currency: bool = True) -> Request:
    """balance.php; ``cur=1`` adds the account's currency."""
    return Request(command="balance", action="balance", params=(("cur", "1"),) if currency else ())


def _opt(params: list[tuple[str, str]], name: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        params.append((name, "1" if value else "0"))
    elif isinstance(value, date):
        params.append((name, encode_date(value)))
    elif isinstance(value, str):
        params.append((name, value))
    elif isinstance(value, Iterable):
        params.append((name, ",".join(str(v) for v in value)))
    else:
        params.append((name, str(value)))


def history_request(
    *,
    start: date | None = None,
    end: date | None = None,
    phones: Sequence[str] | None = None,
    count: int | None = None,
    before_id: str | None = None,
) -> Request:
    """get.php ``get_messages=1``: sent-message history; ``count`` is at most 100
    (smscentre.com/api/http)."""
    if count is not None and not 1 <= count <= 100:
        raise ValidationError("count must be 1..100 (the provider's maximum is 100)")
    if end is not None and start is None:
        raise ValidationError("end needs start")
    params: list[tuple[str, str]] = [("get_messages", "1")]
    _opt(params, "start", start)
    _opt(params, "end", end)
    _opt(params, "phone", phones)
    _opt(params, "cnt", count)
    _opt(params, "prev_id", before_id)
    return Request(command="get", action="get_messages", params=tuple(params))


def incoming_request(
    *, hours: int | None = None, after_id: str | None = None, to_phone: str | None = None
) -> Request:
    """get.php ``get_answers=1``: incoming messages; ``hours`` is at most 168
    (smscentre.com/api/http)."""
    if hours is not None and not 1 <= hours <= 168:
        raise ValidationError("hours must be 1..168 (the provider keeps 7 days)")
    params: list[tuple[str, str]] = [("get_answers", "1")]
    _opt(params, "hour", hours)
    _opt(params, "after_id", after_id)
    _opt(params, "to_phone", to_phone)
    return Request(command="get", action="get_answers", params=tuple(params))


def statistics_request(
    *,
    start: date,
    end: date | None = None,
    in_account_currency: bool = False,
    second_balance: bool = False,
) -> Request:
    """get.php ``get_stat=1`` (smscentre.com/api/http)."""
    params: list[tuple[str, str]] = [("get_stat", "1")]
    _opt(params, "start", start)
    _opt(params, "end", end)
    if in_account_currency:
        params.append(("mycur", "1"))
    if second_balance:
        params.append(("balance2", "1"))
    return Request(command="get", action="get_stat", params=tuple(params))


def megafon_accounts_request(*, account: str | None = None) -> Request:
    """get.php ``get_mega_accounts=1`` (smscentre.com/api/http)."""
    params: list[tuple[str, str]] = [("get_mega_accounts", "1")]
    _opt(params, "account", account)
    return Request(command="get", action="get_mega_accounts", params=tuple(params))


def prices_request() -> Request:
    """get.php ``get_price=1`` (smscentre.com/api/http)."""
    return Request(command="get", action="get_price", params=(("get_price", "1"),))


def operator_request(phone: str) -> Request:
    """info.php ``get_operator=1`` (smscentre.com/api/http)."""
    return Request(
        command="info", action="get_operator", params=(("get_operator", "1"), ("phone", phone))
    )


def receive_numbers_request() -> Request:
    """receive_phones.php ``get=1``: numbers available to rent (smscentre.com/api/http)."""
    return Request(command="receive_phones", action="receive_phones.get", params=(("get", "1"),))


def buy_number_request(phone: str, *, renew: bool = True) -> Request:
    """receive_phones.php ``buy=1``; ``noprolong=1`` when the rent should not renew."""
    params: list[tuple[str, str]] = [("buy", "1"), ("phone", phone)]
    if not renew:
        params.append(("noprolong", "1"))
    return Request(
        command="receive_phones", action="receive_phones.buy", params=tuple(params), acts=True
    )


def set_number_renewal_request(phone: str, *, renew: bool) -> Request:
    """receive_phones.php ``chg=1``: switch next month's renewal on or off."""
    return Request(
        command="receive_phones",
        action="receive_phones.chg",
        params=(("chg", "1"), ("phone", phone), ("noprolong", "0" if renew else "1")),
    )


def wait_call_request(phone: str) -> Request:
    """wait_call.php: ask which number the subscriber should call (smscentre.com/api/http)."""
    return Request(command="wait_call", action="wait_call", params=(("phone", phone),))


def downloads_request(*, count: int | None = None, after_id: str | None = None) -> Request:
    """downloads.php ``get_list=1``: deferred export tasks (smscentre.com/api/http)."""
    params: list[tuple[str, str]] = [("get_list", "1")]
    _opt(params, "cnt", count)
    _opt(params, "after_id", after_id)
    return Request(command="downloads", action="downloads.get_list", params=tuple(params))


def download_file_request(*, task_id: str | None = None, name: str | None = None) -> Request:
    """downloads.php ``get_file=1`` by task id or file name; the answer is the CSV itself."""
    if (task_id is None) == (name is None):
        raise ValidationError("give exactly one of task_id or name")
    params: list[tuple[str, str]] = [("get_file", "1")]
    _opt(params, "id", task_id)
    _opt(params, "name", name)
    return Request(command="downloads", action="downloads.get_file", params=tuple(params))


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


def parse_recipients(data: Mapping[str, Any]) -> tuple[RecipientResult, ...]:
    """The ``phones`` list that ``op=1`` adds to a send or cost answer."""
    out = []
    for row in _rows(data.get("phones") or [], "send phones"):
        status = parse_int(row.get("status"))
        error = parse_int(row.get("error"))
        mcc, mnc = _split_mccmnc(row.get("mccmnc"))
        out.append(
            RecipientResult(
                phone=str(row.get("phone", "")),
                status=None if status is None else MessageStatus.from_code(status),
                error=None if error is None else DeliveryError(error),
                cost=parse_money(row.get("cost")),
                mcc=mcc,
                mnc=mnc,
            )
        )
    return tuple(out)


def parse_send(data: Any, *, client_id: int | str | None = None) -> SendResult:
    """A send.php answer (``cost=3``): id, parts, cost, balance, per-recipient details."""
    answer = _mapping(data, "send")
    if answer.get("id") is None:
        raise RemoteProtocolError("send: the answer has no message id")
    return SendResult(
        message_id=str(answer["id"]),
        parts=_int(answer.get("cnt"), 1),
        cost=parse_money(answer.get("cost")),
        balance=parse_money(answer.get("balance")),
        recipients=parse_recipients(answer),
        client_id=client_id,
    )


def parse_cost(data: Any) -> Cost:
    """A send.php ``cost=1`` answer."""
    answer = _mapping(data, "cost")
    if answer.get("cost") is None:
        raise RemoteProtocolError("cost: the answer has no cost")
    return Cost(
        cost=_money(answer.get("cost")),
        parts=_int(answer.get("cnt"), 1),
        recipients=parse_recipients(answer),
    )


def parse_balance(data: Any) -> Balance:
    """A balance.php answer."""
    answer = _mapping(data, "balance")
    balance = parse_money(answer.get("balance"))
    if balance is None:
        raise RemoteProtocolError("balance: the answer has no balance")
    return Balance(
        balance=balance,
        currency=_str(answer.get("currency")),
        credit=parse_money(answer.get("credit")),
    )


_HLR_FIELDS: Final = {
    "imsi": "imsi",
    "msc": "msc",
    "mcc": "mcc",
    "mnc": "mnc",
    "cn": "country",
    "net": "operator",
    "rcn": "roaming_country",
    "rnet": "roaming_operator",
}


def parse_report(
    data: Any,
    *,
    tz: tzinfo,
    message_id: str | None = None,
    phone: str | None = None,
) -> DeliveryReport:
    """One status.php row or get_messages history row as a :class:`DeliveryReport`."""
    row = _mapping(data, "status")
    mid = _str(row.get("id")) or message_id
    if mid is None:
        raise RemoteProtocolError("status: the answer has no message id")
    code = parse_int(row.get("status"))
    if code is None:
        raise RemoteProtocolError("status: the answer has no status")
    flag = parse_int(row.get("flag"))
    flags = MessageFlags.from_int(flag) if flag is not None and 0 <= flag <= 0xFFFF else None
    mtype = parse_int(row.get("type"))
    hlr = None
    if any(row.get(key) not in (None, "") for key in ("imsi", "msc", "cn", "net")):
        hlr = HlrInfo(**{name: _str(row.get(key)) for key, name in _HLR_FIELDS.items()})
    return DeliveryReport(
        message_id=mid,
        status=MessageStatus.from_code(code),
        raw_status=str(code),
        phone=_str(row.get("phone")) or phone,
        error=DeliveryError(_int(row.get("err"))),
        changed_at=_when(row, "last_timestamp", "last_date", tz),
        submitted_at=_when(row, "send_timestamp", "send_date", tz),
        parts=parse_int(row.get("cnt", row.get("sms_cnt"))),
        cost=parse_money(row.get("cost")),
        mcc=_str(row.get("mcc")),
        mnc=_str(row.get("mnc")),
        flags=flags,
        message_type=None if mtype is None else MessageType(mtype),
        hlr=hlr,
        sender=_str(row.get("sender_id")) or _str(row.get("sender")),
        text=_str(row.get("message")),
        comment=_str(row.get("comment")),
        status_text=_str(row.get("status_name")),
        country=_str(row.get("country")),
        operator=_str(row.get("operator")),
        region=_str(row.get("region")),
        client_id=client_id_of(message_id) or client_id_of(mid),
    )


def parse_status_many(
    data: Any, request_pairs: Sequence[tuple[str, str]], *, tz: tzinfo
) -> list[DeliveryReport]:
    """A bulk status.php answer: one report per row (a missing message has status -3)."""
    rows = _rows(data, "status")
    reports = []
    for index, row in enumerate(rows):
        mid, phone = request_pairs[index] if index < len(request_pairs) else (None, None)
        reports.append(parse_report(row, tz=tz, message_id=mid, phone=phone))
    return reports


def parse_history(data: Any, *, tz: tzinfo) -> list[DeliveryReport]:
    """get_messages rows (smscentre.com/api/http): each a full :class:`DeliveryReport`."""
    return [parse_report(row, tz=tz) for row in _rows(data, "get_messages")]


def parse_incoming(data: Any, *, tz: tzinfo) -> list[IncomingMessage]:
    """get_answers rows (smscentre.com/api/http) as :class:`IncomingMessage` values."""
    out = []
    for row in _rows(data, "get_answers"):
        out.append(
            IncomingMessage(
                message_id=_str(row.get("id")),
                phone=str(row.get("phone", "")),
                text=str(row.get("message", row.get("mes", ""))),
                to=_str(row.get("to_phone")),
                reply_to_id=_str(row.get("sms_id")),
                sent_at=parse_local(row.get("sent"), tz),
                received_at=parse_local(row.get("received"), tz),
            )
        )
    return out


def parse_statistics(data: Any) -> list[StatisticsRow]:
    """get_stat rows (smscentre.com/api/http)."""
    return [
        StatisticsRow(
            login=str(row.get("login", "")),
            messages=_int(row.get("sms")),
            spent=_money(row.get("credit")),
            received=_money(row.get("debit")),
            currency=_str(row.get("currency")),
        )
        for row in _rows(data, "get_stat")
    ]


def parse_megafon_accounts(data: Any) -> list[MegafonAccount]:
    """get_mega_accounts rows (smscentre.com/api/http)."""
    out = []
    for row in _rows(data, "get_mega_accounts"):
        senders = _str(row.get("senders")) or ""
        out.append(
            MegafonAccount(
                account=str(row.get("account", row.get("number", ""))),
                phone=_str(row.get("phone")),
                sent_this_month=_int(row.get("sms_mon")),
                sent_today=_int(row.get("sms_day")),
                sent_yesterday=_int(row.get("sms_yes")),
                sent_last_month=_int(row.get("sms_pmon")),
                balance=parse_money(row.get("balance")),
                credit=parse_money(row.get("credit")),
                senders=tuple(s.strip() for s in re.split(r"[,;]", senders) if s.strip()),
            )
        )
    return out


def parse_prices(data: Any) -> PriceList:
    """A get_price answer (smscentre.com/api/http): zones, per-operator codes, e-mail price."""
    answer = _mapping(data, "get_price")
    zones = tuple(
        PriceZone(
            zone=str(row.get("zone", "")),
            name=str(row.get("name", "")),
            api=parse_money(row.get("api")),
            bulk=parse_money(row.get("mass")),
            mms=parse_money(row.get("mms")),
            hlr=parse_money(row.get("hlr")),
            call=parse_money(row.get("call")),
        )
        for row in _rows(answer.get("zones") or [], "get_price zones")
    )
    codes = tuple(
        OperatorPrice(mccmnc=str(row.get("mccmnc", "")), cost=_money(row.get("cost")))
        for row in _rows(answer.get("codes") or [], "get_price codes")
    )
    return PriceList(zones=zones, operator_prices=codes, email=parse_money(answer.get("mail")))


def parse_operator(data: Any, *, phone: str | None = None) -> OperatorInfo:
    """An info.php get_operator answer (smscentre.com/api/http)."""
    row = _mapping(data, "get_operator")
    return OperatorInfo(
        phone=_str(row.get("phone")) or phone,
        country=_str(row.get("country")),
        operator=_str(row.get("operator")),
        region=_str(row.get("region")),
        mcc=_str(row.get("mcc")),
        mnc=_str(row.get("mnc")),
        utc_offset=_str(row.get("tz")),
    )


def parse_receive_numbers(data: Any) -> list[ReceiveNumber]:
    """receive_phones.php get rows (smscentre.com/api/http)."""
    return [
        ReceiveNumber(
            phone=str(row.get("phone", "")),
            number_type=parse_int(row.get("type")),
            monthly_cost=parse_money(row.get("cost")),
            current_cost=parse_money(row.get("current_cost")),
            info=_str(row.get("info")),
        )
        for row in _rows(data, "receive_phones")
    ]


def parse_bought_number(data: Any) -> Decimal:
    """receive_phones.php buy: the amount charged."""
    answer = _mapping(data, "receive_phones buy")
    cost = parse_money(answer.get("cost"))
    if cost is None:
        raise RemoteProtocolError("receive_phones buy: the answer has no cost")
    return cost


def parse_ok(data: Any, what: str) -> None:
    """An ``{"result": "OK"}`` answer (renewal change, cancel, delete)."""
    answer = _mapping(data, what)
    result = str(answer.get("result", "")).upper()
    if result != "OK":
        raise RemoteProtocolError(f"{what}: expected result OK")


def parse_wait_call(data: Any) -> CallToConfirm:
    """A wait_call.php answer (smscentre.com/api/http)."""
    answer = _mapping(data, "wait_call")
    phone = _str(answer.get("phone"))
    if phone is None:
        raise RemoteProtocolError("wait_call: the answer has no phone")
    others = answer.get("all_phones") or []
    if isinstance(others, str):
        others = [p for p in re.split(r"[,;]", others) if p]
    return CallToConfirm(phone=phone, all_phones=tuple(str(p) for p in others))


def parse_downloads(data: Any, *, tz: tzinfo) -> list[DownloadTask]:
    """downloads.php get_list rows (smscentre.com/api/http)."""
    return [
        DownloadTask(
            task_id=str(row.get("id", "")),
            name=_str(row.get("name")),
            status=DownloadStatus(_int(row.get("status"))),
            created_at=parse_local(row.get("created"), tz),
            started_at=parse_local(row.get("time"), tz),
            file=_str(row.get("file")),
        )
        for row in _rows(data, "downloads")
    ]


def parse_done(data: Any, what: str) -> str | None:
    """An answer that confirms a change: ``{"result": "OK"}`` or the ``{"id": N}`` of the
    record created or changed (phones.php answers ``add`` with the contact's id)."""
    answer = _mapping(data, what)
    if answer.get("id") is not None:
        return str(answer["id"])
    parse_ok(answer, what)
    return None


def parse_created_id(data: Any, what: str) -> str:
    """An ``{"id": N}`` answer (sender, contact group, mailing created)."""
    answer = _mapping(data, what)
    if answer.get("id") is None:
        raise RemoteProtocolError(f"{what}: the answer has no id")
    return str(answer["id"])
