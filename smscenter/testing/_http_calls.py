"""The simulator's newer HTTP calls, kept apart from :mod:`smscenter.testing._http_app`.

send.php's typed options (checked as the provider checks them: a value out of range is error 1,
a wrong captcha code error 10), senders.php, templates.php and users.php (sub-clients),
tinyurls.php, ping.php and get_mnp.php; phones.php is :mod:`smscenter.testing._http_phones`.
Handlers take and return the same values as those in ``_http_app``, which registers them.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from smscenter.testing import _state as st
from smscenter.testing._http_base import _OK, _Answer, _limit, _Params
from smscenter.testing._state import SimError, format_money

if TYPE_CHECKING:
    from smscenter.testing._http_app import SimulatorApp

__all__ = (
    "CAPTCHA_CODE",
    "CAPTCHA_IMAGE",
    "check_send_options",
    "handle_senders",
    "handle_templates",
    "handle_users",
    "handle_get_mnp",
    "handle_ping",
    "handle_tinyurls",
    "mailing_options",
    "shorten_links",
)

_PARAM_RE = re.compile(r"(\d+),(\d+),(\d+)")
#: The code the simulated captcha image always shows (``imgcode.php``).
CAPTCHA_CODE = "1234"
#: What imgcode.php answers: a 1x1 GIF (the provider draws the code; no login needed).
CAPTCHA_IMAGE = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)


def _number(params: _Params, key: str, low: float, high: float) -> float | None:
    raw = params.get(key).strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise SimError(1, f"invalid {key}") from None
    if not low <= value <= high:
        raise SimError(1, f"invalid {key}")
    return value


def check_send_options(params: _Params) -> None:
    """Refuse the send.php / jobs.php options the provider would refuse (error 1, or 10 for a
    wrong captcha code)."""
    _number(params, "period", 0.1, 720)
    if _number(params, "freq", 1, 1440) is not None and not params.get("period"):
        raise SimError(1, "freq needs period")
    _number(params, "smsreq", 10, 999)
    url = params.get("fileurl").strip()
    if url and not url.lower().startswith(("http://", "https://")):
        raise SimError(1, "invalid fileurl")
    user_ip = params.get("userip").strip()
    if user_ip:
        try:
            ipaddress.ip_address(user_ip)
        except ValueError:
            raise SimError(1, "invalid userip") from None
    code = params.get("imgcode")
    if code and code != CAPTCHA_CODE:
        raise SimError(10, "invalid image code")
    partner = params.get("pp").strip()
    if partner and not partner.isdigit():
        raise SimError(1, "invalid pp")
    call = params.get("param").strip()
    if call:
        match = _PARAM_RE.fullmatch(call)
        if match is None:
            raise SimError(1, "invalid param")
        wait, interval, attempts = (int(g) for g in match.groups())
        if not (10 <= wait <= 35 and 10 <= interval <= 3600 and 1 <= attempts <= 9):
            raise SimError(1, "invalid param")


# ---- jobs.php creation options --------------------------------------------------------

_MAILING_KEYS = ("rpt", "rptn", "fl[5]", "mes2", "sender2", "tpl")


def mailing_options(account: st.Account, params: _Params) -> tuple[_Params, dict[str, str]]:
    """Check jobs.php's own creation options; a ``tpl`` mailing takes its text (``mes``) from
    the template. Returns the parameters to send with and the options to keep."""
    params.int("rpt", 0, low=0, high=7)
    if params.has("rptn"):
        params.int("rptn", 1, low=1)
        if params.int("rpt", 0) == 0:
            raise SimError(1, "rptn needs rpt")
    kept = {k: params.get(k) for k in _MAILING_KEYS if params.has(k)}
    if params.get("tpl"):
        template = account.templates.get(params.int("tpl", 0))
        if template is None:
            raise SimError(3, "template not found")
        values = dict(params.values, mes=template["msg"])
        if template.get("sender") and not params.get("sender"):
            values["sender"] = template["sender"]
        return _Params(values), kept
    return params, kept


# ---- senders.php -----------------------------------------------------------------------

#: senders.php fields kept with a name (comment and the owner's registration details).
_SENDER_FIELDS = ("cmt", "fio", "inn", "site", "email", "address", "desc")


def _find_sender(account: st.Account, params: _Params) -> int | None:
    if params.get("id"):
        sender_id = params.int("id", 0)
        return sender_id if sender_id in account.senders else None
    name = params.get("sender")
    return next((i for i, s in account.senders.items() if s == name), None)


def _keep_sender_fields(account: st.Account, sender_id: int, params: _Params) -> None:
    inn = params.get("inn").strip()
    if inn and not (inn.isdigit() and len(inn) in (10, 12)):
        raise SimError(1, "invalid inn")
    info = account.sender_info.setdefault(sender_id, {})
    info.update({k: params.get(k) for k in _SENDER_FIELDS if params.has(k)})


def handle_senders(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    """senders.php: get (``all=1`` too), add, chg and del by name or id, send/check code."""
    state = app.state
    if params.flag("get"):
        _limit(app, account, ("senders-get", params.fingerprint()), 3)
        rows = []
        for sender_id, name in sorted(account.senders.items()):
            info = account.sender_info.get(sender_id, {})
            row: dict[str, object] = {"id": sender_id, "sender": name}
            if info.get("cmt"):
                row["cmt"] = info["cmt"]
            if params.flag("all"):
                row.update({k: v for k, v in info.items() if k != "cmt"})
            rows.append(row)
        return _Answer(rows)
    if params.flag("add"):
        _limit(app, account, ("senders-add",), 5)
        name = params.get("sender").strip()
        if not name or len(name) > 15 or (not name.isdigit() and len(name) > 11):
            raise SimError(1, "invalid sender")
        if name in account.senders.values():
            raise SimError(5, "sender already exists")
        sender_id = state.next_misc_id()
        _keep_sender_fields(account, sender_id, params)
        account.senders[sender_id] = name
        return _Answer({"id": sender_id})
    if params.flag("chg"):
        found = _find_sender(account, params)
        if found is None:
            raise SimError(3, "sender not found")
        _keep_sender_fields(account, found, params)
        if params.get("new_sender"):
            account.senders[found] = params.get("new_sender")
        return _Answer(_OK, plain="OK", csv="OK")
    if params.flag("del"):
        found = _find_sender(account, params)
        if found is None:
            raise SimError(3, "sender not found")
        del account.senders[found]
        account.sender_info.pop(found, None)
        return _Answer(_OK, plain="OK", csv="OK")
    if params.flag("send_code"):
        name = params.get("sender").strip()
        if not name.isdigit() or st.normalize_phone(name) is None:
            raise SimError(7, "invalid number")
        if name in account.sender_codes:
            raise SimError(10, "code already sent, retry in 8 hours")
        account.sender_codes[name] = f"{(int(name) * 7919) % 1_000_000:06d}"
        return _Answer(_OK, plain="OK", csv="OK")
    if params.flag("check_code"):
        name = params.get("sender").strip()
        expected = account.sender_codes.get(name)
        if expected is None:
            raise SimError(3, "sender not found")
        if params.get("code").strip() != expected:
            raise SimError(11, "invalid code")
        del account.sender_codes[name]
        if name not in account.senders.values():
            account.senders[state.next_misc_id()] = name
        return _Answer(_OK, plain="OK", csv="OK")
    raise SimError(1, "unknown senders.php command")


# ---- templates.php ---------------------------------------------------------------------

_TEMPLATE_FORMATS = frozenset({"sms", "flash", "bin", "push", "mms", "call", "mail", "viber"})


def _keep_template_fields(record: dict[str, str], params: _Params) -> None:
    if params.has("format") and params.get("format") not in _TEMPLATE_FORMATS:
        raise SimError(1, "invalid format")
    if params.has("msg") and not params.get("msg"):
        raise SimError(1, "msg is empty")
    for key in ("name", "msg", "format", "sender", "fl[1]"):
        if params.has(key):
            record[key] = params.get(key)


def handle_templates(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    """templates.php: get, add, chg and del by id."""
    _limit(app, account, ("templates", params.fingerprint()), 3)
    if params.flag("get"):
        rows = [{"id": i, **t} for i, t in sorted(account.templates.items())]
        return _Answer(rows)
    if params.flag("add"):
        if not params.get("name").strip() or not params.get("msg"):
            raise SimError(1, "name and msg are required")
        record = {"format": "sms", "sender": "", "fl[1]": "0"}
        _keep_template_fields(record, params)
        template_id = app.state.next_misc_id()
        account.templates[template_id] = record
        return _Answer({"id": template_id}, plain=f"OK, ID - {template_id}", csv=str(template_id))
    found = account.templates.get(params.int("id", 0))
    if params.flag("chg"):
        if found is None:
            raise SimError(3, "template not found")
        _keep_template_fields(found, params)
        return _Answer(_OK, plain="OK", csv="OK")
    if params.flag("del"):
        if found is None:
            raise SimError(3, "template not found")
        del account.templates[params.int("id", 0)]
        return _Answer(_OK, plain="OK", csv="OK")
    raise SimError(1, "unknown templates.php command")


# ---- users.php -------------------------------------------------------------------------

_CLIENT_FIELDS = ("type", "email", "phone", "sender", "url")


def _sub_client(app: SimulatorApp, account: st.Account, login: str) -> st.Account:
    found = app.state.accounts.get(login)
    if found is None or found.parent != account.login:
        raise SimError(3, "client not found")
    return found


def handle_users(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    """users.php: add (a real account that can log in), chg, pay, get_stat, get_stat_all."""
    state = app.state
    if params.flag("add"):
        login = params.get("user").strip()
        password = params.get("pswc")
        if not login or not password or not login.replace("_", "").isalnum():
            raise SimError(1, "user and pswc are required")
        if login in state.accounts:
            raise SimError(5, "login already exists")
        params.int("type", 0, low=0, high=4)
        client = state.add_account(login, password, balance=Decimal(0))
        client.parent = account.login
        client.client_fields = {k: params.get(k) for k in _CLIENT_FIELDS if params.has(k)}
        return _Answer({"id": state.next_misc_id()})
    if params.flag("chg"):
        client = _sub_client(app, account, params.get("user").strip())
        if params.get("pswc"):
            client.password = params.get("pswc")
        new_login = params.get("new_login").strip()
        if new_login and new_login != client.login:
            if new_login in state.accounts:
                raise SimError(5, "login already exists")
            del state.accounts[client.login]
            client.login = new_login
            state.accounts[new_login] = client
        client.client_fields.update({k: params.get(k) for k in _CLIENT_FIELDS if params.has(k)})
        return _Answer(_OK, plain="OK", csv="OK")
    if params.flag("pay"):
        client = _sub_client(app, account, params.get("user").strip())
        try:
            amount = Decimal(params.get("sum").strip())
        except InvalidOperation:
            raise SimError(1, "invalid sum") from None
        if not amount.is_finite() or amount <= 0:
            raise SimError(1, "invalid sum")
        if amount > account.balance:
            raise SimError(3, "not enough money")
        account.balance -= amount
        state.set_balance(client.login, client.balance + amount)
        return _Answer(_OK, plain="OK", csv="OK")
    if params.flag("get_stat") or params.flag("get_stat_all"):
        if params.flag("get_stat"):
            clients = [_sub_client(app, account, params.get("user").strip())]
        else:
            clients = [a for a in state.accounts.values() if a.parent == account.login]
        rows = []
        for client in clients:
            messages = state.sent_messages(client.login)
            rows.append(
                {
                    "login": client.login,
                    "sms": str(sum(m.parts for m in messages)),
                    "credit": format_money(sum((m.cost for m in messages), Decimal(0))),
                    "debit": format_money(client.debit),
                    "currency": client.currency,
                }
            )
        return _Answer(rows)
    raise SimError(1, "unknown users.php command")


# ---- tinyurls.php, ping.php, get_mnp.php -----------------------------------------------

_LINK_RE = re.compile(r"https?://[^\s]+", re.IGNORECASE)


def shorten_links(app: SimulatorApp, account: st.Account, text: str) -> None:
    """Register the links of a ``tinyurl=1`` send, so tinyurls.php can report on them."""
    for link in _LINK_RE.findall(text):
        if not any(entry["link"] == link for entry in account.short_links.values()):
            account.short_links[app.state.next_misc_id()] = {
                "link": link,
                "cnt": 0,
                "cnt_mon": 0,
                "cnt_day": 0,
                "cnt_yes": 0,
            }


def handle_tinyurls(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    """tinyurls.php ``get=1`` by ``link`` or ``id``; error 3 when there is no such link."""
    _limit(app, account, ("tinyurls", params.fingerprint()), 3)
    if not params.flag("get"):
        raise SimError(1, "unknown tinyurls.php command")
    if params.get("id"):
        link_id = params.int("id", 0)
        entry = account.short_links.get(link_id)
    elif params.get("link"):
        link = params.get("link")
        link_id, entry = next(
            ((i, e) for i, e in account.short_links.items() if e["link"] == link), (0, None)
        )
    else:
        raise SimError(1, "link or id is required")
    if entry is None:
        raise SimError(3, "link not found")
    return _Answer({"id": link_id, **entry})


def handle_ping(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    """ping.php: an event notification to a group (``ok`` 0 failure, 1 recovery)."""
    group = params.int("id", 0, low=0)
    ok = params.int("ok", 0, low=0, high=1)
    if group not in account.ping_groups:
        raise SimError(3, "notification group not found")
    event = {"id": str(group), "ok": str(ok)}
    event.update({k: params.get(k) for k in ("name", "host", "info") if params.has(k)})
    account.ping_events.append(event)
    return _Answer(_OK, plain="OK", csv="OK")


def handle_get_mnp(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    """get_mnp.php: with ``date`` a JSON list of that day's ported numbers, else all as CSV."""
    day = params.get("date").strip()
    if day:
        try:
            datetime.strptime(day, "%d.%m.%Y")
        except ValueError:
            raise SimError(1, "invalid date") from None
        rows = [{"phone": p, "mccmnc": m} for d, p, m in app.state.ported if d == day]
        return _Answer(rows)
    csv = "Phone;mccmnc\n" + "".join(f"{p};{m}\n" for _d, p, m in app.state.ported)
    return _Answer(raw=csv.encode("ascii"), raw_type="text/csv")
