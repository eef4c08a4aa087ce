"""jobs.php (mailings the provider runs itself) without I/O: creation with every send.php option
plus jobs.php's own (``rpt``, ``rptn``, ``fl[5]``, ``mes2``, ``sender2``, ``tpl``, ``cost=1``),
get, get_all, cancel and delete (https://smscentre.com/api/http/jobs/).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, tzinfo
from typing import Any

from smscenter.exceptions import RemoteProtocolError, ValidationError
from smscenter.http._answer import _mapping, _rows, _str, parse_local, parse_money
from smscenter.http._request import Request, _opt, message_options, wire_text
from smscenter.http.records import Mailing, MailingRepeat, MailingResend
from smscenter.models import Message

__all__ = (
    "add_mailing_request",
    "add_template_mailing_request",
    "cancel_mailing_request",
    "delete_mailing_request",
    "mailing_request",
    "mailings_request",
    "parse_mailing",
    "parse_mailings",
)


def _mailing_options(
    params: list[tuple[str, str]],
    *,
    price_only: bool,
    repeat: MailingRepeat | None,
    max_repeats: int | None,
    resend: MailingResend | None,
) -> None:
    # jobs.php creation parameters beyond send.php's (https://smscentre.com/api/http/jobs/).
    if repeat is not None:
        params.append(("rpt", str(int(MailingRepeat(repeat)))))
    if max_repeats is not None:
        if repeat is None or repeat is MailingRepeat.MANUAL:
            raise ValidationError("max_repeats needs a periodic repeat")
        if isinstance(max_repeats, bool) or not 1 <= max_repeats <= 10_000:
            raise ValidationError("max_repeats must be 1..10000")
        params.append(("rptn", str(max_repeats)))
    if resend is not None:
        params.append(("fl[5]", "1"))
        _opt(params, "mes2", resend.text)
        _opt(params, "sender2", resend.sender)
    if price_only:
        params.append(("cost", "1"))


def add_mailing_request(
    name: str,
    message: Message,
    *,
    price_only: bool = False,
    repeat: MailingRepeat | None = None,
    max_repeats: int | None = None,
    resend: MailingResend | None = None,
) -> Request:
    """jobs.php ``add=1``: a mailing of ``message`` (every send.php option applies);
    ``price_only`` (``cost=1``) prices it without creating it."""
    if message.attachments:
        raise ValidationError("mailings cannot carry attachments through this client")
    if not name:
        raise ValidationError("a mailing needs a name")
    params: list[tuple[str, str]] = [
        ("add", "1"),
        ("name", name),
        ("phones", ",".join(message.to)),
        ("mes", wire_text(message)),
        *message_options(message),
    ]
    _mailing_options(
        params, price_only=price_only, repeat=repeat, max_repeats=max_repeats, resend=resend
    )
    return Request(command="jobs", action="jobs.add", params=tuple(params), acts=not price_only)


def add_template_mailing_request(
    name: str,
    template_id: str,
    to: Sequence[str],
    *,
    sender: str | None = None,
    price_only: bool = False,
    repeat: MailingRepeat | None = None,
    max_repeats: int | None = None,
    resend: MailingResend | None = None,
) -> Request:
    """jobs.php ``add=1&tpl=``: a mailing whose text is a saved template."""
    if not name or not to:
        raise ValidationError("a mailing needs a name and recipients")
    params: list[tuple[str, str]] = [
        ("add", "1"),
        ("name", name),
        ("phones", ",".join(to)),
        ("tpl", str(template_id)),
    ]
    _opt(params, "sender", sender)
    _mailing_options(
        params, price_only=price_only, repeat=repeat, max_repeats=max_repeats, resend=resend
    )
    return Request(command="jobs", action="jobs.add", params=tuple(params), acts=not price_only)


def mailing_request(mailing_id: str) -> Request:
    """jobs.php ``get=1&id=``."""
    return Request(command="jobs", action="jobs.get", params=(("get", "1"), ("id", mailing_id)))


def mailings_request(*, start: date | None = None, end: date | None = None) -> Request:
    """jobs.php ``get_all=1``."""
    params: list[tuple[str, str]] = [("get_all", "1")]
    _opt(params, "start", start)
    _opt(params, "end", end)
    return Request(command="jobs", action="jobs.get_all", params=tuple(params))


def cancel_mailing_request(mailing_id: str) -> Request:
    """jobs.php ``cancel=1``: stop a mailing that has not run yet."""
    return Request(
        command="jobs", action="jobs.cancel", params=(("cancel", "1"), ("id", mailing_id))
    )


def delete_mailing_request(mailing_id: str) -> Request:
    """jobs.php ``del=1``."""
    return Request(command="jobs", action="jobs.del", params=(("del", "1"), ("id", mailing_id)))


def parse_mailing(data: Any, *, tz: tzinfo) -> Mailing:
    """One jobs.php record (create answer, or a get/get_all row)."""
    row = _mapping(data, "jobs")
    if row.get("id") is None:
        raise RemoteProtocolError("jobs: the answer has no id")
    return Mailing(
        mailing_id=str(row["id"]),
        name=_str(row.get("name")),
        status=_str(row.get("status")),
        cost=parse_money(row.get("cost")),
        text=_str(row.get("mes", row.get("message"))),
        created_at=parse_local(row.get("created", row.get("time")), tz),
        message_id=_str(row.get("sms_id")),
        phones=_str(row.get("phones")),
    )


def parse_mailings(data: Any, *, tz: tzinfo) -> list[Mailing]:
    """jobs.php get_all rows."""
    return [parse_mailing(row, tz=tz) for row in _rows(data, "jobs")]
