"""listen (SMPP and HTTP), simulate (start-up and shutdown) and the demo, end to end."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import anyio
import pytest
from click.testing import Result
from rich.console import Console

from smscenter import Credentials, Message
from smscenter.cli.demo import run_demo
from smscenter.smpp.client.pool import SMPPPool
from tests.cli.conftest import SECRET, SimThread


async def _submit_over_smpp(sim: object) -> str:
    host, port = sim.smpp_host, sim.smpp_port  # type: ignore[attr-defined]
    async with SMPPPool(host, port, Credentials("demo", SECRET)) as pool:
        result = await pool.send(Message(to="+79991234567", text="Your code is 4242"))
    return result.message_id


async def _when_bound_then(sim: object, *actions: Callable[[], object]) -> None:
    with anyio.fail_after(20):
        # The simulator has no event for "bound"; poll its state (bounded by fail_after).
        while not sim.smpp.sessions("demo"):  # type: ignore[attr-defined]  # noqa: ASYNC110
            await anyio.sleep(0.01)
    for action in actions:
        action()


def test_listen_over_smpp_prints_receipts_and_incoming(
    sim_thread: SimThread, run: Callable[..., Result]
) -> None:
    sim = sim_thread.sim
    message_id = sim_thread.portal.call(_submit_over_smpp, sim)
    # Once listen has bound: an incoming SMS arrives, and the message's receipt falls due.
    sim_thread.portal.start_task_soon(
        _when_bound_then,
        sim,
        lambda: sim.inject_incoming("+79990001122", "STOP please"),
        lambda: sim.advance(60),
    )
    result = run("listen", "--count", "2", "--for", "20", "--json", env=sim_thread.env)
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    by_type = {e["type"]: e for e in events}
    assert by_type["incoming"]["phone"].endswith("79990001122")
    assert by_type["incoming"]["text"] == "STOP please"
    assert by_type["receipt"]["message_id"] == message_id
    assert by_type["receipt"]["status"] == "delivered" and by_type["receipt"]["final"] is True
    # Both were acknowledged (deliver_sm_resp), the last one included: none comes again.
    counters = sim_thread.call(lambda: sim.smpp.counters)  # type: ignore[attr-defined]
    assert (counters.receipts_acked, counters.incoming_acked) == (1, 1)


async def _after_first_poll(sim: object, *actions: Callable[[], object]) -> None:
    with anyio.fail_after(20):
        # listen's first poll (incoming + history) is its baseline; once the next poll's first
        # request arrives, the baseline has been read in full.
        while sim.requests.get("get", 0) < 3:  # type: ignore[attr-defined]  # noqa: ASYNC110
            await anyio.sleep(0.005)
    for action in actions:
        action()


def test_listen_over_http_polls_answers_and_statuses(
    sim_thread: SimThread, run: Callable[..., Result]
) -> None:
    sim = sim_thread.sim
    sent = run("send", "+79991234567", "Reply YES to confirm", "--json", env=sim_thread.env)
    message_id = json.loads(sent.stdout)["message_id"]
    sim_thread.portal.start_task_soon(
        _after_first_poll,
        sim,
        lambda: sim.inject_incoming("+79991234567", "YES", answer_to=int(message_id)),
        lambda: sim.advance(60),
    )
    result = run(
        "listen", "--via", "http", "--interval", "0.02", "--count", "2", "--for", "20",
        env=sim_thread.env,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert any("incoming  from 79991234567" in line and line.endswith(": YES") for line in lines)
    assert any(f"receipt   {message_id} " in line and "delivered" in line for line in lines)


def test_listen_stops_after_its_duration(sim_thread: SimThread, run: Callable[..., Result]) -> None:
    started = time.monotonic()
    result = run("listen", "--for", "0.3", env=sim_thread.env)
    assert result.exit_code == 0 and result.stdout == ""
    assert time.monotonic() - started < 10


def test_simulate_for_a_while(run: Callable[..., Result]) -> None:
    result = run("simulate", "--for", "0.2")
    assert result.exit_code == 0, result.output
    assert "export SMSC_BASE_URL=http://127.0.0.1:" in result.stdout
    assert "export SMSC_SMPP_PORT=" in result.stdout
    assert result.stdout.rstrip().endswith("simulator stopped")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_simulate_serves_until_ctrl_c(clean_env: object) -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "smscenter", "simulate", "--delivery-delay", "0.5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        env = dict(os.environ)
        for _ in range(8):
            line = child.stdout.readline()
            if line.strip().startswith("export "):
                key, value = line.strip().removeprefix("export ").split("=", 1)
                env[key] = value
            if "SMSC_PASSWORD" in env:
                break
        assert {"SMSC_BASE_URL", "SMSC_SMPP_HOST", "SMSC_LOGIN", "SMSC_PASSWORD"} <= set(env)
        # The printed settings are all another shell needs.
        balance = subprocess.run(
            [sys.executable, "-m", "smscenter", "balance", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert balance.returncode == 0, balance.stderr
        assert json.loads(balance.stdout)["balance"] == "50000.0"
        child.send_signal(signal.SIGINT)
        rest, _err = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 0
    assert "simulator stopped" in rest


async def test_demo_end_to_end_numbers_add_up() -> None:
    out = io.StringIO()
    console = Console(file=out, width=120, force_terminal=False)
    summary = await run_demo(console, messages=300, binds=2, rate=1000, seed=5, delivery_delay=0.5)
    assert summary.consistent
    assert summary.http_sent == 4 and sum(summary.http_final.values()) == 4
    assert summary.http_final.get("undeliverable") == 1  # the unreachable number
    smpp = summary.smpp
    assert smpp is not None
    assert smpp.sent == smpp.acknowledged == 300 and smpp.failed == smpp.unknown == 0
    assert sum(smpp.final.values()) + smpp.awaiting_receipt == 300
    assert smpp.awaiting_receipt == 0  # every receipt came back
    assert smpp.delivered > 250 and len(smpp.final) > 1  # a realistic mix
    assert smpp.cost == Decimal("750.0")  # 300 one-part messages at 2.5
    assert summary.balance_start - summary.balance_end == summary.http_cost + smpp.cost
    text = out.getvalue()
    assert "Summary" in text and "All numbers add up." in text
    assert "SMPP pool (2 binds)" in text


def test_demo_command_http_only(run: Callable[..., Result]) -> None:
    result = run("demo", "--http-only", "--delivery-delay", "0.5")
    assert result.exit_code == 0, result.output
    assert "All numbers add up." in result.stdout
    assert "SMPP part skipped (--http-only)" in result.stdout


def test_demo_command_with_a_small_smpp_job(run: Callable[..., Result]) -> None:
    result = run(
        "demo", "--messages", "120", "--binds", "2", "--rate", "400", "--delivery-delay", "0.5"
    )
    assert result.exit_code == 0, result.output
    assert "SMPP pool (2 binds)" in result.stdout
    assert "120 messages over 2 binds (MCON2)" in result.stdout
    assert "All numbers add up." in result.stdout


def test_bulk_then_listen_gets_the_bulk_jobs_receipts(
    sim_thread: SimThread, run: Callable[..., Result], tmp_path: Path
) -> None:
    """bulk binds as a transmitter, so the receipts wait for a receiving bind: listen's."""
    sim = sim_thread.sim
    out = tmp_path / "r.csv"
    numbers = "".join(f"7993{i:07d}\n" for i in range(5))
    sent = run("bulk", "-", "--out", str(out), "--text", "Hi", env=sim_thread.env, input=numbers)
    assert sent.exit_code == 0, sent.output
    ids = {line.split(",")[3] for line in out.read_text().splitlines()[1:] if ",sent," in line}
    assert len(ids) == 5
    sim_thread.portal.start_task_soon(_when_bound_then, sim, lambda: sim.advance(60))
    result = run("listen", "--count", "5", "--for", "20", "--json", env=sim_thread.env)
    assert result.exit_code == 0, result.output
    receipts = [json.loads(line) for line in result.stdout.splitlines()]
    assert {r["message_id"] for r in receipts} == ids
    assert {r["type"] for r in receipts} == {"receipt"}
    assert sim_thread.call(lambda: sim.smpp.counters.receipts_acked) == 5  # type: ignore[attr-defined]
