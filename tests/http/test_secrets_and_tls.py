"""Secrets stay out of errors (their text, their chain) and out of clear-text SMTP: a real SMTP
server (aiosmtpd, with and without STARTTLS) and a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.abc
import pytest
import trustme
from aiosmtpd.controller import Controller

from smscenter import (
    APIError,
    AuthenticationError,
    ConnectError,
    Credentials,
    HTTPClient,
    Message,
    RetryPolicy,
    SMSCenterError,
    TransportError,
    UnknownOutcomeError,
    ValidationError,
)
from smscenter._scrub import scrub_error
from smscenter.smtp import SMTPSender

PASSWORD = "s3cret-pw-42"
API_KEY = "KEY0123456789abcdef"
CREDS = Credentials("acme", PASSWORD)
MSG = Message(to="79990000001", text="x")


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and everything chained to it (cause, context, exception attributes)."""
    seen: set[int] = set()
    todo = [error]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [x for x in (current.__cause__, current.__context__) if x is not None]
        todo += [v for v in vars(current).values() if isinstance(v, BaseException)]


def assert_no_secret(error: BaseException, *secrets: str) -> None:
    for item in _chain(error):
        shown = [str(item), repr(item), *map(repr, vars(item).values())]
        request = getattr(item, "request", None)  # httpx keeps the request (and its body)
        if request is not None:
            shown.append(repr(getattr(request, "content", b"")))
        for secret in secrets:
            assert all(secret not in text for text in shown), (type(item), shown)


# --- SMTP: TLS required by default -------------------------------------------------------------


class _Collector:
    def __init__(self, answer: str = "250 Message accepted") -> None:
        self.envelopes: list[Any] = []
        self.answer = answer

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return self.answer


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def smtp_server(collector: _Collector, **kwargs: Any) -> AsyncIterator[int]:
    port = _free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port, **kwargs)
    await anyio.to_thread.run_sync(controller.start)
    try:
        yield port
    finally:
        await anyio.to_thread.run_sync(controller.stop)


async def test_no_starttls_offered_means_nothing_sent() -> None:
    """A server that does not offer STARTTLS (or a man in the middle who strips the offer) gets
    no mail: the body would carry the login and password in clear."""
    collector = _Collector()
    async with smtp_server(collector) as port:
        sender = SMTPSender(CREDS, host="127.0.0.1", port=port, timeout=5)
        with pytest.raises(ConnectError, match="STARTTLS") as info:
            await sender.send(MSG)
    assert collector.envelopes == []
    assert_no_secret(info.value, PASSWORD)
    assert "starttls" in repr(sender)


async def test_clear_text_only_when_asked() -> None:
    collector = _Collector()
    async with smtp_server(collector) as port:
        sender = SMTPSender(CREDS, host="127.0.0.1", port=port, start_tls=False)
        await sender.send(MSG)
    assert len(collector.envelopes) == 1
    assert "CLEAR" in repr(sender)


async def test_starttls_offered_is_used() -> None:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    collector = _Collector()
    async with smtp_server(collector, tls_context=server_context, require_starttls=True) as port:
        sender = SMTPSender(CREDS, host="127.0.0.1", port=port, tls_context=client_context)
        await sender.send(MSG)
    (envelope,) = collector.envelopes
    assert PASSWORD.encode() in envelope.original_content  # it arrived, over TLS


def test_opportunistic_starttls_is_gone() -> None:
    with pytest.raises(ValidationError, match="start_tls"):
        SMTPSender(CREDS, start_tls=None)  # type: ignore[arg-type]


async def test_smtp_refusal_echoing_the_body_is_scrubbed() -> None:
    collector = _Collector(answer=f"554 5.6.0 bad line 'acme:{PASSWORD}:::0,0:79990000001:x'")
    async with smtp_server(collector) as port:
        sender = SMTPSender(CREDS, host="127.0.0.1", port=port, start_tls=False)
        with pytest.raises(APIError) as info:
            await sender.send(MSG)
    assert info.value.code == 554
    assert "***" in str(info.value)
    assert_no_secret(info.value, PASSWORD)


# --- HTTP: provider error text and chained errors ----------------------------------------------


@asynccontextmanager
async def answering(body: bytes | None) -> AsyncIterator[str]:
    """An HTTP server on 127.0.0.1 answering every request with ``body`` (JSON), or, with
    ``None``, closing the connection without an answer."""

    async def handle(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            with anyio.move_on_after(5):
                data = b""
                while b"\r\n\r\n" not in data:
                    data += await stream.receive()
                if body is not None:
                    head = (
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
                        b"Connection: close\r\nContent-Length: " + str(len(body)).encode()
                    )
                    await stream.send(head + b"\r\n\r\n" + body)

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as group:
        group.start_soon(listener.serve, handle)
        yield f"http://127.0.0.1:{port}"
        group.cancel_scope.cancel()


def _client(url: str, credentials: Credentials) -> HTTPClient:
    return HTTPClient(
        credentials, base_url=url, mirrors=(), retry=RetryPolicy(attempts=1, backoff=0, jitter=0)
    )


@pytest.mark.parametrize(
    ("credentials", "secret"),
    [(CREDS, PASSWORD), (Credentials.from_api_key(API_KEY), API_KEY)],
)
async def test_provider_error_text_quoting_the_secret_is_scrubbed(
    credentials: Credentials, secret: str
) -> None:
    text = f"wrong login or password (login=acme&psw={secret}&apikey={secret})"
    body = json.dumps({"error": text, "error_code": 2}).encode()
    async with answering(body) as url, _client(url, credentials) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.balance()
    assert "***" in info.value.description
    assert_no_secret(info.value, secret)


async def test_transport_error_has_no_hidden_context_with_the_request() -> None:
    """httpx's exception keeps the request, whose body holds psw=; ``from None`` only hides it
    from the traceback printer. The error leaves the client without it."""
    async with answering(None) as url, _client(url, CREDS) as client:
        with pytest.raises(TransportError) as info:
            await client.balance()
    assert_no_secret(info.value, PASSWORD)
    assert info.value.__context__ is None


async def test_send_without_an_answer_carries_no_request_in_its_chain() -> None:
    async with answering(None) as url, _client(url, CREDS) as client:
        with pytest.raises((TransportError, UnknownOutcomeError)) as info:
            await client.send(MSG)
    assert_no_secret(info.value, PASSWORD)


def test_scrub_error_walks_cause_context_and_attributes() -> None:
    inner = RuntimeError(f"request psw={PASSWORD}")
    middle = ValueError(f"while sending {API_KEY}")
    middle.__cause__ = inner
    outer = UnknownOutcomeError(f"lost; key {API_KEY}", cause=middle)
    outer.__context__ = RuntimeError(PASSWORD)
    outer.__suppress_context__ = True
    outer.add_note(f"note {PASSWORD}")
    assert scrub_error(outer, (PASSWORD, API_KEY)) is outer
    assert outer.__context__ is None  # suppressed: shown nowhere, so detached
    assert_no_secret(outer, PASSWORD, API_KEY)
    assert outer.__notes__ == ["note ***"]
    assert isinstance(outer, SMSCenterError)
