"""The answer decoders of the core scripts: fmt=3 JSON in, models and records out.

One ``parse_*`` per answer of :mod:`smscenter.http._builders`' requests (send.php, status.php,
balance.php, get.php, info.php, receive_phones, wait_call, downloads), with the field names of
https://smscentre.com/api/http/. The shared value decoders live in :mod:`smscenter.http._answer`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import tzinfo
from decimal import Decimal
from typing import Any, Final

from smscenter.exceptions import (
    RemoteProtocolError,
)
from smscenter.http._answer import (
    _int,
    _mapping,
    _money,
    _rows,
    _split_mccmnc,
    _str,
    _when,
    parse_int,
    parse_local,
    parse_money,
)
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
    Balance,
    Cost,
    DeliveryError,
    DeliveryReport,
    HlrInfo,
    IncomingMessage,
    MessageFlags,
    MessageStatus,
    MessageType,
    RecipientResult,
    SendResult,
    client_id_of,
)


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
