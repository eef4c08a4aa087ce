"""``report --redis URL``: the same summary as ``report --store``, read from the fleet's Redis
store, with the work queue's progress (a real redis-server, the simulator)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from .conftest import SimThread


def test_report_redis_counts_a_fleet_campaign_and_its_queue(
    run: Callable[..., Result], redis_url: str, tmp_path: Path, sim_thread: SimThread
) -> None:
    source = tmp_path / "fleet.csv"
    source.write_text("phone\n" + "".join(f"+7999600{i:04d}\n" for i in range(12)))
    env = sim_thread.env
    queued = run("bulk", str(source), "--text", "Hi", "--redis", redis_url, env=env)
    assert queued.exit_code == 0, queued.output
    before = json.loads(run("report", "--redis", redis_url, "--json", env=env).stdout)
    assert before["states"] == {"queued": 12} and before["queue"]["waiting"] == 12
    assert before["store"] == "redis demo"

    sent = run("worker", "--redis", redis_url, "--rate", "1000", "--until-empty", env=env)
    assert sent.exit_code == 0, sent.output
    after = run("report", "--redis", redis_url, env=env)
    assert after.exit_code == 0, after.output
    lines = after.stdout.splitlines()
    assert any(line.split()[:2] == ["accepted", "12"] for line in lines), after.stdout
    assert "queue outbox" in after.stdout and "waiting in the queue" in after.stdout
    data = json.loads(run("report", "--redis", redis_url, "--json", env=env).stdout)
    assert data["accepted"] == 12 and data["queue"] == {"waiting": 0, "taken": 0, "workers": {}}

    assert run("report", env=env).exit_code == 2  # neither --store nor --redis
