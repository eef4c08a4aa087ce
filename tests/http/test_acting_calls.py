"""Calls that act (create a mailing, send an event notification, rent a number, create or pay a
sub-client) are not repeated once an attempt may have reached the provider: a repeat after its
answer was lost could run the mailing, send the notification or move the money twice (the
one-minute duplicate refusal does not cover a repeat that arrives later, and users.php documents
none). Such a call ends with UnknownOutcomeError, as a send does; a read still retries."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date

import anyio
import pytest

from smscenter import (
    ConnectError,
    HTTPClient,
    Message,
    RetryPolicy,
    TransportError,
    UnknownOutcomeError,
)

from .conftest import dead_base_url
from .test_unknown_outcome import ResettingServer, client_on

RETRY = RetryPolicy(attempts=3, backoff=0.0, jitter=0.0)
MESSAGE = Message(to="79991234567", text="Sale today")

ACTING: dict[str, Callable[[HTTPClient], Awaitable[object]]] = {
    "add_mailing": lambda api: api.add_mailing("sale", MESSAGE),
    "add_template_mailing": lambda api: api.add_template_mailing("sale", "7", ["79991234567"]),
    "notify_event": lambda api: api.notify_event("12"),
    "buy_number": lambda api: api.buy_number("79005550001"),
    "add_sub_client": lambda api: api.add_sub_client("acme_shop", "shop-pass-1"),
    "pay_sub_client": lambda api: api.pay_sub_client("acme_shop", 100),
}


@pytest.fixture
async def server() -> AsyncIterator[ResettingServer]:
    server = ResettingServer()
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    server.port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, server._serve)
        yield server
        tg.cancel_scope.cancel()
    await listener.aclose()


@pytest.mark.parametrize("call", sorted(ACTING))
async def test_acting_call_written_without_answer_is_not_repeated(
    server: ResettingServer, call: str
) -> None:
    async with client_on(f"http://127.0.0.1:{server.port}", RETRY) as api:
        with pytest.raises(UnknownOutcomeError) as info:
            await ACTING[call](api)
    assert len(server.forms) == 1  # the provider saw it once
    assert info.value.cause is not None
    assert "may have" in str(info.value)


async def test_a_read_is_still_retried(server: ResettingServer) -> None:
    async with client_on(f"http://127.0.0.1:{server.port}", RETRY) as api:
        with pytest.raises(TransportError) as info:
            await api.ported_numbers(date(2026, 1, 5))
    assert not isinstance(info.value, UnknownOutcomeError)
    assert len(server.forms) == RETRY.attempts


async def test_acting_call_never_written_is_a_transport_error() -> None:
    async with client_on(dead_base_url(), RETRY) as api:
        with pytest.raises(ConnectError):
            await api.pay_sub_client("acme_shop", 100)


async def test_pricing_a_mailing_is_still_retried(server: ResettingServer) -> None:
    # cost=1 creates nothing: repeating it is harmless.
    async with client_on(f"http://127.0.0.1:{server.port}", RETRY) as api:
        with pytest.raises(TransportError) as info:
            await api.add_mailing("sale", MESSAGE, price_only=True)
    assert not isinstance(info.value, UnknownOutcomeError)
    assert len(server.forms) == RETRY.attempts
