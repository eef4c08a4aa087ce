"""HTTP answers in the charset they declare, from a real HTTP server on 127.0.0.1.

The provider answers in windows-1251 unless told otherwise and names the charset in
``Content-Type`` (https://smscentre.com/api/http/, the ``charset`` parameter). The server here
is a plain TCP listener that answers every request with fixed bytes, so what the client gets is
exactly what a provider in that mood would send.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.abc
import pytest

from smscenter import HTTPClient, RetryPolicy
from smscenter.config import Credentials
from smscenter.exceptions import AuthenticationError, RemoteProtocolError
from smscenter.http._decode import answer_text, declared_charset

pytestmark = pytest.mark.anyio

RUSSIAN_ERROR = "неверный логин или пароль"


async def _read_request(stream: anyio.abc.ByteStream) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = await stream.receive()
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        body += await stream.receive()


@asynccontextmanager
async def answering(body: bytes, content_type: str | None) -> AsyncIterator[str]:
    """An HTTP/1.1 server on 127.0.0.1 answering every request with ``body``; yields its URL."""
    headers = [b"HTTP/1.1 200 OK", b"Content-Length: " + str(len(body)).encode()]
    if content_type is not None:
        headers.append(b"Content-Type: " + content_type.encode("ascii"))
    headers.append(b"Connection: close")
    response = b"\r\n".join(headers) + b"\r\n\r\n" + body

    async def handle(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            with anyio.move_on_after(5):
                await _read_request(stream)
                await stream.send(response)

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as group:
        group.start_soon(listener.serve, handle)
        yield f"http://127.0.0.1:{port}"
        group.cancel_scope.cancel()


def _client(url: str) -> HTTPClient:
    return HTTPClient(
        Credentials("acme", "s3cret"),
        base_url=url,
        mirrors=(),
        retry=RetryPolicy(attempts=1, backoff=0.0, jitter=0.0),
    )


def _error_json(encoding: str) -> bytes:
    return json.dumps({"error": RUSSIAN_ERROR, "error_code": 2}, ensure_ascii=False).encode(
        encoding
    )


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=windows-1251",  # as declared
        'application/json; charset="Windows-1251"',  # quoted, other case
        "application/json",  # nothing declared: UTF-8 fails, windows-1251 is the default
        "text/html; charset=utf-8",  # a wrong declaration: the bytes are not UTF-8
        "application/json; charset=x-no-such-charset",  # unknown: ignored
        None,
    ],
)
async def test_cp1251_error_answer_is_read(content_type: str | None) -> None:
    async with answering(_error_json("cp1251"), content_type) as url, _client(url) as api:
        with pytest.raises(AuthenticationError) as info:
            await api.balance()
    assert info.value.code == 2
    assert RUSSIAN_ERROR in str(info.value)


async def test_cp1251_success_answer_is_read() -> None:
    body = json.dumps({"balance": "12.50", "currency": "руб"}, ensure_ascii=False)
    async with (
        answering(body.encode("cp1251"), "application/json; charset=windows-1251") as url,
        _client(url) as api,
    ):
        balance = await api.balance()
    assert str(balance.balance) == "12.50" and balance.currency == "руб"


async def test_utf8_answer_declared_or_not() -> None:
    for content_type in ("application/json; charset=utf-8", "application/json"):
        async with answering(_error_json("utf-8"), content_type) as url, _client(url) as api:
            with pytest.raises(AuthenticationError) as info:
                await api.balance()
        assert RUSSIAN_ERROR in str(info.value)


async def test_an_answer_that_is_not_json_is_still_a_protocol_error() -> None:
    body = "<html>Ошибка</html>".encode("cp1251")
    async with answering(body, "text/html; charset=windows-1251") as url, _client(url) as api:
        with pytest.raises(RemoteProtocolError, match="is not JSON"):
            await api.balance()


def test_answer_text_rules() -> None:
    text = "Привет"
    assert answer_text(text.encode("cp1251"), "application/json; charset=cp1251") == text
    assert answer_text(text.encode("koi8-r"), "text/plain; charset=KOI8-R") == text
    assert answer_text(b"\xef\xbb\xbf" + text.encode(), "charset=windows-1251") == text
    assert answer_text(text.encode(), None) == text
    assert answer_text(text.encode("cp1251"), None) == text
    assert declared_charset("application/json;charset=Windows-1251") == "cp1251"
    assert declared_charset("application/json") is None
    assert declared_charset("application/json; charset=nonsense") is None
