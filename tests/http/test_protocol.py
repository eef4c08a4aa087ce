"""The sans-IO HTTP protocol: models to form fields, fmt=3 JSON to models and typed errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from smscenter import (
    APIError,
    AuthenticationError,
    BlacklistedError,
    DeliveryError,
    DuplicateRequestError,
    InsufficientFundsError,
    InvalidRecipientError,
    InvalidTimeError,
    IPBlockedError,
    Message,
    MessageForbiddenError,
    MessageKind,
    MessageStatus,
    NotFoundError,
    OperationFailedError,
    ParameterError,
    RemoteProtocolError,
    SendOptions,
    SendWindow,
    UndeliverableError,
    VerificationCodeError,
)
from smscenter._provider import MOSCOW
from smscenter.http import DownloadStatus
from smscenter.http import _protocol as proto
from smscenter.models import Attachment, MessageType, Translit

MSK = MOSCOW


def params(request: proto.Request) -> dict[str, str]:
    out = dict(request.params)
    assert len(out) == len(request.params), "a parameter appears twice"
    return out


# --- send parameters -------------------------------------------------------------------------


def test_plain_send_uses_cost_3_and_joins_recipients() -> None:
    request = proto.send_request(Message(to=["+79990000001", "79990000002"], text="Hi"))
    assert request.path == "/sys/send.php"
    assert request.action == "send"
    assert params(request) == {"phones": "+79990000001,79990000002", "mes": "Hi", "cost": "3"}
    assert request.files == ()


def test_form_always_carries_fmt3_utf8_and_credentials_first() -> None:
    request = proto.balance_request()
    form = request.form({"login": "acme", "psw": "pw"})
    assert form[:4] == [("login", "acme"), ("psw", "pw"), ("fmt", "3"), ("charset", "utf-8")]
    assert ("cur", "1") in form


def test_cost_request_is_price_only() -> None:
    request = proto.send_request(Message(to="79990000001", text="Hi"), price_only=True)
    assert request.action == "cost"
    assert params(request)["cost"] == "1"


def test_op_flag_for_per_recipient_details() -> None:
    request = proto.send_request(Message(to="79990000001", text="x"), per_recipient=True)
    assert params(request)["op"] == "1"


@pytest.mark.parametrize(
    ("kind", "extra", "flag"),
    [
        (MessageKind.FLASH, {}, ("flash", "1")),
        (MessageKind.WAP_PUSH, {"text": "http://x.ru\nTitle"}, ("push", "1")),
        (MessageKind.HLR, {"text": ""}, ("hlr", "1")),
        (MessageKind.BINARY, {}, ("bin", "2")),
        (MessageKind.BINARY_HEX, {"text": "0605"}, ("bin", "2")),
        (MessageKind.PING, {"text": ""}, ("ping", "1")),
        (MessageKind.MMS, {}, ("mms", "1")),
        (MessageKind.CALL, {}, ("call", "1")),
        (MessageKind.VIBER, {}, ("viber", "1")),
        (MessageKind.SOCIAL, {}, ("soc", "1")),
        (MessageKind.TELEGRAM, {"text": "1234"}, ("tg", "1")),
    ],
)
def test_kind_flags(kind: MessageKind, extra: dict[str, Any], flag: tuple[str, str]) -> None:
    fields: dict[str, Any] = {"to": "79990000001", "text": "abc", "kind": kind, **extra}
    got = params(proto.send_request(Message(**fields)))
    assert got[flag[0]] == flag[1]
    others = {"flash", "push", "hlr", "bin", "ping", "mms", "mail", "call", "viber", "soc", "tg"}
    assert not (others - {flag[0]}) & set(got)


def test_email_and_bot_fields() -> None:
    mail = Message(
        to="dest@example.com",
        text="Body",
        kind=MessageKind.EMAIL,
        sender="src@example.com",
        subject="Confirmation",
    )
    got = params(proto.send_request(mail))
    assert got["mail"] == "1"
    assert got["subj"] == "Confirmation"
    assert got["sender"] == "src@example.com"
    bot = Message(to="79990000001", text="hi", kind=MessageKind.BOT, bot="@acme_bot")
    got = params(proto.send_request(bot))
    assert got["bot"] == "@acme_bot"
    assert "tg" not in got


def test_every_option_is_encoded() -> None:
    message = Message(
        to="79990000001",
        text="Hello",
        sender="ACME",
        translit=Translit.MPAHC,
        validity=timedelta(hours=1, minutes=30),
        client_id=42,
        comment="order 17",
        max_parts=3,
        tinyurl=True,
        options=SendOptions(captcha_code="1234", user_ip="10.0.0.1"),
    )
    got = params(proto.send_request(message))
    assert got == {
        "phones": "79990000001",
        "mes": "Hello\n~~~\norder 17",
        "cost": "3",
        "sender": "ACME",
        "translit": "2",
        "valid": "01:30",
        "id": "42",
        "maxsms": "3",
        "tinyurl": "1",
        "imgcode": "1234",
        "userip": "10.0.0.1",
    }


def test_call_voice_and_empty_sender() -> None:
    got = params(
        proto.send_request(
            Message(to="79990000001", text="Code 1 2 3", kind=MessageKind.CALL, voice="w,en")
        )
    )
    assert got["voice"] == "w,en"
    assert (
        params(proto.send_request(Message(to="79990000001", text="x", sender="")))["sender"] == ""
    )


def test_time_forms() -> None:
    aware = datetime(2024, 1, 2, 3, 4, tzinfo=UTC)
    assert proto.encode_time(aware) == f"0{int(aware.timestamp())}"
    assert proto.encode_time(datetime(2024, 1, 2, 3, 4, tzinfo=timezone(timedelta(hours=3)))) == (
        f"0{int(datetime(2024, 1, 2, 0, 4, tzinfo=UTC).timestamp())}"
    )
    assert proto.encode_time(datetime(2024, 1, 2, 3, 4)) == "0201240304"
    assert proto.encode_time(timedelta(minutes=90)) == "+90"
    assert proto.encode_time(SendWindow(9, 21)) == "9-21"
    got = params(
        proto.send_request(Message(to="79990000001", text="x", send_at=timedelta(hours=2)))
    )
    assert got["time"] == "+120"


def test_validity_bounds() -> None:
    assert proto.encode_validity(timedelta(minutes=1)) == "00:01"
    assert proto.encode_validity(timedelta(hours=24)) == "24:00"


def test_attachments_travel_as_files() -> None:
    att = Attachment("pic.png", b"\x89PNG", "image/png")
    request = proto.send_request(
        Message(to="79990000001", text="see", kind=MessageKind.MMS, attachments=[att])
    )
    assert request.files == (att,)


def test_list_send_lines_and_escaped_newlines() -> None:
    messages = [
        Message(to="79990000001", text="Code 1\nbye", sender="ACME"),
        Message(to=["79990000002", "79990000003"], text="Code 2", sender="ACME", comment="c"),
    ]
    got = params(proto.list_send_request(messages))
    assert got["list"] == ("79990000001:Code 1\\nbye\n79990000002,79990000003:Code 2\\n~~~\\nc")
    assert got["sender"] == "ACME"
    assert "phones" not in got
    assert "mes" not in got


def test_list_send_refuses_mixed_options() -> None:
    with pytest.raises(ValueError, match="differs"):
        proto.list_send_request(
            [Message(to="79990000001", text="a", sender="A"), Message(to="79990000002", text="b")]
        )
    with pytest.raises(ValueError):
        proto.list_send_request([])


# --- other requests ---------------------------------------------------------------------------


def test_status_requests() -> None:
    assert params(proto.status_request("5", "79990000001", detail=2)) == {
        "id": "5",
        "phone": "79990000001",
        "all": "2",
    }
    many = params(proto.status_many_request([("5", "7999"), ("6", "7998")]))
    assert many["id"] == "5,6,"
    assert many["phone"] == "7999,7998,"
    assert params(proto.delete_request("5", "7999"))["del"] == "1"
    with pytest.raises(ValueError):
        proto.status_request("5", "7999", detail=3)
    with pytest.raises(ValueError):
        proto.status_many_request([])


def test_get_requests() -> None:
    got = params(
        proto.history_request(
            start=date(2024, 1, 2), end=date(2024, 2, 3), phones=["7999", "7998"], count=10
        )
    )
    assert got == {
        "get_messages": "1",
        "start": "02.01.2024",
        "end": "03.02.2024",
        "phone": "7999,7998",
        "cnt": "10",
    }
    with pytest.raises(ValueError):
        proto.history_request(count=101)
    assert params(proto.incoming_request(hours=48, after_id="7")) == {
        "get_answers": "1",
        "hour": "48",
        "after_id": "7",
    }
    with pytest.raises(ValueError):
        proto.incoming_request(hours=169)
    stat = params(proto.statistics_request(start=date(2014, 1, 1), in_account_currency=True))
    assert stat == {"get_stat": "1", "start": "01.01.2014", "mycur": "1"}
    assert params(proto.megafon_accounts_request(account="111"))["account"] == "111"
    assert proto.prices_request().command == "get"
    op = proto.operator_request("79990000001")
    assert (op.command, params(op)) == (
        "info",
        {"get_operator": "1", "phone": "79990000001"},
    )


def test_various_requests() -> None:
    assert params(proto.buy_number_request("7999", renew=False)) == {
        "buy": "1",
        "phone": "7999",
        "noprolong": "1",
    }
    assert params(proto.set_number_renewal_request("7999", renew=True))["noprolong"] == "0"
    assert proto.wait_call_request("7999").path == "/sys/wait_call.php"
    assert params(proto.download_file_request(name="f.csv")) == {"get_file": "1", "name": "f.csv"}
    with pytest.raises(ValueError):
        proto.download_file_request()
    with pytest.raises(ValueError):
        proto.download_file_request(task_id="1", name="x")


# --- errors -----------------------------------------------------------------------------------

SEND = proto.send_request(Message(to="79990000001", text="x"))


@pytest.mark.parametrize(
    ("command", "code", "cls"),
    [
        ("send", 1, ParameterError),
        ("send", 2, AuthenticationError),
        ("send", 3, InsufficientFundsError),
        ("send", 4, IPBlockedError),
        ("send", 5, InvalidTimeError),
        ("send", 6, MessageForbiddenError),
        ("send", 7, InvalidRecipientError),
        ("send", 8, UndeliverableError),
        ("send", 9, DuplicateRequestError),
        ("send", 10, VerificationCodeError),
        ("status", 3, NotFoundError),
        ("status", 5, OperationFailedError),
        ("get", 3, NotFoundError),
        ("info", 3, NotFoundError),
        ("receive_phones", 3, InsufficientFundsError),
        ("wait_call", 3, InsufficientFundsError),
        ("wait_call", 5, BlacklistedError),
        ("wait_call", 6, OperationFailedError),
        ("downloads", 5, NotFoundError),
        ("jobs", 3, OperationFailedError),
        ("jobs", 5, InvalidTimeError),
        ("phones", 3, NotFoundError),
        ("senders", 11, VerificationCodeError),
        ("balance", 3, APIError),
        ("balance", 77, APIError),
    ],
)
def test_error_table(command: str, code: int, cls: type[APIError]) -> None:
    assert proto.error_class(command, code) is cls


def test_send_error_carries_id_text_and_endpoint() -> None:
    with pytest.raises(InvalidRecipientError) as info:
        proto.check_answer(SEND, {"error": "invalid number", "error_code": 7, "id": 34})
    err = info.value
    assert (err.code, err.description, err.message_id, err.endpoint) == (
        7,
        "invalid number",
        "34",
        "send",
    )
    assert "invalid number" in str(err)


def test_id_only_kept_for_send_errors_3_6_7_8() -> None:
    with pytest.raises(AuthenticationError) as info:
        proto.check_answer(SEND, {"error": "authorise error", "error_code": 2, "id": 1})
    assert info.value.message_id is None
    status = proto.status_request("1", "7999")
    with pytest.raises(NotFoundError) as nf:
        proto.check_answer(status, {"error": "message not found", "error_code": 3, "id": 1})
    assert nf.value.message_id is None
    assert nf.value.endpoint == "status"


def test_success_passes_through_and_bad_error_code() -> None:
    assert proto.check_answer(SEND, {"id": 1, "cnt": 1}) == {"id": 1, "cnt": 1}
    with pytest.raises(RemoteProtocolError):
        proto.check_answer(SEND, {"error": "?", "error_code": "x"})


# --- answers ----------------------------------------------------------------------------------


def test_parse_send_with_recipients() -> None:
    result = proto.parse_send(
        {
            "id": 14,
            "cnt": 2,
            "cost": "4.1",
            "balance": "83.6",
            "phones": [
                {"phone": "79990000001", "mccmnc": "25001", "cost": "2.05", "status": "-1"},
                {"phone": "79990000002", "mccmnc": "", "cost": "2.05", "error": "249"},
            ],
        },
        client_id=7,
    )
    assert result.message_id == "14"
    assert result.parts == 2
    assert result.cost == Decimal("4.1")
    assert result.balance == Decimal("83.6")
    assert result.client_id == 7
    first, second = result.recipients
    assert (first.mcc, first.mnc, first.status) == ("250", "01", MessageStatus.QUEUED)
    assert second.error is DeliveryError.INVALID_NUMBER_FORMAT
    with pytest.raises(RemoteProtocolError):
        proto.parse_send({"cnt": 1})


def test_parse_cost_and_balance() -> None:
    cost = proto.parse_cost({"cost": "1.44", "cnt": 1})
    assert (cost.cost, cost.parts) == (Decimal("1.44"), 1)
    balance = proto.parse_balance({"balance": "1871.62", "currency": "RUR"})
    assert (balance.balance, balance.currency, balance.credit) == (
        Decimal("1871.62"),
        "RUR",
        None,
    )
    with pytest.raises(RemoteProtocolError):
        proto.parse_balance({"balance": "abc"})


def test_parse_status_prefers_timestamps_and_decodes_everything() -> None:
    report = proto.parse_report(
        {
            "status": 1,
            "last_date": "18.10.2016 15:34:12",
            "last_timestamp": 1476794052,
            "flag": 0x121,
            "err": 0,
            "send_date": "18.10.2016 15:34:00",
            "phone": "79990000001",
            "cost": "2.50",
            "sender_id": "ACME",
            "status_name": "Delivered",
            "message": "Hello",
            "comment": "c",
            "type": 1,
            "country": "Russia",
            "operator": "MTS",
            "region": "Moscow",
        },
        tz=MSK,
        message_id="5",
    )
    assert report.message_id == "5"
    assert report.status is MessageStatus.DELIVERED
    assert report.changed_at == datetime.fromtimestamp(1476794052, UTC)
    assert report.submitted_at == datetime(2016, 10, 18, 15, 34, tzinfo=MSK)
    assert report.submitted_at.utcoffset() == timedelta(hours=3)
    assert report.cost == Decimal("2.50")
    assert report.flags is not None and report.flags.template and report.flags.second_balance
    assert report.message_type is MessageType.FLASH
    assert (report.sender, report.text, report.comment, report.status_text) == (
        "ACME",
        "Hello",
        "c",
        "Delivered",
    )
    assert (report.country, report.operator, report.region) == ("Russia", "MTS", "Moscow")
    assert report.hlr is None


def test_parse_status_hlr_and_unknown_codes() -> None:
    report = proto.parse_report(
        {
            "status": 1,
            "last_timestamp": 1,
            "err": 999,
            "imsi": "250010000000000",
            "msc": "79160000000",
            "mcc": "250",
            "mnc": "01",
            "cn": "Russia",
            "net": "MTS",
            "rcn": "",
            "rnet": "",
        },
        tz=MSK,
        message_id="9",
        phone="7999",
    )
    assert report.hlr is not None
    assert (report.hlr.imsi, report.hlr.country, report.hlr.operator) == (
        "250010000000000",
        "Russia",
        "MTS",
    )
    assert not report.hlr.is_roaming
    assert report.error == 999 and not report.error.is_known
    assert report.phone == "7999"
    odd = proto.parse_report({"status": 77}, tz=MSK, message_id="1")
    assert odd.status is MessageStatus.UNKNOWN and odd.raw_status == "77"


def test_parse_status_many_keeps_not_found_rows() -> None:
    reports = proto.parse_status_many(
        [
            {"id": 5, "phone": "7999", "status": 1, "last_timestamp": 2},
            {"id": 6, "phone": "7998", "status": -3},
        ],
        [("5", "7999"), ("6", "7998")],
        tz=MSK,
    )
    assert [r.status for r in reports] == [MessageStatus.DELIVERED, MessageStatus.NOT_FOUND]
    assert [r.message_id for r in reports] == ["5", "6"]


def test_parse_incoming() -> None:
    (msg,) = proto.parse_incoming(
        [
            {
                "id": 77,
                "received": "02.01.2024 10:00:05",
                "phone": "79990000001",
                "message": "yes",
                "to_phone": "79990000100",
                "sent": "02.01.2024 10:00:00",
            }
        ],
        tz=MSK,
    )
    assert msg.message_id == "77"
    assert msg.text == "yes"
    assert msg.to == "79990000100"
    assert msg.received_at == datetime(2024, 1, 2, 7, 0, 5, tzinfo=UTC)
    assert msg.sent_at is not None and msg.sent_at.tzinfo is not None


def test_parse_statistics_prices_mega_operator() -> None:
    (row,) = proto.parse_statistics(
        [{"login": "acme", "sms": "12", "credit": "30.00", "debit": "100", "currency": "RUB"}]
    )
    assert (row.messages, row.spent, row.received) == (12, Decimal("30.00"), Decimal(100))
    prices = proto.parse_prices(
        {
            "zones": [
                {
                    "zone": "1",
                    "name": "Russia",
                    "api": "2.5",
                    "mass": "2.6",
                    "mms": "9",
                    "hlr": "0.5",
                    "call": "",
                }
            ],
            "codes": [{"mccmnc": "25001", "cost": "2.1"}],
            "mail": "0.05",
        }
    )
    assert prices.zones[0].api == Decimal("2.5") and prices.zones[0].call is None
    assert prices.operator_prices[0].cost == Decimal("2.1")
    assert prices.email == Decimal("0.05")
    (acct,) = proto.parse_megafon_accounts(
        [
            {
                "account": "111",
                "phone": "7999",
                "sms_mon": 5,
                "sms_day": 1,
                "sms_yes": 2,
                "sms_pmon": 9,
                "balance": "10.5",
                "credit": 0,
                "senders": "ACME,SHOP",
            }
        ]
    )
    assert acct.senders == ("ACME", "SHOP") and acct.sent_last_month == 9
    assert acct.balance == Decimal("10.5")
    info = proto.parse_operator(
        {
            "country": "Russia",
            "operator": "MTS",
            "region": "Moscow",
            "mcc": "250",
            "mnc": "01",
            "tz": "3",
        },
        phone="7999",
    )
    assert (info.operator, info.mcc, info.utc_offset, info.phone) == ("MTS", "250", "3", "7999")


def test_parse_various() -> None:
    (number,) = proto.parse_receive_numbers(
        [{"phone": "79990000100", "type": 1, "cost": "500", "current_cost": "100", "info": "x"}]
    )
    assert number.is_virtual and number.monthly_cost == Decimal(500)
    assert proto.parse_bought_number({"cost": "100.00"}) == Decimal("100.00")
    proto.parse_ok({"result": "OK"}, "x")
    with pytest.raises(RemoteProtocolError):
        proto.parse_ok({"result": "NO"}, "x")
    call = proto.parse_wait_call({"phone": "78000000000", "all_phones": ["78000000000", "7495"]})
    assert call.phone == "78000000000" and call.all_phones == ("78000000000", "7495")
    (task,) = proto.parse_downloads(
        [
            {
                "id": 3,
                "name": "export",
                "status": "2",
                "created": "02.01.2024 10:00:00",
                "time": "",
                "file": "f.csv",
            }
        ],
        tz=MSK,
    )
    assert task.is_ready and task.status is DownloadStatus.DONE and task.started_at is None
    assert task.created_at == datetime(2024, 1, 2, 10, tzinfo=MSK)
    (odd,) = proto.parse_downloads([{"id": 4, "status": 9}], tz=MSK)
    assert odd.status == 9 and odd.status.name == "UNKNOWN_9"


def test_malformed_answers_are_remote_protocol_errors() -> None:
    with pytest.raises(RemoteProtocolError):
        proto.parse_history("text", tz=MSK)
    with pytest.raises(RemoteProtocolError):
        proto.parse_local("yesterday", MSK)
    with pytest.raises(RemoteProtocolError):
        proto.parse_report({"status": 1}, tz=MSK)
