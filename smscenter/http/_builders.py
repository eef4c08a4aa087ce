"""The request builders of the core scripts: arguments in, a
:class:`~smscenter.http._request.Request` out.

send.php (one message, or a ``list=`` of texts), status.php, balance.php, get.php (history,
incoming, statistics, Megafon accounts), info.php (prices, operator), receive_phones, wait_call
and downloads, with the parameter names of https://smscentre.com/api/http/. Bad arguments raise
:class:`~smscenter.exceptions.ValidationError` here, before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Final

import attrs

from smscenter.exceptions import (
    ValidationError,
)
from smscenter.http._request import (
    Request,
    _opt,
    message_options,
    wire_text,
)
from smscenter.models import (
    Message,
)


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
