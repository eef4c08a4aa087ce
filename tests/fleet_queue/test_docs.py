"""The work queue example of the "Scaling out" page runs as written, against the simulator
and a real Redis."""

from __future__ import annotations

import re
from pathlib import Path

from smscenter.testing import SMSCSimulator

PAGE = Path(__file__).resolve().parents[2] / "docs" / "scaling-out.md"


async def test_the_work_queue_example_runs(redis_url: str) -> None:
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text("utf-8"), re.S)
    (code,) = [b for b in blocks if "run_worker" in b]
    namespace: dict[str, object] = {"__name__": "docs_scaling_queue"}
    exec(compile(code, "scaling-out.md", "exec"), namespace)
    enqueue, work = namespace["enqueue"], namespace["work"]
    assert await enqueue(redis_url) == 50  # type: ignore[operator]
    assert await enqueue(redis_url) == 0  # type: ignore[operator]
    async with SMSCSimulator(seed=1, balance=10_000, login="acme") as sim:
        sim.behaviour.smpp.throughput = 30
        sent = await work(redis_url, sim.smpp_host, sim.smpp_port, sim.smpp_credentials)  # type: ignore[operator]
        assert sent == 50
        assert len(sim.sent) == 50
        assert sim.smpp.logins.throttled["acme"] == 0
        assert await work(redis_url, sim.smpp_host, sim.smpp_port, sim.smpp_credentials) == 0  # type: ignore[operator]
