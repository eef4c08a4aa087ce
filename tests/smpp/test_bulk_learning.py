"""``send_many`` feeds the receipt id matcher (``receipt_ids="auto"``, still learning) only the
ids of sends that asked for a receipt: a send with ``report=False`` gets none (SMPP 3.4
§5.2.17, ``registered_delivery`` 0), so remembering its id would only push the ids receipts
will name out of the bounded memory. Real sockets: the fake SMSC of ``_quirky_ids_smsc``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from _quirky_ids_smsc import QuirkyIdSMSC

from smscenter import Credentials, Limits, Message, Timeouts
from smscenter.smpp.client.pool import SMPPPool


@pytest.fixture
async def smsc() -> AsyncIterator[QuirkyIdSMSC]:
    async with QuirkyIdSMSC() as server:
        server.receipts = False  # the matcher keeps learning: nothing settles the style
        yield server


async def test_only_sends_that_ask_for_a_receipt_are_remembered(smsc: QuirkyIdSMSC) -> None:
    pool = SMPPPool(
        "127.0.0.1", smsc.port, Credentials("acme", "secret"),
        limits=Limits(max_rate=None), timeouts=Timeouts(5),
    )  # fmt: skip
    async with pool:
        matcher = pool._receipt_ids
        assert matcher.learning
        quiet = [Message(to=f"7999{n:07d}", text="hi", report=False) for n in range(30)]
        asked = [Message(to=f"7998{n:07d}", text="hi") for n in range(20)]
        ids = {}
        async for outcome in pool.send_many(quiet + asked):
            assert outcome.result is not None, outcome.error
            ids[outcome.recipient] = outcome.result.message_id
    remembered = set(matcher._seen)
    assert remembered == {ids[m.to[0]] for m in asked}
    assert not remembered & {ids[m.to[0]] for m in quiet}
