"""The simulator's send.php and status.php: sending, pricing and the delivery status.

send.php's message types and flags, binary payloads, ``list=`` sends and the answers with
``cost`` and ``op=1`` rows; status.php for one message or a list, at the three detail levels,
as JSON, plain text or CSV (https://smscentre.com/api/http/: send.php, status.php). Registered
by :mod:`smscenter.testing._http_app`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from smscenter._provider import COMMENT_SEPARATOR
from smscenter.testing import _state as st
from smscenter.testing._http_base import _OK, _Answer, _Params, _split_phones
from smscenter.testing._http_calls import (
    check_send_options,
    shorten_links,
)
from smscenter.testing._state import SimError, format_date, format_money

if TYPE_CHECKING:
    from smscenter.testing._http_app import SimulatorApp

__all__ = ("handle_send", "handle_status", "send_request", "status_fields")


_TYPE_FLAGS = (
    ("flash", st.TYPE_FLASH),
    ("push", st.TYPE_PUSH),
    ("hlr", st.TYPE_HLR),
    ("ping", st.TYPE_PING),
    ("mms", st.TYPE_MMS),
    ("mail", st.TYPE_MAIL),
    ("call", st.TYPE_CALL),
    ("viber", st.TYPE_VIBER),
    ("soc", st.TYPE_SOC),
    ("tg", st.TYPE_SOC),
)


def _message_type(params: _Params) -> tuple[int, bool]:
    chosen = [key for key, _t in _TYPE_FLAGS if params.flag(key)]
    bin_mode = params.int("bin", 0, low=0, high=2)
    if bin_mode:
        chosen.append("bin")
    if params.get("bot"):
        chosen.append("bot")
    if len(chosen) > 1:
        raise SimError(1, "conflicting message type flags")
    types = dict(_TYPE_FLAGS, bin=st.TYPE_BIN, bot=st.TYPE_SOC)
    return (types[chosen[0]] if chosen else st.TYPE_SMS), bin_mode == 2


def _message_kind(params: _Params) -> str | None:
    """The kind a type number cannot say: a Telegram code or a chat-bot message."""
    if params.flag("tg"):
        return "telegram"
    if params.get("bot"):
        return "bot"
    return None


def _binary_payload(params: _Params, hex_binary: bool) -> bytes | None:
    """The bytes of a binary message: ``bin=2`` hex digits, or ``bin=1`` the urlencoded bytes
    themselves (not decoded by ``charset``). The comment suffix is not part of the payload."""
    if params.get("list"):
        return None
    if hex_binary:
        digits = st.split_comment(params.get("mes"))[0]
        try:
            return bytes.fromhex(digits)
        except ValueError:
            raise SimError(1, "invalid hex in mes") from None
    raw = params.raw.get("mes")
    if raw is None:
        return params.get("mes").encode("utf-8")  # a multipart or JSON body: already text
    return raw.split(COMMENT_SEPARATOR.encode("ascii"))[0]


def send_request(app: SimulatorApp, params: _Params, *, price_only: bool) -> list[st.SendRequest]:
    state = app.state
    check_send_options(params)
    type_, hex_binary = _message_type(params)
    payload = _binary_payload(params, hex_binary) if type_ == st.TYPE_BIN else None
    client_id = params.get("id").strip() or None
    if client_id is not None:
        if client_id.isdigit():
            if not 1 <= int(client_id) <= 2147483647:
                raise SimError(1, "invalid id")
        elif len(client_id) > 40 or not all(c.isalnum() or c in ".-_" for c in client_id):
            raise SimError(1, "invalid id")
    sender = params.get("sender") if params.has("sender") else None
    too_long = sender is not None and (
        len(sender) > 15 or (not sender.isdigit() and len(sender) > 11)
    )
    if too_long and type_ != st.TYPE_MAIL:
        raise SimError(1, "invalid sender")
    start_at = None
    if params.get("time"):
        tz = params.int("tz", 0, low=-24, high=24)
        start_at = st.parse_schedule(params.get("time"), state.now(), tz)
    valid = st.parse_validity(params.get("valid")) if params.get("valid") else None
    max_parts = params.int("maxsms", 0, low=0) or None
    translit = params.int("translit", 0, low=0, high=2)
    common = {
        "type": type_,
        "sender": sender,
        "client_id": client_id,
        "translit": translit,
        "max_parts": max_parts,
        "start_at": start_at,
        "valid_seconds": valid,
        "price_only": price_only,
        "hex_binary": hex_binary,
        "payload": payload,
        "kind": _message_kind(params),
    }
    if params.get("list"):
        out = []
        lines = [ln for ln in params.get("list").splitlines() if ln.strip()]
        for line in lines:
            phones, sep, text = line.partition(":")
            if not sep:
                raise SimError(1, "invalid list line")
            out.append(
                st.SendRequest(
                    phones=_split_phones(phones),
                    text=text.replace("\\n", "\n"),
                    **common,  # type: ignore[arg-type]
                )
            )
        return out
    if not params.get("phones").strip():
        raise SimError(1, "phones is empty")
    text = params.get("mes")
    if type_ == st.TYPE_MAIL and not params.get("subj"):
        raise SimError(1, "subj is required for e-mail")
    return [
        st.SendRequest(
            phones=_split_phones(params.get("phones")),
            text=text,
            **common,  # type: ignore[arg-type]
        )
    ]


def _recipient_rows(rows: tuple[st.SimRecipientOutcome, ...]) -> list[dict[str, object]]:
    return [
        {
            "phone": r.phone,
            "mccmnc": r.mccmnc,
            "cost": format_money(r.cost),
            "status": str(r.status),
            "error": str(r.err),
        }
        for r in rows
    ]


def handle_send(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    state = app.state
    cost_mode = params.int("cost", 0, low=0, high=3)
    requests = send_request(app, params, price_only=cost_mode == 1)
    # "Identical" means the same parameter set (credentials, fmt and all), checked once for the
    # whole request; only accepted requests count, so a retry after an error goes through.
    dup_key = ("cost" if cost_mode == 1 else "send", params.fingerprint())
    state.check_duplicate(account.login, dup_key, 5 if cost_mode == 1 else 1)
    if len(requests) > 1:
        # ``list``: check the whole batch fits the balance before sending any of it.
        priced = [state.send(account.login, attrs.evolve(r, price_only=True)) for r in requests]
        total = sum((p.cost for p in priced), Decimal(0))
        if cost_mode != 1 and total > account.balance + (account.credit or Decimal(0)):
            raise SimError(3, "not enough money", priced[0].id)
    outcomes: list[st.SimSendOutcome] = []
    shared_id: int | None = None
    for req in requests:
        if shared_id is not None and req.client_id is None:
            req = attrs.evolve(req, client_id=str(shared_id))
        outcome = state.send(account.login, req)
        shared_id = outcome.id
        outcomes.append(outcome)
    state.remember(account.login, dup_key)
    if params.flag("tinyurl") and cost_mode != 1:
        for req in requests:
            shorten_links(app, account, req.text)
    first = outcomes[0]
    parts = sum(o.parts for o in outcomes)
    cost = sum((o.cost for o in outcomes), Decimal(0))
    balance = account.balance
    rows = tuple(r for o in outcomes for r in o.recipients)
    if cost_mode == 1:
        body: dict[str, object] = {"cost": format_money(cost), "cnt": parts}
        csv = f"{format_money(cost)},{parts}"
        plain = f"OK - {parts} SMS, COST - {format_money(cost)}"
    else:
        body = {"id": first.id, "cnt": parts}
        csv = f"{first.id},{parts}"
        plain = f"OK - {parts} SMS, ID - {first.id}"
        if cost_mode >= 2:
            body["cost"] = format_money(cost)
            csv += f",{format_money(cost)}"
            plain += f", COST - {format_money(cost)}"
        if cost_mode == 3:
            body["balance"] = format_money(balance)
            csv += f",{format_money(balance)}"
            plain += f", BALANCE - {format_money(balance)}"
    if params.flag("op") or params.flag("err"):
        selected = rows if params.flag("op") else tuple(r for r in rows if r.status in (22, 23))
        body["phones"] = _recipient_rows(selected)
    return _Answer(body, plain=plain, csv=csv)


# ---- status.php ------------------------------------------------------------------------


def status_fields(message: st.SentMessage, level: int) -> dict[str, object]:
    fields: dict[str, object] = {
        "status": message.status,
        "last_date": format_date(message.changed_at),
        "last_timestamp": int(message.changed_at),
        "flag": message.flag,
        "err": message.err,
    }
    untyped = message.reported_type is None
    if untyped:
        del fields["flag"]  # no type number to put in bits 0-3
    if message.hlr is not None and message.status == st.ST_DELIVERED:
        fields.update(message.hlr.as_dict())
    if level >= 1:
        text = message.text
        fields.update(
            {
                "send_date": format_date(message.submitted_at),
                "send_timestamp": int(message.submitted_at),
                "phone": message.phone,
                "cost": format_money(message.cost),
                "sender_id": message.sender or "",
                "status_name": st.STATUS_NAMES.get(message.status, ""),
                "message": text,
                "comment": message.comment or "",
                "type": message.type,
                "sms_cnt": message.parts,
            }
        )
        if untyped:
            del fields["type"]
    if level >= 2:
        info = st.lookup_operator(message.phone)
        fields.update(
            {
                "country": info[0] if info else "",
                "operator": info[1] if info else "",
                "region": info[2] if info else "",
            }
        )
    return fields


def handle_status(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    state = app.state
    raw_ids = params.get("id")
    raw_phones = params.get("phone")
    if not raw_ids.strip():
        raise SimError(1, "id is empty")
    level = params.int("all", 0, low=0, high=2)
    bulk = "," in raw_ids
    ids = [i.strip() for i in raw_ids.split(",")]
    phones = [p.strip() for p in raw_phones.split(",")] if raw_phones else []
    if bulk:
        ids = [i for i in ids if i]
        phones = phones[: len(ids)]
        if phones and len(phones) != len(ids):
            raise SimError(1, "id and phone lists differ in length")
        if state.behaviour.rate_limits and not state.hit(account.login, ("status-bulk",), 1):
            raise SimError(9, "duplicate request, wait a minute")
    if params.flag("del"):
        deleted = 0
        for index, mid in enumerate(ids):
            message = state.find(account.login, mid, phones[index] if index < len(phones) else None)
            if message is not None:
                state.delete(message)
                deleted += 1
        if not deleted:
            raise SimError(3, "message not found")
        return _Answer(_OK, plain="OK", csv="OK")
    results: list[dict[str, object]] = []
    for index, mid in enumerate(ids):
        phone = phones[index] if index < len(phones) and phones[index] else None
        message = state.find(account.login, mid, phone)
        if message is None:
            if not bulk:
                raise SimError(3, "message not found")
            results.append(
                {
                    "status": st.ST_NOT_FOUND,
                    "id": int(mid) if mid.isdigit() else mid,
                    "phone": phone or "",
                }
            )
            continue
        if (
            not bulk
            and state.behaviour.rate_limits
            and not state.hit(account.login, ("status", message.id, message.phone), 5)
        ):
            raise SimError(9, "duplicate request, wait a minute")
        fields = status_fields(message, level)
        if bulk:
            fields = {"id": message.id, "phone": message.phone, **fields}
        results.append(fields)
    if bulk:
        csv = "\n".join(_status_csv(r, level, bulk=True) for r in results)
        return _Answer(results, csv=csv)
    only = results[0]
    plain = f"Status = {only['status']}, check_time = {only['last_date']}, err = {only['err']}"
    return _Answer(only, plain=plain, csv=_status_csv(only, level, bulk=False))


_HLR_KEYS = ("imsi", "msc", "mcc", "mnc", "cn", "net", "rcn", "rnet")


def _status_csv(row: Mapping[str, object], level: int, *, bulk: bool) -> str:
    """One fmt=1 status line in the official libraries' column order (the provider's official
    libraries): status, time, err, [HLR fields], [all>=1: send time, phone, cost, sender, status
    name, [all=2: country, operator, region], message]; a bulk line adds id (and phone at all=0)."""
    if row["status"] == st.ST_NOT_FOUND and "last_timestamp" not in row:
        return f"{st.ST_NOT_FOUND},0,0,{row['id']},{row['phone']}"
    cols: list[object] = [row["status"], row["last_timestamp"], row["err"]]
    if "imsi" in row:
        cols += [row[k] for k in _HLR_KEYS]
    if level >= 1:
        cols += [row[k] for k in ("send_timestamp", "phone", "cost", "sender_id", "status_name")]
        if level >= 2:
            cols += [row["country"], row["operator"], row["region"]]
        cols.append(row["message"])
    if bulk:
        cols += [row["id"], row["phone"]] if level == 0 else [row["id"]]
    return ",".join(str(c) for c in cols)
