"""The aiosmpplib driver of the SMPP throughput benchmark (see :mod:`benchmarks._peers`)."""

from __future__ import annotations

import asyncio
from typing import Any

from benchmarks._peers import DEADLINE, LOGIN, PASSWORD, _Clock, _phone, _shares, _text

__all__ = ("run_aiosmpplib",)


# --- aiosmpplib -------------------------------------------------------------------------------


async def run_aiosmpplib(cfg: dict[str, Any]) -> dict[str, Any]:
    from aiosmpplib import (
        ESME,
        NPI,
        TON,
        AbstractBroker,
        AbstractCorrelator,
        AbstractHook,
        DeliverSm,
        PhoneNumber,
        SubmitSm,
        SubmitSmResp,
    )

    window: int = cfg["window"]
    want_receipts: bool = cfg["receipts"]
    vary: bool = cfg.get("vary_text", False)
    shares = _shares(cfg["count"], cfg["binds"])
    source = PhoneNumber("SMSC", TON.ALPHANUMERIC, NPI.UNKNOWN)
    clock = _Clock()
    started = [False]
    all_done = asyncio.Event()
    totals = {"acked": 0, "receipts": 0, "errors": 0}
    states: list[dict[str, int]] = []

    def check_done() -> None:
        if all(
            s["acked"] + s["errors"] >= s["share"]
            and (not want_receipts or s["receipts"] >= s["share"])
            for s in states
        ):
            all_done.set()

    class DictCorrelator(AbstractCorrelator):  # type: ignore[misc]
        """Plain dicts: O(1) per PDU, no expiry sweep (its SimpleCorrelator scans everything)."""

        def __init__(self) -> None:
            self.store: dict[int, Any] = {}
            self.delivery: dict[str, Any] = {}

        def get_cumulated_status(self, ref_num: int) -> int:
            return 0

        async def expired(self, smpp_message: Any) -> None:
            return None

        async def put(self, smpp_message: Any) -> None:
            self.store[smpp_message.sequence_num] = smpp_message

        async def put_delivery(self, smsc_message_id: str, submit_sm: Any) -> None:
            self.delivery[smsc_message_id] = submit_sm

        async def put_delivery_segmented(self, deliver_sm: Any) -> Any:
            return deliver_sm

        async def get(self, response: Any) -> Any:
            return self.store.pop(response.sequence_num, None)

        async def get_segmented(self, smpp_seq_num: int, remove: bool = False) -> Any:
            return None, 0

        async def get_delivery(self, receipt: Any) -> Any:
            return self.delivery.pop(str(receipt.parse_receipt().get("id", "")), None)

    class WindowBroker(AbstractBroker):  # type: ignore[misc]
        """Hands out the next message only while fewer than ``window`` are unanswered."""

        def __init__(self, state: dict[str, int]) -> None:
            self.state = state
            self.free = asyncio.Event()
            self.free.set()

        async def enqueue(self, message: Any) -> None:
            raise NotImplementedError

        async def dequeue(self) -> Any:
            state = self.state
            if not started[0]:
                started[0] = True
                clock.start()
            while state["sent"] >= state["share"] or state["sent"] - state["acked"] >= window:
                self.free.clear()
                await self.free.wait()
            n = state["first"] + state["sent"]
            state["sent"] += 1
            return SubmitSm(
                short_message=_text(n, vary),
                source=source,
                destination=PhoneNumber(_phone(n), TON.INTERNATIONAL, NPI.ISDN),
                registered_delivery=1 if want_receipts else 0,
                log_id=str(n),
            )

    class CountingHook(AbstractHook):  # type: ignore[misc]
        def __init__(self, state: dict[str, int], broker: WindowBroker) -> None:
            self.state, self.broker = state, broker

        async def sending(self, smpp_message: Any, pdu: bytes, client_id: str) -> None:
            return None

        async def received(self, smpp_message: Any, pdu: bytes, client_id: str) -> None:
            if isinstance(smpp_message, SubmitSmResp):
                self.state["acked"] += 1
                self.broker.free.set()
                check_done()
            elif isinstance(smpp_message, DeliverSm):
                self.state["receipts"] += 1
                check_done()

        async def send_error(self, smpp_message: Any, error: Exception, client_id: str) -> None:
            self.state["errors"] += 1
            self.state["acked"] += 1  # frees its window slot; counted as an error
            self.broker.free.set()

    esmes = []
    first = 0
    for share in shares:
        state = {"share": share, "first": first, "sent": 0, "acked": 0, "receipts": 0}
        state["errors"] = 0
        states.append(state)
        broker = WindowBroker(state)
        esmes.append(
            ESME(
                smsc_host="127.0.0.1",
                smsc_port=cfg["port"],
                system_id=LOGIN,
                password=PASSWORD,
                broker=broker,
                hook=CountingHook(state, broker),
                correlator=DictCorrelator(),
                log_level="ERROR",
                enquire_link_interval=300.0,
            )
        )
        first += share
    tasks = [asyncio.create_task(esme.start()) for esme in esmes]
    try:
        await asyncio.wait_for(all_done.wait(), DEADLINE)
    finally:
        for s in states:
            totals["acked"] += s["acked"] - s["errors"]
            totals["receipts"] += s["receipts"]
            totals["errors"] += s["errors"]
    result = clock.result(totals["acked"], totals["receipts"])
    # Cancelling its start() task unbinds (its own stop() also waits out internal timers).
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    if totals["errors"]:
        return {"ok": False, "reason": f"{totals['errors']} sends failed"}
    return result
