"""parse_callback against payloads built by the seed's rules (seed 002, callback handler)."""

from __future__ import annotations

import subprocess
import sys
import urllib.parse
import zlib
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smscenter import (
    CallConfirmation,
    DeliveryError,
    DeliveryReport,
    IncomingMessage,
    MalformedCallback,
    MessageStatus,
    SignatureMismatch,
    SMSCenterError,
    Transport,
    WebhookError,
)
from smscenter.models import CallInfo, HlrInfo, MessageType, TemplateKind
from smscenter.webhook import (
    ALGORITHMS,
    MOSCOW,
    callback_kind,
    decode_callback,
    parse_callback,
    sign_callback,
    signature_base,
    verify_signature,
)

from ._provider import SECRET, as_json, as_xml, digest, form, multipart, signed

FORM = "application/x-www-form-urlencoded"
TS = 1_763_800_000  # 2025-11-22 08:26:40 UTC

STATUS = {
    "id": "9876",
    "phone": "79991234567",
    "status": "1",
    "time": "22.11.25 11:26:40",
    "ts": str(TS),
    "cnt": "2",
    "type": "0",
    "cost": "3.50",
    "flag": str(0x120 | (1 << 9)),  # SMS, second balance, template, transactional
    "sender": "ACME",
    "cmt": "Заказ №15\nоплачен",
}


# --- delivery statuses ------------------------------------------------------------------------


def test_status_form_windows1251_md5_all_fields() -> None:
    fields = signed(STATUS, "md5", encoding="cp1251")
    event = parse_callback(form(fields, "cp1251"), content_type=FORM, secret=SECRET)
    assert isinstance(event, DeliveryReport)
    assert event.message_id == "9876"
    assert event.phone == "79991234567"
    assert event.status is MessageStatus.DELIVERED
    assert event.raw_status == "1"
    assert event.error is DeliveryError.NO_ERROR
    assert event.changed_at == datetime(2025, 11, 22, 8, 26, 40, tzinfo=UTC)
    assert event.changed_at.utcoffset() == timedelta(0)
    assert event.parts == 2
    assert event.cost == Decimal("3.50")
    assert event.message_type is MessageType.SMS
    assert event.flags is not None
    assert event.flags.second_balance and event.flags.template
    assert event.flags.template_kind is TemplateKind.TRANSACTIONAL
    assert event.flags.raw == 0x120 | (1 << 9)
    assert event.sender == "ACME"
    assert event.comment == "Заказ №15\nоплачен"
    assert event.hlr is None and event.call is None
    assert event.transport is Transport.WEBHOOK
    assert event.event_key == "report:9876:79991234567:delivered"


def test_status_hlr_fields_koi8r_sha1() -> None:
    fields = {
        "id": "77",
        "phone": "79031234567",
        "status": "1",
        "ts": str(TS),
        "type": "4",
        "imsi": "250010123456789",
        "msc": "79168999999",
        "mcc": "250",
        "mnc": "01",
        "cn": "Россия",
        "net": "МТС",
        "rcn": "Казахстан",
        "rnet": "Билайн КЗ",
        "charset": "koi8-r",  # echoed from the handler URL
    }
    body = form(signed(fields, "sha1", encoding="koi8_r"), "koi8_r")
    event = parse_callback(body, content_type=f"{FORM}; charset=koi8-r", secret=SECRET)
    assert isinstance(event, DeliveryReport)
    assert event.message_type is MessageType.HLR
    assert event.hlr == HlrInfo(
        imsi="250010123456789",
        msc="79168999999",
        mcc="250",
        mnc="01",
        country="Россия",
        operator="МТС",
        roaming_country="Казахстан",
        roaming_operator="Билайн КЗ",
    )
    assert event.hlr.is_roaming
    assert (event.mcc, event.mnc, event.country, event.operator) == ("250", "01", "Россия", "МТС")


def test_status_call_fields_utf8_crc32() -> None:
    fields = {
        "id": "501",
        "phone": "79161112233",
        "status": "1",
        "ts": str(TS),
        "type": "7",
        "cnt": "35",
        "dtmf": "12#",
        "calltime": "28",
        "callmenu": "1*3",
        "ringtime": "00:07",
        "cmt": "звонок\novertime: 01:10",
    }
    body = form(signed(fields, "crc32", encoding="utf-8"), "utf-8")
    event = parse_callback(
        body, content_type=f"{FORM}; charset=UTF-8", secret=SECRET, algorithms=ALGORITHMS
    )
    assert isinstance(event, DeliveryReport)
    assert event.message_type is MessageType.CALL
    assert event.parts == 35
    assert event.call == CallInfo(dtmf="12#", menu_keys="1*3", call_seconds=28, ring_seconds=7)
    assert event.comment is not None and event.comment.endswith("overtime: 01:10")


def test_status_errors_and_unknown_codes_kept_raw() -> None:
    fields = {"id": "1", "phone": "79990000000", "status": "20", "err": "1", "syserr": "E:0x45"}
    event = parse_callback(form(fields, "cp1251"), content_type=FORM)
    assert isinstance(event, DeliveryReport)
    assert event.status is MessageStatus.UNDELIVERABLE and event.status.is_failure
    assert event.error is DeliveryError.SUBSCRIBER_NOT_FOUND
    assert event.operator_error == "E:0x45"

    odd = {"id": "1", "phone": "79990000000", "status": "77", "err": "999", "type": "15"}
    event = parse_callback(form(odd, "cp1251"), content_type=FORM)
    assert isinstance(event, DeliveryReport)
    assert event.status is MessageStatus.UNKNOWN
    assert event.raw_status == "77"
    assert int(event.error) == 999 and not event.error.is_known
    assert event.message_type is not None and int(event.message_type) == 15


def test_negative_status_code() -> None:
    fields = {"id": "1", "phone": "79990000000", "status": "-1"}
    event = parse_callback(form(signed(fields), "cp1251"), content_type=FORM, secret=SECRET)
    assert isinstance(event, DeliveryReport)
    assert event.status is MessageStatus.QUEUED


def test_time_without_ts_uses_account_zone() -> None:
    fields = {"id": "5", "phone": "79990000000", "status": "1", "time": "22.11.25 11:26:40"}
    event = parse_callback(form(fields, "cp1251"), content_type=FORM)
    assert isinstance(event, DeliveryReport)
    assert event.changed_at == datetime(2025, 11, 22, 8, 26, 40, tzinfo=UTC)  # Moscow = UTC+3
    assert event.changed_at is not None and event.changed_at.utcoffset() == timedelta(hours=3)
    vladivostok = timezone(timedelta(hours=10))
    event = parse_callback(form(fields, "cp1251"), content_type=FORM, account_tz=vladivostok)
    assert isinstance(event, DeliveryReport)
    assert event.changed_at == datetime(2025, 11, 22, 1, 26, 40, tzinfo=UTC)


def test_ts_preferred_over_time() -> None:
    fields = {"id": "5", "phone": "7999", "status": "1", "time": "01.01.20 00:00:00", "ts": "0"}
    fields["phone"] = "79990000000"
    event = parse_callback(form(fields, "cp1251"), content_type=FORM)
    assert isinstance(event, DeliveryReport)
    assert event.changed_at == datetime(1970, 1, 1, tzinfo=UTC)


def test_cost_with_decimal_comma_and_empty_optionals() -> None:
    fields = {"id": "5", "phone": "79990000000", "status": "0", "cost": "1,25", "err": "",
              "cnt": "", "sender": ""}  # fmt: skip
    event = parse_callback(form(fields, "cp1251"), content_type=FORM)
    assert isinstance(event, DeliveryReport)
    assert event.cost == Decimal("1.25")
    assert event.error is DeliveryError.NO_ERROR
    assert event.parts is None and event.sender is None


# --- incoming SMS ------------------------------------------------------------------------------

INCOMING = {
    "id": "314159",
    "sms_id": "9876",
    "phone": "79991234567",
    "mes": "Да, подтверждаю! Ёжик & co",
    "to": "79037654321",
    "smsc": "MegaFon",
    "sent": str(TS - 5),
    "time": str(TS),
}


@pytest.mark.parametrize("algorithm", ["md5", "sha1", "crc32"])
def test_incoming_windows1251_default_charset(algorithm: str) -> None:
    fields = signed(INCOMING, algorithm, encoding="cp1251")
    event = parse_callback(
        form(fields, "cp1251"), content_type=FORM, secret=SECRET, algorithms=ALGORITHMS
    )
    assert isinstance(event, IncomingMessage)
    assert event.text == "Да, подтверждаю! Ёжик & co"
    assert event.message_id == "314159"
    assert event.reply_to_id == "9876"
    assert event.phone == "79991234567"
    assert event.to == "79037654321"
    assert event.smsc == "MegaFon"
    assert event.sent_at == datetime.fromtimestamp(TS - 5, UTC)
    assert event.received_at == datetime.fromtimestamp(TS, UTC)
    assert event.transport is Transport.WEBHOOK
    assert event.event_key == "incoming:314159"


def test_incoming_hashed_as_utf8_while_sent_in_windows1251() -> None:
    # The byte encoding hashed is undocumented: the UTF-8 bytes are accepted too.
    fields = signed(INCOMING, "md5", encoding="utf-8")
    event = parse_callback(form(fields, "cp1251"), content_type=FORM, secret=SECRET)
    assert isinstance(event, IncomingMessage)
    assert event.text == INCOMING["mes"]


def test_incoming_to_dedicated_number_has_no_reply_id() -> None:
    fields = {k: v for k, v in INCOMING.items() if k != "sms_id"}
    event = parse_callback(form(signed(fields), "utf-8"), content_type=f"{FORM}; charset=utf-8",
                           secret=SECRET)  # fmt: skip
    assert isinstance(event, IncomingMessage)
    assert event.reply_to_id is None


def test_incoming_keeps_whitespace_and_empty_text() -> None:
    fields = dict(INCOMING, mes="  привет\n")
    event = parse_callback(form(fields, "cp1251"), content_type=FORM)
    assert isinstance(event, IncomingMessage) and event.text == "  привет\n"
    fields = dict(INCOMING, mes="")
    event = parse_callback(form(fields, "cp1251"), content_type=FORM)
    assert isinstance(event, IncomingMessage) and event.text == ""


# --- call confirmation -------------------------------------------------------------------------


def _secret_with_high_crc(fields: dict[str, str]) -> str:
    """A secret whose crc32 has the top bit set, so signed and unsigned decimal differ."""
    for n in range(1000):
        candidate = f"k{n}"
        data = f"{fields['phone']}:{fields['ts']}:{candidate}".encode()
        if zlib.crc32(data) >= 1 << 31:
            return candidate
    raise AssertionError("no candidate in 1000 tries")


@pytest.mark.parametrize("crc_form", ["unsigned", "signed", "hex"])
def test_call_confirmation_crc32_forms(crc_form: str) -> None:
    fields = {"waitcall": "1", "phone": "79991234567", "ts": str(TS)}
    secret = _secret_with_high_crc(fields)
    body = form(signed(fields, "crc32", secret=secret, crc_form=crc_form), "cp1251")
    if crc_form == "signed":
        assert b"crc32=-" in body
    event = parse_callback(body, content_type=FORM, secret=secret, algorithms=ALGORITHMS)
    assert isinstance(event, CallConfirmation)
    assert event.phone == "79991234567"
    assert event.called_at == datetime.fromtimestamp(TS, UTC)
    assert event.transport is Transport.WEBHOOK
    assert event.event_key == f"call:79991234567:{TS}"


def test_call_confirmation_md5_uppercase() -> None:
    fields = {"waitcall": "1", "phone": "79991234567", "ts": str(TS)}
    body = form({**fields, "md5": digest(fields, "md5").upper()}, "cp1251")
    event = parse_callback(body, content_type=FORM, secret=SECRET)
    assert isinstance(event, CallConfirmation)


# --- XML (fmt=2), JSON (fmt=3), multipart, query -----------------------------------------------


def test_xml_status_uppercase_sha1() -> None:
    fields = dict(STATUS)
    fields["sha1"] = digest(fields, "sha1").upper()
    event = parse_callback(as_xml(fields), content_type="text/xml", secret=SECRET)
    assert isinstance(event, DeliveryReport)
    assert event.status is MessageStatus.DELIVERED
    assert event.comment == "Заказ №15\nоплачен"
    assert event.cost == Decimal("3.50")


def test_xml_incoming_windows1251_declaration() -> None:
    fields = signed(INCOMING, "md5", encoding="cp1251")
    body = as_xml(fields, encoding="windows-1251")
    event = parse_callback(body, content_type="application/xml", secret=SECRET)
    assert isinstance(event, IncomingMessage)
    assert event.text == INCOMING["mes"]


def test_xml_charset_from_content_type_and_nested_wrapper() -> None:
    fields = signed({"waitcall": "1", "phone": "79991234567", "ts": str(TS)}, "sha1")
    inner = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items())
    body = f"<response><event>{inner}</event></response>".encode("cp1251")
    event = parse_callback(body, content_type="text/xml; charset=windows-1251", secret=SECRET)
    assert isinstance(event, CallConfirmation)


def test_json_status_with_numbers() -> None:
    fields = signed(STATUS, "md5")
    payload: dict[str, object] = dict(fields)
    payload.update(id=9876, status=1, ts=TS, cnt=2, type=0, flag=0x120, cost=3.5)
    event = parse_callback(as_json(payload), content_type="application/json", secret=SECRET)
    assert isinstance(event, DeliveryReport)
    assert event.message_id == "9876"
    assert event.parts == 2 and event.cost == Decimal("3.5")
    assert event.changed_at == datetime.fromtimestamp(TS, UTC)


def test_json_incoming_utf8_cyrillic() -> None:
    fields = signed(INCOMING, "sha1")
    event = parse_callback(
        as_json(fields), content_type="application/json; charset=utf-8", secret=SECRET
    )
    assert isinstance(event, IncomingMessage)
    assert event.text == INCOMING["mes"]


def test_multipart_form() -> None:
    fields = signed(INCOMING, "md5")
    boundary = "----smsc7MA4YWxkTrZu0gW"
    event = parse_callback(
        multipart(fields, boundary),
        content_type=f"multipart/form-data; boundary={boundary}; charset=utf-8",
        secret=SECRET,
    )
    assert isinstance(event, IncomingMessage)
    assert event.text == INCOMING["mes"]


def test_charset_echoed_as_field_without_content_type_charset() -> None:
    # Handler URL ...?charset=utf-8: the provider POSTs the option back as a field.
    fields = signed(dict(INCOMING, charset="utf-8"), "md5")
    event = parse_callback(form(fields, "utf-8"), content_type=FORM, secret=SECRET)
    assert isinstance(event, IncomingMessage)
    assert event.text == INCOMING["mes"]


def test_query_parameters_merged_and_signature_in_query() -> None:
    # Handler URL https://x/!md5=<secret>&tenant=7 : those arrive as GET parameters.
    fields = dict(STATUS)
    query = urllib.parse.urlencode({"md5": digest(fields, "md5"), "tenant": "7"})
    event = parse_callback(form(fields, "cp1251"), content_type=FORM, secret=SECRET, query=query)
    assert isinstance(event, DeliveryReport)
    decoded, codec = decode_callback(form(fields, "cp1251"), content_type=FORM, query=query)
    assert decoded["tenant"] == "7" and codec == "cp1251"
    # A mapping works too, and body fields win over query ones.
    decoded, _ = decode_callback(
        form(fields, "cp1251"), content_type=FORM, query={"status": "3", "tenant": "8"}
    )
    assert decoded["status"] == "1" and decoded["tenant"] == "8"


def test_get_request_with_everything_in_query() -> None:
    fields = signed({"waitcall": "1", "phone": "79991234567", "ts": str(TS)}, "sha1")
    event = parse_callback(b"", content_type="", secret=SECRET, query="?" + form(fields, "utf-8")
                           .decode())  # fmt: skip
    assert isinstance(event, CallConfirmation)


# --- signatures --------------------------------------------------------------------------------


def test_forged_signature_rejected() -> None:
    fields = signed(STATUS, "md5", secret="other-secret")
    with pytest.raises(SignatureMismatch, match="md5"):
        parse_callback(form(fields, "cp1251"), content_type=FORM, secret=SECRET)


def test_tampered_field_rejected() -> None:
    fields = signed(STATUS, "sha1")
    fields["status"] = "20"  # attacker turns a delivery into a failure
    with pytest.raises(SignatureMismatch):
        parse_callback(form(fields, "cp1251"), content_type=FORM, secret=SECRET)


def test_missing_signature_rejected_only_with_secret() -> None:
    body = form(STATUS, "cp1251")
    with pytest.raises(SignatureMismatch, match="no md5, sha1 or crc32"):
        parse_callback(body, content_type=FORM, secret=SECRET)
    assert isinstance(parse_callback(body, content_type=FORM), DeliveryReport)


def test_wrong_algorithm_rejected() -> None:
    # An md5 digest put where sha1 is expected, and a crc32 one when only md5/sha1 are accepted.
    fields = dict(STATUS, sha1=digest(STATUS, "md5"))
    with pytest.raises(SignatureMismatch, match="sha1"):
        parse_callback(form(fields, "cp1251"), content_type=FORM, secret=SECRET)
    crc_signed = signed(STATUS, "crc32")
    with pytest.raises(SignatureMismatch, match="crc32.*not accepted"):
        parse_callback(
            form(crc_signed, "cp1251"),
            content_type=FORM,
            secret=SECRET,
            algorithms=("md5", "sha1"),
        )
    # Not accepted by default either: crc32 is opt-in.
    with pytest.raises(SignatureMismatch, match="crc32.*not accepted"):
        parse_callback(form(crc_signed, "cp1251"), content_type=FORM, secret=SECRET)
    assert isinstance(
        parse_callback(
            form(crc_signed, "cp1251"), content_type=FORM, secret=SECRET, algorithms=ALGORITHMS
        ),
        DeliveryReport,
    )


def test_every_present_signature_must_match() -> None:
    fields = signed(STATUS, "md5")
    fields["sha1"] = "0" * 40
    with pytest.raises(SignatureMismatch, match="sha1"):
        parse_callback(form(fields, "cp1251"), content_type=FORM, secret=SECRET)


def test_signature_checked_before_fields() -> None:
    forged = {"phone": "79990000000", "status": "x", "md5": "0" * 32}
    with pytest.raises(SignatureMismatch):
        parse_callback(form(forged, "cp1251"), content_type=FORM, secret=SECRET)


@pytest.mark.parametrize("bad", ["", "has space", "кириллица", "a:b", "x&y"])
def test_invalid_secret_is_a_value_error(bad: str) -> None:
    with pytest.raises(ValueError, match="secret"):
        parse_callback(form(STATUS, "cp1251"), content_type=FORM, secret=bad)


def test_crc32_garbage_value_rejected() -> None:
    fields = dict(STATUS, crc32="not-a-number")
    with pytest.raises(SignatureMismatch):
        parse_callback(form(fields, "cp1251"), content_type=FORM, secret=SECRET)


def test_helpers_agree_with_the_seed() -> None:
    assert signature_base(STATUS, SECRET) == f"9876:79991234567:1:{SECRET}"
    assert signature_base(INCOMING, SECRET) == f"79991234567:{INCOMING['mes']}:79037654321:{SECRET}"
    call = {"waitcall": "1", "phone": "7999", "ts": "5"}
    assert signature_base(call, SECRET) == f"7999:5:{SECRET}"
    assert [callback_kind(f) for f in (STATUS, INCOMING, call)] == ["status", "incoming", "call"]
    assert sign_callback(STATUS, SECRET, "md5") == digest(STATUS, "md5")
    assert sign_callback(INCOMING, SECRET, "crc32", charset="windows-1251") == digest(
        INCOMING, "crc32", encoding="cp1251"
    )
    assert verify_signature(signed(STATUS, "sha1"), SECRET) == "sha1"


# --- malformed ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"phone": "79990000000", "status": "1"}, "'id'"),
        ({"id": "1", "status": "1"}, "'phone'"),
        ({"id": "1", "phone": "79990000000"}, "'status'"),
        ({"id": "1", "phone": "79990000000", "status": "ok"}, "'status' is not an integer"),
        ({"id": "1", "phone": "79990000000", "status": "1", "cnt": "two"}, "'cnt'"),
        ({"id": "1", "phone": "79990000000", "status": "1", "flag": "70000"}, "'flag'"),
        ({"id": "1", "phone": "79990000000", "status": "1", "cost": "free"}, "'cost'"),
        ({"id": "1", "phone": "79990000000", "status": "1", "ts": "yesterday"}, "'ts'"),
        ({"id": "1", "phone": "79990000000", "status": "1", "ringtime": "1m"}, "'ringtime'"),
        ({"mes": "hi", "to": "7903"}, "'phone'"),
        ({"waitcall": "1", "phone": "79990000000"}, "'ts'"),
    ],
)
def test_malformed_fields(fields: dict[str, str], match: str) -> None:
    with pytest.raises(MalformedCallback, match=match):
        parse_callback(form(fields, "cp1251"), content_type=FORM)
    # With a secret, a correctly signed but malformed payload is still malformed.
    with pytest.raises(MalformedCallback, match=match):
        parse_callback(form(signed(fields), "cp1251"), content_type=FORM, secret=SECRET)


@pytest.mark.parametrize(
    ("body", "content_type", "match"),
    [
        (b"id=1&phone=7999&status=1&cmt=%FF%FE", f"{FORM}; charset=utf-8", "utf-8"),
        (b"id=1", "text/plain", "content type 'text/plain'"),
        (b"id=1", f"{FORM}; charset=ebcdic-klingon", "unknown charset"),
        (b"id=1&charset=nonsense", FORM, "unknown charset"),
        (b"id=1", f"{FORM}; charset=rot13", "unknown charset"),
        (b"{}", "application/json; charset=zlib", "unknown charset"),
        (b"{not json", "application/json", "JSON"),
        (b"[1, 2]", "application/json", "JSON body is a list"),
        (b"<result><id>1</id>", "text/xml", "XML"),
        (
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><r><id>&a;</id></r>',
            "text/xml",
            "DTD",
        ),
        (b'{"id": 1}', "", "no content type"),
        (b"--x\r\n\r\n", "multipart/form-data", "multipart"),
        (b"\xff\xfe{}", "application/json; charset=utf-8", "not valid utf-8"),
    ],
)
def test_malformed_bodies(body: bytes, content_type: str, match: str) -> None:
    with pytest.raises(MalformedCallback, match=match):
        parse_callback(body, content_type=content_type)


def test_hostile_nesting_is_malformed() -> None:
    with pytest.raises(MalformedCallback, match="JSON"):
        parse_callback(b"[" * 200_000, content_type="application/json")
    with pytest.raises(MalformedCallback, match="XML"):
        parse_callback(b"<a>" * 50_000, content_type="text/xml")
    with pytest.raises(MalformedCallback, match="'status' is not an integer"):
        parse_callback(b"id=1&phone=7&status=" + b"9" * 5000, content_type=FORM)


def test_oversized_body_refused() -> None:
    with pytest.raises(MalformedCallback, match="bytes"):
        parse_callback(b"a" * (2 << 20), content_type=FORM)


def test_errors_are_in_the_hierarchy() -> None:
    assert issubclass(SignatureMismatch, WebhookError)
    assert issubclass(MalformedCallback, WebhookError)
    assert issubclass(WebhookError, SMSCenterError)


# --- idempotency keys --------------------------------------------------------------------------


def test_retried_delivery_has_the_same_event_key() -> None:
    first = parse_callback(form(signed(STATUS), "cp1251"), content_type=FORM, secret=SECRET)
    again = parse_callback(as_json(signed(STATUS)), content_type="application/json",
                           secret=SECRET)  # fmt: skip
    assert first.event_key == again.event_key
    later = parse_callback(
        form(signed(dict(STATUS, status="2", ts=str(TS + 60))), "cp1251"),
        content_type=FORM,
        secret=SECRET,
    )
    assert later.event_key != first.event_key


# --- property: any text survives any of the provider's charsets ---------------------------------

_CYRILLIC = "".join(chr(c) for c in range(0x410, 0x450)) + "Ёё"
_TEXT = st.text(alphabet=_CYRILLIC + "abcXYZ0123456789 .,!?&=+%:;\n", max_size=120)


@settings(max_examples=60, deadline=None)
@given(
    text=_TEXT,
    codec=st.sampled_from(["cp1251", "koi8_r", "utf-8"]),
    algorithm=st.sampled_from(["md5", "sha1", "crc32"]),
)
def test_incoming_text_round_trips(text: str, codec: str, algorithm: str) -> None:
    names = {"cp1251": "windows-1251", "koi8_r": "koi8-r", "utf-8": "utf-8"}
    fields = signed(dict(INCOMING, mes=text), algorithm, encoding=codec)
    event = parse_callback(
        form(fields, codec),
        content_type=f"{FORM}; charset={names[codec]}",
        secret=SECRET,
        algorithms=ALGORITHMS,
    )
    assert isinstance(event, IncomingMessage)
    assert event.text == text


def test_moscow_is_utc_plus_three() -> None:
    assert datetime(2025, 7, 1, tzinfo=MOSCOW).utcoffset() == timedelta(hours=3)


# --- layering ----------------------------------------------------------------------------------


def test_parser_imports_no_web_framework_and_package_no_webhook_extra() -> None:
    code = (
        "import sys\n"
        "import smscenter.webhook\n"
        "import smscenter.webhook.parse\n"
        "bad = [m for m in ('fastapi', 'starlette', 'multipart')"
        " if m in sys.modules]\n"
        "assert not bad, bad\n"
        "import smscenter\n"
        "assert 'smscenter.webhook.fastapi' not in sys.modules\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


# --- robustness: anything a client can send ends in an event or a typed error ---------------------

_CONTENT_TYPES = st.sampled_from(
    [
        FORM,
        f"{FORM}; charset=utf-8",
        f"{FORM}; charset=koi8-r",
        "application/json",
        "text/xml",
        "multipart/form-data; boundary=b",
        "",
        "text/plain",
    ]
)
_FIELD_NAMES = st.sampled_from(
    ["id", "phone", "status", "ts", "time", "err", "cnt", "type", "cost", "flag", "mes", "to",
     "waitcall", "sent", "calltime", "ringtime", "md5", "sha1", "crc32", "charset", "imsi"]
)  # fmt: skip
_FIELD_VALUES = st.one_of(
    st.text(max_size=30), st.integers(-(10**30), 10**30).map(str), st.just("")
)


@settings(max_examples=150, deadline=None)
@given(
    body=st.binary(max_size=300), content_type=_CONTENT_TYPES, secret=st.none() | st.just(SECRET)
)
def test_arbitrary_bytes_never_escape_the_error_types(
    body: bytes, content_type: str, secret: str | None
) -> None:
    try:
        event = parse_callback(body, content_type=content_type, secret=secret, query=body)
    except WebhookError:
        return
    assert event.transport is Transport.WEBHOOK


@settings(max_examples=150, deadline=None)
@given(
    fields=st.dictionaries(_FIELD_NAMES, _FIELD_VALUES, max_size=12),
    codec=st.sampled_from(["cp1251", "utf-8", "koi8_r"]),
)
def test_arbitrary_fields_never_escape_the_error_types(fields: dict[str, str], codec: str) -> None:
    try:
        body = form(fields, codec)
    except UnicodeEncodeError:
        return  # text the charset cannot carry is not something the provider sends
    for content_type in (FORM, "application/json"):
        payload = body if content_type == FORM else as_json(fields)
        try:
            event = parse_callback(payload, content_type=content_type)
        except MalformedCallback:
            continue
        assert event.transport is Transport.WEBHOOK
        assert event.event_key
