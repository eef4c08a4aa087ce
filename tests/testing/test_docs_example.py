"""The first example of docs/simulator.md, run against the real HTTP client."""

from __future__ import annotations

from smscenter import HTTPClient, Message, MessageStatus
from smscenter.testing import SMSCSimulator


async def test_order_confirmation_is_delivered() -> None:
    async with SMSCSimulator() as sim:
        async with HTTPClient(sim.credentials, base_url=sim.base_url) as client:
            result = await client.send(Message(to="+79991234567", text="Order 42 shipped"))
            sim.advance(60)
            report = await client.status(result.message_id, "+79991234567")
        assert report.status is MessageStatus.DELIVERED
        assert sim.sent_to("79991234567")[0].text == "Order 42 shipped"


async def test_balance_through_the_fixture(smsc_simulator: SMSCSimulator) -> None:
    async with HTTPClient(smsc_simulator.credentials, base_url=smsc_simulator.base_url) as client:
        assert (await client.balance()).balance == 1000
