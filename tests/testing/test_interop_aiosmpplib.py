"""Interop: aiosmpplib's ESME (an SMPP client nobody here wrote) against our simulator.

aiosmpplib runs its own loop of tasks (receiver, sender, keepalive) fed by a broker queue and
reports through a hook; the test enqueues messages, collects submit_sm_resp ids and receipts
from the hook, and checks them against the simulator's store. Everything is bounded by
timeouts; the simulator's manual clock decides when receipts go out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiosmpplib
import anyio
import pytest

from smscenter.testing import SMSCSimulator

N = 20


class Hook(aiosmpplib.AbstractHook):  # type: ignore[misc]
    """Collects what aiosmpplib received: submit_sm_resp ids and receipts, by log_id."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}
        self.receipts: dict[str, dict[str, Any]] = {}
        self.unparsed = 0
        self.errors: list[Exception] = []

    async def sending(self, smpp_message: Any, pdu: bytes, client_id: str) -> None:
        pass

    async def received(self, smpp_message: Any, pdu: bytes, client_id: str) -> None:
        if smpp_message is None:
            self.unparsed += 1
        elif isinstance(smpp_message, aiosmpplib.SubmitSmResp):
            self.ids[smpp_message.log_id] = smpp_message.message_id
        elif isinstance(smpp_message, aiosmpplib.DeliverSm) and smpp_message.is_receipt():
            self.receipts[smpp_message.log_id] = smpp_message.parse_receipt()

    async def send_error(self, smpp_message: Any, error: Exception, client_id: str) -> None:
        if error is not None:
            self.errors.append(error)


@pytest.fixture
async def sim() -> AsyncIterator[SMSCSimulator]:
    async with SMSCSimulator(seed=3) as simulator:
        simulator.behaviour.smpp.throughput = None
        yield simulator


async def _wait(predicate: Any, limit: float = 10.0) -> None:
    with anyio.fail_after(limit):
        while not predicate():  # noqa: ASYNC110 - aiosmpplib reports through callbacks only
            await anyio.sleep(0.02)


async def test_aiosmpplib_esme_submits_and_gets_receipts(sim: SMSCSimulator) -> None:
    hook = Hook()
    creds = sim.smpp_credentials
    assert creds.login is not None and creds.password is not None
    esme = aiosmpplib.ESME(
        smsc_host=sim.smpp_host,
        smsc_port=sim.smpp_port,
        system_id=creds.login,
        password=creds.password,
        hook=hook,
        log_level=logging.WARNING,
        log_handler=logging.NullHandler(),
        socket_timeout=5.0,
    )
    task = asyncio.ensure_future(esme.start())
    try:
        for i in range(N):
            await esme.broker.enqueue(
                aiosmpplib.SubmitSm(
                    short_message=f"interop message {i}",
                    source=aiosmpplib.PhoneNumber("Shop", aiosmpplib.TON.ALPHANUMERIC),
                    destination=aiosmpplib.PhoneNumber(
                        f"7916000{i:04d}", aiosmpplib.TON.INTERNATIONAL, aiosmpplib.NPI.ISDN
                    ),
                    log_id=f"msg-{i}",
                )
            )
        await _wait(lambda: len(hook.ids) == N)
        sim.advance(10)
        await _wait(lambda: len(hook.receipts) == N)
    finally:
        # aiosmpplib's disconnect sends EOF but never closes its StreamWriter (a ResourceWarning
        # under filterwarnings=error): keep a handle to close it ourselves.
        writer = esme._writer
        with anyio.move_on_after(5, shield=True):
            await esme.stop()
        with anyio.move_on_after(5, shield=True):
            await asyncio.wait({task})
        if not task.done():
            task.cancel()
            with anyio.move_on_after(5, shield=True), contextlib.suppress(asyncio.CancelledError):
                await task
        if writer is not None:
            writer.close()
            with anyio.move_on_after(5, shield=True), contextlib.suppress(OSError):
                await writer.wait_closed()

    assert hook.errors == [] and hook.unparsed == 0
    # every id aiosmpplib got is a message the simulator stored, with the right text
    for i in range(N):
        message_id = hook.ids[f"msg-{i}"]
        stored = sim.message(message_id)
        assert stored is not None
        assert stored.text == f"interop message {i}"
        assert stored.phone == f"7916000{i:04d}"
    # aiosmpplib correlated each receipt back to its submit: same ids, delivered
    for log_id, receipt in hook.receipts.items():
        assert receipt["id"] == hook.ids[log_id]
        assert receipt["stat"] == "DELIVRD"
        assert int(receipt["err"]) == 0
    assert sim.smpp.counters.receipts_acked == N
    assert sim.smpp.counters.binds["demo"] == 1
