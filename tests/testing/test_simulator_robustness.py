"""Real-time clock progression and junk input: the simulator answers, never crashes."""

from __future__ import annotations

import random
import time
from typing import Any

import anyio
import httpx

from smscenter.testing import SMSCSimulator, StatusChange

from ._helpers import call


async def test_real_time_clock_moves_statuses_and_notifies() -> None:
    async with SMSCSimulator(clock=time.time) as sim:
        sim.behaviour.transmit_delay = 0.01
        sim.behaviour.delivery_delay = 0.05
        done = anyio.Event()
        seen: list[StatusChange] = []

        def on_change(change: StatusChange) -> None:
            seen.append(change)
            if change.new_status == 1:
                done.set()

        sim.subscribe_status(on_change)
        async with httpx.AsyncClient(base_url=sim.base_url) as http:
            sent = await call(http, sim, "send", phones="+79991234567", mes="now")
            with anyio.fail_after(5):
                await done.wait()  # no request needed: the simulator's ticker applies it
            status = await call(http, sim, "status", id=sent["id"], phone="79991234567")
        assert [c.new_status for c in seen] == [0, 1]
        assert status["status"] == 1


async def test_junk_parameters_never_crash_the_app(
    sim: SMSCSimulator, http: httpx.AsyncClient
) -> None:
    rng = random.Random(1234)
    keys = ["phones", "mes", "cost", "id", "time", "valid", "maxsms", "translit", "list"]
    keys += ["all", "del", "hour", "after_id", "cnt", "get", "buy", "add", "phone", "bin", "hlr"]
    alphabet = "0123456789,;:+-. \n~abcXYZЖ%&="
    endpoints = ["send", "status", "get", "info", "receive_phones", "wait_call", "downloads"]
    endpoints += ["senders", "phones", "jobs", "balance"]
    sim.behaviour.duplicate_window = 0
    for _ in range(150):
        params: dict[str, Any] = {
            rng.choice(keys): "".join(rng.choices(alphabet, k=rng.randint(0, 12)))
            for _ in range(rng.randint(0, 5))
        }
        body = await call(http, sim, rng.choice(endpoints), **params)
        if isinstance(body, dict) and "error_code" in body:
            assert 1 <= body["error_code"] <= 11
