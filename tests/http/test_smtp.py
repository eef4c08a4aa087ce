"""The SMTP transport, against a real local SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest
from aiosmtpd.controller import Controller

from smscenter import (
    APIError,
    ConnectError,
    Credentials,
    Message,
    MessageKind,
    SendOptions,
    SendWindow,
    Transport,
)
from smscenter.models import Attachment
from smscenter.smtp import SMTPSender, smtp_body

CREDS = Credentials("acme", "s3cret-pw")


class _Collector:
    def __init__(self, refuse: bool = False) -> None:
        self.envelopes: list[Any] = []
        self.refuse = refuse

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if self.refuse:
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _serve(collector: _Collector) -> tuple[Controller, int]:
    port = _free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    await anyio.to_thread.run_sync(controller.start)
    return controller, port


@pytest.fixture
async def smtp_server() -> AsyncIterator[tuple[_Collector, int]]:
    collector = _Collector()
    controller, port = await _serve(collector)
    try:
        yield collector, port
    finally:
        await anyio.to_thread.run_sync(controller.stop)


def _received_body(envelope: Any) -> str:
    parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content_charset() == "utf-8"
    content: str = parsed.get_content()
    return content


async def test_send_delivers_exact_body(smtp_server: tuple[_Collector, int]) -> None:
    collector, port = smtp_server
    sender = SMTPSender(
        CREDS, host="127.0.0.1", port=port, from_address="app@acme.example", start_tls=False
    )
    await sender.send(Message(to=["79990000001", "79990000002"], text="Ваш пароль: 123"))
    (envelope,) = collector.envelopes
    assert envelope.mail_from == "app@acme.example"
    assert envelope.rcpt_tos == ["send@send.smsc.ru"]
    # The exact line, as it arrived on the wire (SMTP line ends are CRLF).
    assert _received_body(envelope) == (
        "acme:s3cret-pw:::0,0:79990000001,79990000002:Ваш пароль: 123\r\n"
    )


async def test_send_with_every_field(smtp_server: tuple[_Collector, int]) -> None:
    collector, port = smtp_server
    sender = SMTPSender(
        Credentials.from_api_key("KEY123"),
        domain="smscentre.com",
        host="127.0.0.1",
        port=port,
        start_tls=False,
    )
    when = datetime(2024, 1, 1, 10, 0, tzinfo=UTC)
    await sender.send(
        Message(
            to="79990000001",
            text="Flash!",
            kind=MessageKind.FLASH,
            sender="ACME",
            translit=True,
            client_id=77,
            send_at=when,
            comment="note",
        )
    )
    (envelope,) = collector.envelopes
    assert envelope.mail_from == "api@smscentre.com"
    assert envelope.rcpt_tos == ["send@send.smscentre.com"]
    assert _received_body(envelope) == (
        f":KEY123:77:0{int(when.timestamp())}:1,1,ACME:79990000001:Flash!\r\n~~~\r\nnote\r\n"
    )


def test_body_forms() -> None:
    md5 = Credentials.hashed("acme", "pw")
    body = smtp_body(md5, Message(to="79990000001", text="x", send_at=SendWindow(9, 18)))
    assert body == f"acme:{md5.password_md5}::9-18:0,0:79990000001:x"
    body = smtp_body(CREDS, Message(to="79990000001", text="", kind=MessageKind.HLR))
    assert body == "acme:s3cret-pw:::0,3:79990000001:"
    relative = smtp_body(CREDS, Message(to="79990000001", text="x", send_at=timedelta(minutes=5)))
    assert ":+5:" in relative


@pytest.mark.parametrize(
    "fields",
    [
        {"validity": timedelta(hours=1)},
        {"max_parts": 2},
        {"extra": {"nl": "1"}},
        {"options": SendOptions(user_ip="1.2.3.4")},
        {"tinyurl": True},
        {"kind": MessageKind.BOT, "bot": "@acme_bot"},
        {"kind": MessageKind.MMS, "attachments": [Attachment("a.png", b"x")]},
    ],
)
def test_fields_smtp_cannot_carry_fail_before_sending(fields: dict[str, Any]) -> None:
    message = Message(to="79990000001", text="hi", **fields)
    with pytest.raises(ValueError):
        smtp_body(CREDS, message)


def test_colon_in_password_refused_without_leaking_it() -> None:
    with pytest.raises(ValueError) as info:
        smtp_body(Credentials("acme", "a:b-secret"), Message(to="79990000001", text="x"))
    assert "a:b-secret" not in str(info.value)


def test_repr_has_no_secret() -> None:
    sender = SMTPSender(CREDS)
    assert "s3cret-pw" not in repr(sender)
    assert "send.smsc.ru:25" in repr(sender)


async def test_refused_recipient_is_an_smtp_api_error() -> None:
    collector = _Collector(refuse=True)
    controller, port = await _serve(collector)
    try:
        sender = SMTPSender(CREDS, host="127.0.0.1", port=port, start_tls=False)
        with pytest.raises(APIError) as info:
            await sender.send(Message(to="79990000001", text="x"))
    finally:
        await anyio.to_thread.run_sync(controller.stop)
    assert info.value.transport is Transport.SMTP
    assert info.value.code == 550
    assert "s3cret-pw" not in str(info.value)
    assert collector.envelopes == []


async def test_unreachable_server_is_connect_error() -> None:
    sender = SMTPSender(CREDS, host="127.0.0.1", port=_free_port(), timeout=5)
    with pytest.raises(ConnectError) as info:
        await sender.send(Message(to="79990000001", text="x"))
    assert "s3cret-pw" not in str(info.value)
