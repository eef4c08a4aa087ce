"""The "Scaling out" page's example runs as written, against the simulator and a real Redis."""

from __future__ import annotations

import re
from pathlib import Path

from smscenter.testing import SMSCSimulator

PAGE = Path(__file__).resolve().parents[2] / "docs" / "scaling-out.md"


async def test_the_worker_example_runs(redis_url: str) -> None:
    # The page's first example (the work queue's has its own test, tests/fleet_queue).
    code = re.findall(r"```python\n(.*?)```", PAGE.read_text("utf-8"), re.S)[0]
    namespace: dict[str, object] = {"__name__": "docs_scaling"}
    exec(compile(code, "scaling-out.md", "exec"), namespace)
    async with SMSCSimulator(seed=1, balance=10_000, login="acme") as sim:
        sim.behaviour.smpp.throughput = 30
        worker = namespace["worker"]
        sent = await worker(redis_url, sim.smpp_host, sim.smpp_port, sim.smpp_credentials)  # type: ignore[operator]
        assert sent == 20
        assert sim.smpp.logins.max_binds["acme"] == 2
        assert {s.system_type.connections for s in sim.smpp.sessions("acme")} <= {4}
        assert sim.smpp.logins.throttled["acme"] == 0
