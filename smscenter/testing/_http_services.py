"""The simulator's numbers, calls, exports and mailings: receive_phones.php, wait_call.php,
downloads.php and jobs.php.

Renting a number to receive messages on, the call-to-confirm flow, deferred exports and their
files, and mailings the provider runs itself (https://smscentre.com/api/http/). Registered by
:mod:`smscenter.testing._http_app`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from smscenter._provider import MOSCOW
from smscenter.testing import _state as st
from smscenter.testing._http_base import _OK, _Answer, _limit, _Params
from smscenter.testing._http_calls import (
    mailing_options,
)
from smscenter.testing._http_send import send_request
from smscenter.testing._state import SimError, format_date, format_money

if TYPE_CHECKING:
    from smscenter.testing._http_app import SimulatorApp

__all__ = ("handle_downloads", "handle_jobs", "handle_receive_phones", "handle_wait_call")


# ---- receive_phones.php ----------------------------------------------------------------


def _current_cost(now: float, full: Decimal) -> Decimal:
    """The rent for the rest of the current month (the provider charges the remaining days)."""
    today = datetime.fromtimestamp(now, MOSCOW)
    first_next = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    days_in_month = (first_next - timedelta(days=1)).day
    remaining = days_in_month - today.day + 1
    return (full * remaining / days_in_month).quantize(Decimal("0.01"))


def handle_receive_phones(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    state = app.state
    _limit(app, account, ("receive_phones", params.fingerprint()), 2)
    if params.flag("get") or params.flag("gets"):
        rows = [
            {
                "phone": p.phone,
                "type": p.type,
                "cost": format_money(p.cost),
                "current_cost": format_money(_current_cost(state.now(), p.cost)),
                "info": p.info,
            }
            for p in state.receive_phones.values()
            if p.owner is None
        ]
        return _Answer(rows)
    phone = st.normalize_phone(params.get("phone")) if params.get("phone") else None
    if phone is None:
        raise SimError(1, "phone is empty")
    number = state.receive_phones.get(phone)
    if params.flag("buy"):
        if number is None or number.owner is not None:
            raise SimError(1, "phone is not available")
        cost = _current_cost(state.now(), number.cost)
        if cost > account.balance:
            raise SimError(3, "not enough money")
        account.balance -= cost
        number.owner = account.login
        number.noprolong = params.flag("noprolong")
        return _Answer({"cost": format_money(cost)}, plain=f"cost = {format_money(cost)}")
    if params.flag("chg"):
        if number is None or number.owner != account.login:
            raise SimError(1, "phone is not yours")
        number.noprolong = params.flag("noprolong")
        return _Answer(_OK, plain="OK", csv="OK")
    raise SimError(1, "unknown receive_phones.php command")


# ---- wait_call.php ---------------------------------------------------------------------


def handle_wait_call(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    state = app.state
    _limit(app, account, ("wait_call", params.fingerprint()), 50)
    phone = st.normalize_phone(params.get("phone")) if params.get("phone") else None
    if phone is None:
        raise SimError(1, "invalid phone")
    if phone in account.blacklist:
        raise SimError(5, "phone is in the black list")
    number = state.register_wait_call(account.login, phone)
    return _Answer(
        {"phone": number, "all_phones": list(state.wait_call_numbers)},
        plain=f"phone = {number}, all_phones = {','.join(state.wait_call_numbers)}",
        csv=",".join(state.wait_call_numbers),
    )


# ---- downloads.php ---------------------------------------------------------------------


def handle_downloads(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    _limit(app, account, ("downloads", params.fingerprint()), 3)
    if params.flag("get_list"):
        after = params.int("after_id", 0, low=0)
        count = params.int("cnt", 0, low=0)
        tasks = [t for t in sorted(account.downloads.values(), key=lambda t: t.id) if t.id > after]
        if count:
            tasks = tasks[:count]
        rows = [
            {
                "id": t.id,
                "name": t.name,
                "status": str(t.status),
                "created": format_date(t.created_at),
                "time": format_date(t.started_at),
                "file": t.file,
            }
            for t in tasks
        ]
        return _Answer(rows)
    if params.flag("get_file"):
        task: st.SimDownloadTask | None = None
        if params.get("id"):
            task = account.downloads.get(params.int("id", 0))
        elif params.get("name"):
            name = params.get("name")
            task = next((t for t in account.downloads.values() if name in (t.name, t.file)), None)
        else:
            raise SimError(1, "id or name is required")
        if task is None or task.status != 2:
            raise SimError(5, "task or file not found")
        return _Answer(raw=task.content, raw_type="text/csv")
    raise SimError(1, "unknown downloads.php command")


# ---- jobs.php --------------------------------------------------------------------------


def _job_row(job: st.SimMailing) -> dict[str, object]:
    return {
        "id": job.id,
        "name": job.name,
        "status": job.status,
        "created": format_date(job.created_at),
        "cost": format_money(job.cost),
        "phones": job.phones,
        "mes": job.text,
        "sms_id": job.message_id,
        **job.options,
    }


def handle_jobs(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    state = app.state
    if params.flag("add"):
        dup_key = ("jobs", params.fingerprint())
        state.check_duplicate(account.login, dup_key, 1)
        name = params.get("name").strip()
        if not name:
            raise SimError(1, "name is empty")
        price_only = params.flag("cost")
        params, job_options = mailing_options(account, params)
        requests = send_request(app, params, price_only=price_only)
        outcomes = [state.send(account.login, r) for r in requests]
        cost = sum((o.cost for o in outcomes), Decimal(0))
        state.remember(account.login, dup_key)
        job = st.SimMailing(
            id=state.next_misc_id(),
            name=name,
            message_id=None if price_only else outcomes[0].id,
            created_at=state.now(),
            cost=cost,
            phones=params.get("phones"),
            text=params.get("mes"),
            status="priced" if price_only else "active",
            options=job_options,
        )
        if not price_only:
            for outcome in outcomes:
                for message in outcome.messages:
                    message.job_id = job.id
            account.jobs[job.id] = job
        body: dict[str, object] = {"id": job.id}
        if price_only:
            body["cost"] = format_money(cost)
        return _Answer(body, plain=f"OK, ID - {job.id}", csv=str(job.id))
    if params.flag("get_all"):
        return _Answer([_job_row(j) for j in sorted(account.jobs.values(), key=lambda j: j.id)])
    job_id = params.int("id", 0)
    found = account.jobs.get(job_id)
    if params.flag("get"):
        if found is None:
            raise SimError(3, "job not found")
        return _Answer(_job_row(found))
    if params.flag("del") or params.flag("cancel"):
        if found is None:
            raise SimError(3, "job not found")
        if params.flag("del"):
            del account.jobs[job_id]
        else:
            found.status = "cancelled"
            for message in app.state.sent_messages(account.login):
                if message.job_id == job_id and message.status == st.ST_QUEUED:
                    message.status, message.changed_at = -2, state.now()
        return _Answer(_OK, plain="OK", csv="OK")
    raise SimError(1, "unknown jobs.php command")


def _decimal(value: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        raise SimError(1, "invalid number value") from None
