"""The account's own data without I/O: senders.php, templates.php, users.php and the e-mail
history of get.php. Arguments in, :class:`~smscenter.http._request.Request` out; fmt=3 JSON in,
records out. phones.php (the address book) is :mod:`smscenter.http._contacts_protocol`.

Parameter names follow https://smscentre.com/api/http/ (sections "Sender IDs",
"Message templates", "Clients", "Getting data") as summarised in the provider's public API
pages; :mod:`smscenter.http._request` holds the shared request type and
:mod:`smscenter.http._answer` the value decoders.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from smscenter.exceptions import RemoteProtocolError, ValidationError
from smscenter.http._answer import _mapping, _rows, _str
from smscenter.http._builders import history_request
from smscenter.http._request import Request, _opt, encode_date
from smscenter.http.records import (
    MessageFormat,
    SenderId,
    SenderRegistration,
    SubClientType,
    Template,
)

# --- senders.php --------------------------------------------------------------------------------


def _sender_ref(sender: str | None, sender_id: str | None) -> list[tuple[str, str]]:
    if (sender is None) == (sender_id is None):
        raise ValidationError("give exactly one of sender (the name) or sender_id")
    return [("sender", sender)] if sender is not None else [("id", str(sender_id))]


def _registration(params: list[tuple[str, str]], reg: SenderRegistration | None) -> None:
    if reg is None:
        return
    for name, value in (
        ("fio", reg.owner),
        ("inn", reg.tax_id),
        ("site", reg.site),
        ("email", reg.email),
        ("address", reg.address),
        ("desc", reg.description),
    ):
        _opt(params, name, value)


def senders_request(*, include_all: bool = False) -> Request:
    """senders.php ``get=1``: the account's sender names; ``all=1`` lists every one."""
    params: list[tuple[str, str]] = [("get", "1")]
    if include_all:
        params.append(("all", "1"))
    return Request(command="senders", action="senders.get", params=tuple(params))


def add_sender_request(
    sender: str, *, comment: str | None = None, registration: SenderRegistration | None = None
) -> Request:
    """senders.php ``add=1``: register a sender name (with its owner's details)."""
    params: list[tuple[str, str]] = [("add", "1"), ("sender", sender)]
    _opt(params, "cmt", comment)
    _registration(params, registration)
    return Request(command="senders", action="senders.add", params=tuple(params))


def change_sender_request(
    *,
    sender: str | None = None,
    sender_id: str | None = None,
    comment: str | None = None,
    registration: SenderRegistration | None = None,
) -> Request:
    """senders.php ``chg=1`` by name or by id."""
    params: list[tuple[str, str]] = [("chg", "1"), *_sender_ref(sender, sender_id)]
    _opt(params, "cmt", comment)
    _registration(params, registration)
    return Request(command="senders", action="senders.chg", params=tuple(params))


def delete_sender_request(*, sender: str | None = None, sender_id: str | None = None) -> Request:
    """senders.php ``del=1`` by name or by id."""
    params = (("del", "1"), *_sender_ref(sender, sender_id))
    return Request(command="senders", action="senders.del", params=params)


def send_sender_code_request(sender: str) -> Request:
    """senders.php ``send_code=1``: text a code to a numeric sender to prove ownership."""
    return Request(
        command="senders",
        action="senders.send_code",
        params=(("send_code", "1"), ("sender", sender)),
    )


def check_sender_code_request(sender: str, code: str) -> Request:
    """senders.php ``check_code=1``: confirm a numeric sender with the code it received."""
    return Request(
        command="senders",
        action="senders.check_code",
        params=(("check_code", "1"), ("sender", sender), ("code", code)),
    )


def parse_senders(data: Any) -> list[SenderId]:
    """senders.php get rows: each has at least ``sender``."""
    return [
        SenderId(
            sender=str(row.get("sender", row.get("name", ""))),
            sender_id=_str(row.get("id")),
            comment=_str(row.get("cmt", row.get("comment"))),
            status=_str(row.get("status")),
        )
        for row in _rows(data, "senders")
    ]


# --- templates.php ------------------------------------------------------------------------------


def _template_fields(
    params: list[tuple[str, str]],
    *,
    name: str | None,
    text: str | None,
    format: MessageFormat | None,
    sender: str | None,
    signature: bool | None,
) -> None:
    if text is not None and not 1 <= len(text) <= 1000:
        raise ValidationError("a template text is 1 to 1000 characters")
    _opt(params, "name", name)
    _opt(params, "msg", text)
    if format is not None:
        params.append(("format", MessageFormat(format).value))
    _opt(params, "sender", sender)
    if signature is not None:
        params.append(("fl[1]", "1" if signature else "0"))


def templates_request() -> Request:
    """templates.php ``get=1``."""
    return Request(command="templates", action="templates.get", params=(("get", "1"),))


def add_template_request(
    name: str,
    text: str,
    *,
    format: MessageFormat = MessageFormat.SMS,
    sender: str | None = None,
    signature: bool = False,
) -> Request:
    """templates.php ``add=1``."""
    if not name:
        raise ValidationError("a template needs a name")
    params: list[tuple[str, str]] = [("add", "1")]
    _template_fields(
        params, name=name, text=text, format=format, sender=sender, signature=signature or None
    )
    return Request(command="templates", action="templates.add", params=tuple(params))


def change_template_request(
    template_id: str,
    *,
    name: str | None = None,
    text: str | None = None,
    format: MessageFormat | None = None,
    sender: str | None = None,
    signature: bool | None = None,
) -> Request:
    """templates.php ``chg=1&id=``."""
    params: list[tuple[str, str]] = [("chg", "1"), ("id", str(template_id))]
    _template_fields(
        params, name=name, text=text, format=format, sender=sender, signature=signature
    )
    if len(params) == 2:
        raise ValidationError("change_template needs at least one field to change")
    return Request(command="templates", action="templates.chg", params=tuple(params))


def delete_template_request(template_id: str) -> Request:
    """templates.php ``del=1&id=``."""
    return Request(
        command="templates",
        action="templates.del",
        params=(("del", "1"), ("id", str(template_id))),
    )


def parse_templates(data: Any) -> list[Template]:
    """templates.php get rows."""
    return [
        Template(
            template_id=str(row.get("id", "")),
            name=str(row.get("name", "")),
            text=str(row.get("msg", row.get("message", ""))),
            format=_str(row.get("format")),
            sender=_str(row.get("sender")),
            signature=str(row.get("fl[1]", row.get("signature", "0"))) not in ("", "0"),
        )
        for row in _rows(data, "templates")
    ]


# --- users.php ----------------------------------------------------------------------------------


def add_sub_client_request(
    login: str,
    password: str,
    *,
    client_type: SubClientType = SubClientType.INDEPENDENT,
    email: str | None = None,
    phone: str | None = None,
    sender: str | None = None,
    callback_url: str | None = None,
) -> Request:
    """users.php ``add=1``: create a sub-client (``user``, ``pswc``, ``type``...)."""
    if not login or not password:
        raise ValidationError("a sub-client needs a login and a password")
    params: list[tuple[str, str]] = [
        ("add", "1"),
        ("user", login),
        ("pswc", password),
        ("type", str(int(SubClientType(client_type)))),
    ]
    _opt(params, "email", email)
    _opt(params, "phone", phone)
    _opt(params, "sender", sender)
    _opt(params, "url", callback_url)
    return Request(command="users", action="users.add", params=tuple(params), acts=True)


def change_sub_client_request(
    login: str,
    *,
    password: str | None = None,
    new_login: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    sender: str | None = None,
    callback_url: str | None = None,
) -> Request:
    """users.php ``chg=1&user=``."""
    params: list[tuple[str, str]] = [("chg", "1"), ("user", login)]
    _opt(params, "pswc", password)
    _opt(params, "new_login", new_login)
    _opt(params, "email", email)
    _opt(params, "phone", phone)
    _opt(params, "sender", sender)
    _opt(params, "url", callback_url)
    if len(params) == 2:
        raise ValidationError("change_sub_client needs at least one field to change")
    return Request(command="users", action="users.chg", params=tuple(params))


def pay_sub_client_request(login: str, amount: Decimal) -> Request:
    """users.php ``pay=1&user=&sum=``: move money from the account to a sub-client."""
    amount = Decimal(amount)
    if not amount.is_finite() or amount <= 0:
        raise ValidationError("the amount to transfer must be positive")
    return Request(
        command="users",
        action="users.pay",
        params=(("pay", "1"), ("user", login), ("sum", format(amount, "f"))),
        acts=True,
    )


def sub_client_statistics_request(
    *, start: date, end: date | None = None, login: str | None = None
) -> Request:
    """users.php ``get_stat=1`` for one sub-client, or ``get_stat_all=1`` for all of them."""
    command = "get_stat" if login is not None else "get_stat_all"
    params: list[tuple[str, str]] = [(command, "1")]
    _opt(params, "user", login)
    params.append(("start", encode_date(start)))
    _opt(params, "end", end)
    return Request(command="users", action=f"users.{command}", params=tuple(params))


def parse_sub_client_id(data: Any) -> str | None:
    """users.php add: the new client's id when the provider names one."""
    answer = _mapping(data, "users.add")
    if answer.get("id") is not None:
        return str(answer["id"])
    if str(answer.get("result", "")).upper() != "OK":
        raise RemoteProtocolError("users.add: expected an id or result OK")
    return None


# --- get.php: e-mail history ---------------------------------------------------------------------


def email_history_request(
    *,
    start: date | None = None,
    end: date | None = None,
    emails: Sequence[str] | None = None,
    count: int | None = None,
    before_id: str | None = None,
) -> Request:
    """get.php ``get_messages=1&format=8``: the history of e-mails sent (``email`` filters)."""
    base = history_request(start=start, end=end, count=count, before_id=before_id)
    params = [*base.params, ("format", "8")]
    if emails:
        params.append(("email", ",".join(emails)))
    return Request(command="get", action="get_messages.email", params=tuple(params))
