"""Webhook hardening against hostile requests: DTDs in any encoding, replays with unsigned
fields changed, a signature replayed as another kind, crc32 opt-in, a body cap enforced while
streaming, strict JSON, unique OpenAPI operation ids."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
from fastapi import FastAPI

from smscenter import (
    CallConfirmation,
    DeliveryReport,
    IncomingMessage,
    MalformedCallback,
    SignatureMismatch,
)
from smscenter.webhook import ALGORITHMS, DEFAULT_ALGORITHMS, callback_key, parse_callback
from smscenter.webhook.fastapi import callback_router

from ._provider import SECRET, as_json, digest, form, signed
from .test_fastapi import Recorder, client_for, make_app

FORM = "application/x-www-form-urlencoded"
STATUS = {"id": "12345", "phone": "79991234567", "status": "1", "ts": "1763800000"}
INCOMING = {"id": "7", "phone": "79991234567", "mes": "STOP", "to": "79030000000"}
CALL = {"waitcall": "1", "phone": "79991234567", "ts": "1763800001"}

# --- XML: no DTD in any encoding -------------------------------------------------------------

_DTD_DOC = (
    '<?xml version="1.0" encoding="UTF-16"?>'
    '<!DOCTYPE r [<!ENTITY a "EXPANDED">]>'
    "<r><id>&a;</id><phone>79991234567</phone><status>1</status>{sig}</r>"
)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-16", "utf-8"])
@pytest.mark.parametrize("content_type", ["application/xml", "text/xml; charset=utf-8"])
def test_xml_dtd_refused_in_every_encoding(encoding: str, content_type: str) -> None:
    """UTF-16 without a byte-order mark hid "<!DOCTYPE" from a byte scan, and the entity was
    expanded into the id (before any signature check)."""
    expanded = {"id": "EXPANDED", "phone": "79991234567", "status": "1"}
    sig = f"<md5>{digest(expanded, 'md5')}</md5>"
    for doc in (_DTD_DOC.format(sig=""), _DTD_DOC.format(sig=sig)):
        body = doc.encode(encoding)
        for secret in (None, SECRET):
            try:
                event = parse_callback(body, content_type=content_type, secret=secret)
            except MalformedCallback as exc:
                # Refused as a DTD, or (utf-16 with a BOM under a utf-8 label) as undecodable.
                assert "DTD" in str(exc) or "not valid utf-8" in str(exc) or "parse" in str(exc)
                continue
            except SignatureMismatch:
                assert secret is not None and "<md5>" not in doc
                continue
            raise AssertionError(f"parsed: {event!r}")


# --- dedupe keys from signed fields only -------------------------------------------------------


async def _post_all(bodies: list[bytes], **options: Any) -> Recorder:
    recorder = Recorder()
    async with client_for(make_app(recorder, **options)) as client:
        for body in bodies:
            response = await client.post(
                "/smsc/callback", content=body, headers={"content-type": FORM}
            )
            assert response.status_code == 200, response.text
    return recorder


async def test_replay_with_changed_unsigned_ts_or_id_runs_the_handler_once() -> None:
    status_replays = [
        form(signed(dict(STATUS, ts=str(1763800000 + n))), "cp1251") for n in range(5)
    ]
    incoming_replays = [form(signed(dict(INCOMING, id=str(n))), "cp1251") for n in range(5)]
    recorder = await _post_all(status_replays + incoming_replays)
    assert [type(e) for e in recorder.events] == [DeliveryReport, IncomingMessage]


def test_callback_key_uses_signed_fields_only() -> None:
    def parse(fields: dict[str, str]) -> Any:
        return parse_callback(form(signed(fields), "cp1251"), content_type=FORM, secret=SECRET)

    assert callback_key(parse(STATUS)) == callback_key(parse(dict(STATUS, ts="1", cnt="9")))
    assert callback_key(parse(STATUS)) != callback_key(parse(dict(STATUS, status="20")))
    assert callback_key(parse(INCOMING)) == callback_key(parse(dict(INCOMING, id="99", time="5")))
    assert callback_key(parse(INCOMING)) != callback_key(parse(dict(INCOMING, mes="START")))
    assert callback_key(parse(CALL)) != callback_key(parse(dict(CALL, ts="1763800002")))


# --- a signature is bound to its payload kind ----------------------------------------------------


def _status_signature_replayed_as_other_kinds() -> list[dict[str, str]]:
    md5 = digest(STATUS, "md5")  # genuine: "12345:79991234567:1:<secret>"
    as_incoming = {"phone": "12345", "mes": "79991234567", "to": "1", "md5": md5}
    as_call = {"waitcall": "1", "phone": "12345:79991234567", "ts": "1", "md5": md5}
    as_call2 = {"waitcall": "1", "phone": "12345", "ts": "79991234567:1", "md5": md5}
    return [as_incoming, as_call, as_call2]


@pytest.mark.parametrize("forged", _status_signature_replayed_as_other_kinds())
def test_status_signature_is_not_accepted_as_another_kind(forged: dict[str, str]) -> None:
    with pytest.raises((MalformedCallback, SignatureMismatch)):
        parse_callback(form(forged, "cp1251"), content_type=FORM, secret=SECRET)


async def test_router_refuses_a_status_signature_replayed_as_incoming_or_call() -> None:
    recorder = Recorder()
    async with client_for(make_app(recorder)) as client:
        for forged in _status_signature_replayed_as_other_kinds():
            response = await client.post(
                "/smsc/callback", content=form(forged, "cp1251"), headers={"content-type": FORM}
            )
            assert response.status_code in (403, 404)
        genuine = await client.post(
            "/smsc/callback", content=form(signed(STATUS), "cp1251"), headers={"content-type": FORM}
        )
    assert genuine.status_code == 200
    assert [type(e) for e in recorder.events] == [DeliveryReport]


def test_incoming_and_call_signatures_are_not_statuses() -> None:
    # An incoming SMS's genuine signature read as a status: id=phone, phone=mes, status=to.
    md5 = digest({"phone": "79991234567", "mes": "2", "to": "79030000000"}, "md5")
    forged = {"id": "79991234567", "phone": "2", "status": "79030000000", "md5": md5}
    with pytest.raises(MalformedCallback, match="status"):
        parse_callback(form(forged, "cp1251"), content_type=FORM, secret=SECRET)


def test_genuine_payloads_of_every_kind_still_verify() -> None:
    for fields, cls in (
        (STATUS, DeliveryReport),
        (INCOMING, IncomingMessage),
        (CALL, CallConfirmation),
    ):
        for algorithm in ("md5", "sha1"):
            body = form(signed(fields, algorithm), "cp1251")
            assert isinstance(parse_callback(body, content_type=FORM, secret=SECRET), cls)
    negative = dict(STATUS, status="-3")
    assert isinstance(
        parse_callback(form(signed(negative), "cp1251"), content_type=FORM, secret=SECRET),
        DeliveryReport,
    )


# --- crc32 is opt-in ------------------------------------------------------------------------


async def test_crc32_refused_by_default_accepted_when_named() -> None:
    assert "crc32" not in DEFAULT_ALGORITHMS
    body = form(signed(STATUS, "crc32"), "cp1251")
    with pytest.raises(SignatureMismatch, match="crc32"):
        parse_callback(body, content_type=FORM, secret=SECRET)
    assert isinstance(
        parse_callback(body, content_type=FORM, secret=SECRET, algorithms=ALGORITHMS),
        DeliveryReport,
    )
    recorder = Recorder()
    async with client_for(make_app(recorder)) as client:
        refused = await client.post("/smsc/callback", content=body, headers={"content-type": FORM})
    async with client_for(make_app(recorder, algorithms=ALGORITHMS)) as client:
        accepted = await client.post("/smsc/callback", content=body, headers={"content-type": FORM})
    assert (refused.status_code, accepted.status_code) == (403, 200)
    assert len(recorder.events) == 1


# --- the body cap holds while streaming ------------------------------------------------------


class _HugeBody:
    """An ASGI ``receive`` that streams ``total`` bytes in 64 KiB chunks, counting what the app
    pulls: the app must stop pulling near its cap, not read the whole body first."""

    CHUNK = b"x" * (64 * 1024)

    def __init__(self, total: int) -> None:
        self.total = total
        self.pulled = 0

    async def __call__(self) -> dict[str, Any]:
        if self.pulled >= self.total:
            return {"type": "http.disconnect"}
        self.pulled += len(self.CHUNK)
        return {
            "type": "http.request",
            "body": self.CHUNK,
            "more_body": self.pulled < self.total,
        }


async def _call(app: FastAPI, receive: Any, headers: list[tuple[bytes, bytes]]) -> int:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/smsc/callback",
        "raw_path": b"/smsc/callback",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", FORM.encode()), *headers],
        "client": ("203.0.113.9", 40000),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    [start] = [m for m in sent if m["type"] == "http.response.start"]
    return int(start["status"])


async def test_body_cap_enforced_while_streaming_a_chunked_body() -> None:
    recorder = Recorder()
    app = make_app(recorder)
    body = _HugeBody(64 * 1024 * 1024)  # 64 MiB, no Content-Length (chunked)
    status = await _call(app, body, [(b"transfer-encoding", b"chunked")])
    assert status == 413
    assert body.pulled <= (1 << 20) + len(_HugeBody.CHUNK)  # stopped at the 1 MiB cap
    assert recorder.events == []


async def test_body_cap_refuses_a_declared_length_before_reading() -> None:
    app = make_app(Recorder(), max_body=4096)
    body = _HugeBody(1 << 20)
    status = await _call(app, body, [(b"content-length", str(1 << 20).encode())])
    assert (status, body.pulled) == (413, 0)


async def test_small_callbacks_pass_a_small_cap() -> None:
    recorder = Recorder()
    async with client_for(make_app(recorder, max_body=4096)) as client:
        response = await client.post(
            "/smsc/callback", content=form(signed(STATUS), "cp1251"), headers={"content-type": FORM}
        )
    assert response.status_code == 200
    with pytest.raises(ValueError, match="max_body"):
        callback_router(secret=SECRET, on_event=recorder, max_body=0)


# --- strict JSON ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        '{"id": "1", "phone": "7999\\ud800", "status": "1"}',
        '{"id": "1", "phone": "79991234567", "status": "1", "cmt": "\\udfff"}',
        '{"id": Infinity, "phone": "79991234567", "status": "1"}',
        '{"id": -Infinity, "phone": "79991234567", "status": "1"}',
        '{"id": NaN, "phone": "79991234567", "status": "1"}',
        '{"id": 1e400, "phone": "79991234567", "status": "1"}',
    ],
)
def test_json_lone_surrogates_and_non_finite_numbers_refused(raw: str) -> None:
    with pytest.raises(MalformedCallback):
        parse_callback(raw.encode("ascii"), content_type="application/json")


def test_json_ordinary_numbers_and_text_still_parse() -> None:
    fields = {"id": 12345, "phone": "79991234567", "status": 1, "cmt": "Заказ 😀", "cost": 1.5}
    body = json.dumps(fields, ensure_ascii=True).encode()
    event = parse_callback(body, content_type="application/json")
    assert isinstance(event, DeliveryReport)
    assert (event.comment, str(event.cost)) == ("Заказ 😀", "1.5")
    assert isinstance(
        parse_callback(as_json(INCOMING), content_type="application/json"), IncomingMessage
    )


# --- OpenAPI -------------------------------------------------------------------------------


async def test_openapi_has_unique_operation_ids_and_no_warning() -> None:
    app = FastAPI()
    app.include_router(callback_router(secret=SECRET, on_event=Recorder()))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # FastAPI's "Duplicate Operation ID" is a UserWarning
        async with client_for(app) as client:
            response = await client.get("/openapi.json")
    assert response.status_code == 200
    operations = response.json()["paths"]["/smsc/callback"]
    assert set(operations) == {"get", "post"}
    ids = [op["operationId"] for op in operations.values()]
    assert len(set(ids)) == 2
