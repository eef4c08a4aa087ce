"""tinyurls.php (short-link statistics), ping.php (event notifications) and get_mnp.php (ported
numbers) without I/O.

Sources: https://smscentre.com/api/http/get_data/tinyurl/ for tinyurls.php; the provider's
"Event notifications" page for ping.php (``id`` of the notification group, ``ok`` 0 for a failure
and 1 for a recovery, ``name`` / ``host`` / ``info`` filling the template's macros). get_mnp.php
is only seen in third-party libraries: its JSON answer (with ``date``) is read leniently.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from smscenter.exceptions import RemoteProtocolError, ValidationError
from smscenter.http._answer import _int, _rows, _str
from smscenter.http._request import Request, _opt, encode_date
from smscenter.http.records import PortedNumber, ShortLink

__all__ = (
    "notify_event_request",
    "parse_ported_numbers",
    "parse_short_link",
    "ported_numbers_request",
    "short_link_request",
)


def short_link_request(*, url: str | None = None, link_id: str | None = None) -> Request:
    """tinyurls.php ``get=1`` by the original ``link`` or by the short link's ``id``."""
    if (url is None) == (link_id is None):
        raise ValidationError("give exactly one of url or link_id")
    params: list[tuple[str, str]] = [("get", "1")]
    _opt(params, "link", url)
    _opt(params, "id", link_id)
    return Request(command="tinyurls", action="tinyurls.get", params=tuple(params))


def parse_short_link(data: Any) -> ShortLink:
    """A tinyurls.php get answer (one object, or a list holding one)."""
    rows = _rows(data, "tinyurls")
    if not rows:
        raise RemoteProtocolError("tinyurls: an empty answer instead of the link")
    row = rows[0]
    return ShortLink(
        link_id=str(row.get("id", "")),
        url=_str(row.get("link", row.get("url"))),
        clicks=_int(row.get("cnt")),
        clicks_this_month=_int(row.get("cnt_mon")),
        clicks_today=_int(row.get("cnt_day")),
        clicks_yesterday=_int(row.get("cnt_yes")),
    )


def notify_event_request(
    group_id: str,
    *,
    recovered: bool = False,
    name: str | None = None,
    host: str | None = None,
    info: str | None = None,
) -> Request:
    """ping.php: tell the subscribers of notification group ``group_id`` that a monitored
    service failed (``ok=0``) or recovered (``ok=1``)."""
    if not str(group_id).isdigit():
        raise ValidationError(f"group_id must be the notification group's number: {group_id!r}")
    params: list[tuple[str, str]] = [("id", str(group_id)), ("ok", "1" if recovered else "0")]
    _opt(params, "name", name)
    _opt(params, "host", host)
    _opt(params, "info", info)
    return Request(command="ping", action="ping", params=tuple(params), acts=True)


def ported_numbers_request(day: date) -> Request:
    """get_mnp.php ``date=``: the numbers ported on ``day``."""
    return Request(command="get_mnp", action="get_mnp", params=(("date", encode_date(day)),))


def parse_ported_numbers(data: Any) -> list[PortedNumber]:
    """get_mnp.php rows: ``phone`` and ``mccmnc``."""
    return [
        PortedNumber(phone=str(row.get("phone", "")), mccmnc=str(row.get("mccmnc", "")))
        for row in _rows(data, "get_mnp")
    ]
