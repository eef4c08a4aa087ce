"""One delivery report, one key: the same event seen over SMPP, HTTP status and a callback has
one ``message_id`` and one ``event_key`` (the embedded simulator over real local sockets)."""

from __future__ import annotations

from urllib.parse import urlencode

import anyio

from smscenter import (
    DeliveryReport,
    HTTPClient,
    Limits,
    Message,
    RetryPolicy,
    SMPPPool,
    Timeouts,
)
from smscenter.testing import SMSCSimulator
from smscenter.webhook import parse_callback

FORM = "application/x-www-form-urlencoded"


async def test_one_report_has_one_key_over_smpp_http_and_callback() -> None:
    async with SMSCSimulator(seed=3, balance=1000) as sim:
        sim.behaviour.smpp.throughput = None
        phone = "79991234567"
        async with SMPPPool(
            sim.smpp_host, sim.smpp_port, sim.smpp_credentials,
            limits=Limits(max_rate=None), timeouts=Timeouts(5),
        ) as pool:  # fmt: skip
            sent = await pool.send(Message(to=f"+{phone}", text="Order shipped", sender="Shop"))
            sim.advance(10)
            with anyio.fail_after(5):
                async with pool.reports() as stream:
                    smpp = await stream.receive()
        assert isinstance(smpp, DeliveryReport)
        async with HTTPClient(
            sim.credentials, base_url=sim.base_url, retry=RetryPolicy(attempts=1)
        ) as api:
            http = await api.status(sent.message_id, phone)
        assert http.status.code is not None
        hook = parse_callback(
            urlencode({"id": sent.message_id, "phone": phone, "status": http.status.code}).encode(),
            content_type=FORM,
        )
    assert isinstance(hook, DeliveryReport)
    assert sent.message_id == smpp.message_id == http.message_id == hook.message_id
    assert smpp.event_key == http.event_key == hook.event_key
    assert smpp.transport != http.transport != hook.transport


def test_client_id_filled_where_the_provider_gives_it_back() -> None:
    # send.php's id= makes the client's id the message's id; a non-numeric one is surely it.
    hook = parse_callback(
        urlencode({"id": "order-17", "phone": "79991234567", "status": "1"}).encode(),
        content_type=FORM,
    )
    assert isinstance(hook, DeliveryReport)
    assert hook.client_id == "order-17" == hook.message_id
    numeric = parse_callback(
        urlencode({"id": "9876", "phone": "79991234567", "status": "1"}).encode(),
        content_type=FORM,
    )
    assert isinstance(numeric, DeliveryReport) and numeric.client_id is None


async def test_http_status_by_client_id_fills_client_id() -> None:
    async with (
        SMSCSimulator(seed=3, balance=1000) as sim,
        HTTPClient(sim.credentials, base_url=sim.base_url, retry=RetryPolicy(attempts=1)) as api,
    ):
        await api.send(Message(to="+79991234567", text="hi", client_id="order-17"))
        report = await api.status("order-17", "79991234567")
    assert report.client_id == "order-17"
