"""The simulator's reading calls: balance.php, get.php and info.php.

The balance; get.php's history of sent messages, incoming messages (answers), statistics and
price list; info.php's operator lookup (https://smscentre.com/api/http/: balance.php, get.php,
info.php). Registered by :mod:`smscenter.testing._http_app`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from smscenter._provider import MOSCOW
from smscenter.testing import _state as st
from smscenter.testing._http_base import _Answer, _limit, _Params, _split_phones
from smscenter.testing._http_send import status_fields
from smscenter.testing._state import SimError, format_date, format_money

if TYPE_CHECKING:
    from smscenter.testing._http_app import SimulatorApp

__all__ = ("handle_balance", "handle_get", "handle_info")


# ---- balance.php -----------------------------------------------------------------------


def handle_balance(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    state = app.state
    if state.behaviour.rate_limits and not state.hit(account.login, ("balance",), 10):
        raise SimError(9, "too many requests, wait a minute")
    body: dict[str, object] = {"balance": format_money(account.balance)}
    if params.flag("cur"):
        body["currency"] = account.currency
    if account.credit is not None:
        body["credit"] = format_money(account.credit)
    text = format_money(account.balance)
    return _Answer(
        body, plain=text, csv=text + (f",{account.currency}" if params.flag("cur") else "")
    )


def _parse_day(value: str, *, end: bool = False) -> float | None:
    """``dd.mm.yyyy`` (account time zone) as Unix seconds: the day's start, or its end."""
    if not value:
        return None
    try:
        day = datetime.strptime(value.strip(), "%d.%m.%Y").replace(tzinfo=MOSCOW)
    except ValueError:
        raise SimError(1, "invalid date") from None
    return (day + timedelta(days=1)).timestamp() if end else day.timestamp()


# ---- get.php ---------------------------------------------------------------------------


def handle_get(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    _limit(app, account, ("get", params.fingerprint()), 3)
    if params.flag("get_messages"):
        return _get_messages(app, account, params)
    if params.flag("get_answers"):
        return _get_answers(app, account, params)
    if params.flag("get_stat"):
        return _get_stat(app, account, params)
    if params.flag("get_mega_accounts"):
        rows = [
            r
            for r in account.mega_accounts
            if not params.get("account") or str(r.get("account")) == params.get("account")
        ]
        if not rows:
            raise SimError(3, "accounts not found")
        return _Answer(rows)
    if params.flag("get_price"):
        return _get_price(app)
    raise SimError(1, "unknown get.php command")


def _get_messages(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    start = _parse_day(params.get("start"))
    end = _parse_day(params.get("end"), end=True)
    wanted = {st.normalize_phone(p) or p for p in _split_phones(params.get("phone"))}
    # format=8: the e-mail history, filtered by address (``email``) instead of phone.
    emails_only = params.get("format").strip() == "8"
    if emails_only:
        wanted = {e.lower() for e in _split_phones(params.get("email"))}
    count = params.int("cnt", 100, low=1, high=100)
    prev_id = params.int("prev_id", 0, low=0)
    rows: list[dict[str, object]] = []
    for message in reversed(app.state.sent_messages(account.login)):
        if message.deleted:
            continue
        if start is not None and message.submitted_at < start:
            continue
        if end is not None and message.submitted_at >= end:
            continue
        if emails_only and message.type != st.TYPE_MAIL:
            continue
        if wanted and (message.phone.lower() if emails_only else message.phone) not in wanted:
            continue
        if prev_id and message.id >= prev_id:
            continue
        fields = status_fields(message, 2)
        row = {
            key: fields[key]
            for key in (
                "status",
                "last_date",
                "last_timestamp",
                "err",
                "send_date",
                "send_timestamp",
                "phone",
                "cost",
                "sender_id",
                "status_name",
                "message",
                "country",
                "operator",
                "region",
            )
        }
        row["id"] = message.id
        rows.append(row)
        if len(rows) >= count:
            break
    if not rows:
        raise SimError(3, "messages not found")
    return _Answer(rows)


def _get_answers(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    hours = params.int("hour", 24, low=1, high=168)
    after = params.int("after_id", 0, low=0) or None
    to_phone = st.normalize_phone(params.get("to_phone")) if params.get("to_phone") else None
    rows = []
    for record in app.state.answers(account.login, hours=hours, after_id=after):
        if to_phone is not None and record.to_phone != to_phone:
            continue
        row: dict[str, object] = {
            "id": record.id,
            "received": format_date(record.received_at),
            "phone": record.phone,
            "message": record.text,
            "to_phone": record.to_phone,
            "sent": format_date(record.sent_at),
        }
        if record.answer_to is not None:
            row["sms_id"] = record.answer_to
        rows.append(row)
    csv = "\n".join(
        f"{r['id']},{r['received']},{r['phone']},{r['to_phone']},{r['sent']},{r['message']}"
        for r in rows
    )
    return _Answer(rows, csv=csv)


def _get_stat(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    start = _parse_day(params.get("start"))
    end = _parse_day(params.get("end"), end=True)
    parts = 0
    spent = Decimal(0)
    for message in app.state.sent_messages(account.login):
        if start is not None and message.submitted_at < start:
            continue
        if end is not None and message.submitted_at >= end:
            continue
        parts += message.parts
        spent += message.cost
    row = {
        "login": account.login,
        "sms": str(parts),
        "credit": format_money(spent),
        "debit": format_money(account.debit),
        "currency": account.currency,
    }
    return _Answer([row])


def _get_price(app: SimulatorApp) -> _Answer:
    state = app.state
    zones = []
    seen: set[str] = set()
    for index, (_prefix, info) in enumerate(st.OPERATORS, start=1):
        if info[0] in seen:
            continue
        seen.add(info[0])
        sms = format_money(state.price(st.TYPE_SMS))
        zones.append(
            {
                "zone": str(index),
                "name": info[0],
                "api": sms,
                "mass": sms,
                "mms": format_money(state.price(st.TYPE_MMS)),
                "hlr": format_money(state.price(st.TYPE_HLR)),
                "call": format_money(state.price(st.TYPE_CALL)),
            }
        )
    return _Answer({"zones": zones, "codes": [], "mail": format_money(state.price(st.TYPE_MAIL))})


# ---- info.php --------------------------------------------------------------------------


def _operator_row(phone: str) -> dict[str, str]:
    norm = st.normalize_phone(phone)
    info = st.lookup_operator(norm) if norm else None
    if info is None:
        raise SimError(3, "operator not found")
    country, operator, region, mcc, mnc, tz = info
    return {
        "country": country,
        "operator": operator,
        "region": region,
        "mcc": mcc,
        "mnc": mnc,
        "tz": tz,
    }


def handle_info(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    _limit(app, account, ("info", params.fingerprint()), 3)
    if not params.flag("get_operator"):
        raise SimError(1, "unknown info.php command")
    phones = _split_phones(params.get("phone"))
    if not phones:
        raise SimError(1, "phone is empty")
    if len(phones) == 1 and "," not in params.get("phone"):
        row = _operator_row(phones[0])
        return _Answer(row, plain=", ".join(f"{k} = {v}" for k, v in row.items()))
    rows: list[dict[str, str]] = []
    for phone in phones:
        try:
            rows.append({"phone": phone, **_operator_row(phone)})
        except SimError:
            rows.append({"phone": phone, "error": "operator not found"})
    return _Answer(rows)
