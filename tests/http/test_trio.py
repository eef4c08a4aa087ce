"""HTTPClient is anyio-based: it runs on trio too (the simulator is asyncio-only, so these use an
httpx.MockTransport that answers like the provider)."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs

import httpx
import pytest

from smscenter import ConnectError, Credentials, HTTPClient, Message, RetryPolicy


@pytest.fixture
def anyio_backend() -> str:
    return "trio"


def _provider(request: httpx.Request) -> httpx.Response:
    if request.url.host == "smsc.ru":
        raise httpx.ConnectError("connection refused", request=request)
    form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
    assert form["fmt"] == "3" and form["charset"] == "utf-8"
    assert request.url.query == b""
    if request.url.path == "/sys/balance.php":
        return httpx.Response(200, json={"balance": "5.00", "currency": "RUR"})
    assert request.url.path == "/sys/send.php"
    return httpx.Response(200, json={"id": 9, "cnt": 1, "cost": "2.5", "balance": "2.50"})


async def test_send_and_balance_on_trio_with_failover() -> None:
    async with HTTPClient(
        Credentials("acme", "pw"),
        transport=httpx.MockTransport(_provider),
        retry=RetryPolicy(attempts=2, backoff=0.0),
    ) as api:
        assert (await api.balance()).balance == Decimal("5.00")
        result = await api.send(Message(to="79991234567", text="hi"))
    assert result.message_id == "9"


async def test_connect_error_on_trio() -> None:
    async with HTTPClient(
        Credentials("acme", "pw"),
        mirrors=(),
        transport=httpx.MockTransport(_provider),
        retry=RetryPolicy(attempts=1),
    ) as api:
        with pytest.raises(ConnectError):
            await api.balance()
