"""send, cost, status and balance against the simulator, in-process through CliRunner."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

from click.testing import Result

from tests.cli.conftest import SimThread


def test_send_then_status_until_delivered(
    sim_thread: SimThread, run: Callable[..., Result]
) -> None:
    env = sim_thread.env
    sent = run("send", "+7 999 123-45-67", "Order 42 shipped", "--json", env=env)
    assert sent.exit_code == 0, sent.output
    data = json.loads(sent.stdout)
    assert data["parts"] == 1 and Decimal(data["cost"]) == Decimal("2.5")
    assert Decimal(data["balance"]) == Decimal("9997.5")
    stored = sim_thread.sim.message(data["message_id"])
    assert stored is not None and stored.text == "Order 42 shipped"

    queued = run("status", data["message_id"], "79991234567", "--json", env=env)
    assert json.loads(queued.stdout)["status"] == "queued"
    sim_thread.call(sim_thread.sim.advance, 60)
    final = run("status", data["message_id"], "79991234567", "--json", "--detail", "1", env=env)
    report = json.loads(final.stdout)
    assert report["status"] == "delivered" and report["final"] is True
    assert report["text"] == "Order 42 shipped"

    table = run("status", data["message_id"], "79991234567", env=env)
    assert table.exit_code == 0 and "delivered" in table.stdout


def test_send_table_several_recipients_and_stdin_text(
    sim_thread: SimThread, run: Callable[..., Result]
) -> None:
    result = run(
        "send", "79990000001,79990000002", "-", "--sender", "ACME", env=sim_thread.env,
        input="Hello from stdin\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "message id" in result.stdout and "5.0" in result.stdout  # 2 recipients x 2.5
    texts = {m.phone: m.text for m in sim_thread.sim.sent}
    assert texts == {"79990000001": "Hello from stdin", "79990000002": "Hello from stdin"}
    assert {m.sender for m in sim_thread.sim.sent} == {"ACME"}


def test_cost_sends_nothing(sim_thread: SimThread, run: Callable[..., Result]) -> None:
    result = run("cost", "+79991234567", "Привет! " * 12, "--json", env=sim_thread.env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"cost": "5.0", "parts": 2}
    assert sim_thread.sim.sent == []
    table = run("cost", "+79991234567", "hi", env=sim_thread.env)
    assert "2.5" in table.stdout


def test_balance(sim_thread: SimThread, run: Callable[..., Result]) -> None:
    result = run("balance", "--json", env=sim_thread.env)
    assert json.loads(result.stdout)["balance"] == "10000.0"
    table = run("balance", env=sim_thread.env)
    assert table.exit_code == 0 and "10000.0" in table.stdout


def test_api_key_and_md5_logins(sim_thread: SimThread, run: Callable[..., Result]) -> None:
    import hashlib

    base = {"SMSC_BASE_URL": sim_thread.sim.base_url}
    by_key = run("--api-key", "demo-api-key", "balance", "--json", env=base)
    assert by_key.exit_code == 0, by_key.output
    md5 = hashlib.md5(b"Zq8-pass").hexdigest()
    by_md5 = run("--login", "demo", "--password-md5", md5, "balance", "--json", env=base)
    assert by_md5.exit_code == 0, by_md5.output


def test_provider_errors_are_one_line_and_exit_1(
    sim_thread: SimThread, run: Callable[..., Result]
) -> None:
    missing = run("status", "999999", "79991234567", env=sim_thread.env)
    assert missing.exit_code == 1
    assert missing.stderr.startswith("error: NotFoundError")
    assert "Traceback" not in missing.output

    bad_phone = run("send", "12", "hi", env=sim_thread.env)
    assert bad_phone.exit_code == 1 and "not a phone number" in bad_phone.stderr

    no_creds = run("balance", env={"SMSC_BASE_URL": sim_thread.sim.base_url})
    assert no_creds.exit_code == 1 and "no credentials" in no_creds.stderr
