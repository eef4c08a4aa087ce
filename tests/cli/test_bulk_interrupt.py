"""Ctrl-C on an SMPP ``smscenter bulk``: the CLI runs as a real process against the simulator,
gets SIGINT once or twice, and is run again; the simulator's accepted messages say what went
out.

What must hold: after one Ctrl-C only what was in flight still goes out (the pool's queue is
given back at once); after two, a row never written is recorded as not sent and the rerun sends
it, a row in flight is of unknown outcome and is not sent twice; the summary adds up and the
exit status is 130, not success.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.cli.conftest import SimThread

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")


def _final(path: Path) -> dict[int, dict[str, str]]:
    rows: dict[int, dict[str, str]] = {}
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    for line in lines[1:]:
        cells = line.split(",", len(header) - 1)
        row = dict(zip(header, cells, strict=True))
        rows[int(row["row"])] = row
    return rows


def _summary(stdout: str) -> dict[str, int]:
    """The summary table's integer rows, by label."""
    numbers = {}
    for line in stdout.splitlines():
        match = re.match(r"^\s*([a-z][a-z ()]+?)\s{2,}(\d+)\s*$", line)
        if match:
            numbers[match.group(1).strip()] = int(match.group(2))
    return numbers


def _args(source: Path, out: Path, rate: int) -> list[str]:
    return [
        sys.executable, "-m", "smscenter", "bulk", str(source), "--out", str(out),
        "--via", "smpp", "--text", "Sale today", "--rate", str(rate), "--binds", "2",
    ]  # fmt: skip


def _accepted(sim_thread: SimThread) -> list[str]:
    return sim_thread.call(lambda: [m.phone for m in sim_thread.sim.sent])  # type: ignore[no-any-return]


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_for_acknowledged(out: Path, count: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if out.exists() and out.read_text().count(",sent,") >= count:
            return
        time.sleep(0.01)
    raise AssertionError("the bulk job did not get going")


def _finish(child: subprocess.Popen[str]) -> tuple[str, str]:
    try:
        return child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()


def _check_adds_up(summary: dict[str, int], to_send: int) -> None:
    parts = ("acknowledged", "failed", "unknown outcome", "invalid rows", "not sent (stopped)")
    assert summary["to send"] == to_send
    assert sum(summary[p] for p in parts) + summary.get("pending (no answer recorded)", 0) == (
        to_send
    ), summary


def test_one_ctrl_c_stops_taking_messages_at_once(sim_thread: SimThread, tmp_path: Path) -> None:
    sim = sim_thread.sim
    sim.behaviour.smpp.throughput = None  # type: ignore[attr-defined]
    phones = [f"7995{i:07d}" for i in range(1500)]
    source = tmp_path / "list.csv"
    source.write_text("".join(f"{p}\n" for p in phones))
    out = tmp_path / "list.results.csv"
    env = {**os.environ, **sim_thread.env}
    # At 100/s the pool takes the whole list into its queue up front (its read-ahead).
    child = _start(_args(source, out, 100), env)
    _wait_for_acknowledged(out, 60)
    child.send_signal(signal.SIGINT)
    at_signal = len(_accepted(sim_thread))
    signalled = time.monotonic()
    stdout, stderr = _finish(child)
    took = time.monotonic() - signalled
    assert child.returncode == 130, stderr
    assert "finishing the messages in flight" in stderr
    accepted = _accepted(sim_thread)
    # Only what was in flight went out: at most about a second's worth at 100/s (the signal
    # takes a moment to arrive on a loaded machine), not the rest of the queue.
    assert len(accepted) - at_signal <= 100, (at_signal, len(accepted))
    assert took < 15

    rows = _final(out)
    outcomes = Counter(r["outcome"] for r in rows.values())
    assert set(outcomes) <= {"sent", "failed"}, outcomes  # nothing pending or unknown
    sent_phones = [r["phone"] for r in rows.values() if r["outcome"] == "sent"]
    assert Counter(sent_phones) == Counter(accepted)
    for row in rows.values():
        if row["outcome"] == "failed":
            assert row["error"].startswith("NotSent:") and row["phone"] not in accepted
    summary = _summary(stdout)
    _check_adds_up(summary, 1500)
    assert summary["acknowledged"] == len(accepted)
    assert summary["not sent (stopped)"] == 1500 - len(accepted)

    rerun = subprocess.run(
        _args(source, out, 1000), env=env, capture_output=True, text=True, timeout=120
    )
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(accepted)} already sent" in rerun.stderr
    assert Counter(_accepted(sim_thread)) == Counter(phones)  # each exactly once
    assert {r["outcome"] for r in _final(out).values()} == {"sent"}
    _check_adds_up(_summary(rerun.stdout), 1500 - len(accepted))


@pytest.mark.parametrize("store", [False, True], ids=["result-file", "store"])
def test_two_ctrl_c_abort_without_losing_unwritten_rows(
    sim_thread: SimThread, tmp_path: Path, store: bool
) -> None:
    sim = sim_thread.sim
    smpp = sim.behaviour.smpp  # type: ignore[attr-defined]
    smpp.throughput = None
    smpp.response_delay = 0.5  # answers come late: many messages are in flight at the abort
    phones = [f"7994{i:07d}" for i in range(1000)]
    source = tmp_path / "list.csv"
    source.write_text("".join(f"{p}\n" for p in phones))
    out = tmp_path / "list.results.csv"
    env = {**os.environ, **sim_thread.env}
    extra = [] if store else ["--no-store"]
    child = _start(_args(source, out, 100) + extra, env)
    _wait_for_acknowledged(out, 40)
    child.send_signal(signal.SIGINT)
    time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    stdout, stderr = _finish(child)
    assert child.returncode == 130, stderr

    accepted = set(_accepted(sim_thread))
    rows = _final(out)
    by_outcome: dict[str, set[str]] = {}
    for row in rows.values():
        by_outcome.setdefault(row["outcome"], set()).add(row["phone"])
    assert "pending" not in by_outcome, by_outcome.keys()
    assert by_outcome["sent"] <= accepted
    # A row recorded as not sent never reached the SMSC (the rerun sends it) ...
    assert not by_outcome.get("failed", set()) & accepted
    # ... and whatever the SMSC accepted is recorded as sent or of unknown outcome.
    assert accepted <= by_outcome["sent"] | by_outcome.get("unknown", set())
    _check_adds_up(_summary(stdout), 1000)

    smpp.response_delay = 0.0
    rerun = subprocess.run(
        _args(source, out, 1000) + extra, env=env, capture_output=True, text=True, timeout=120
    )
    unknown = by_outcome.get("unknown", set())
    # Rows of unknown outcome are skipped (they may have gone out), and the status says so.
    assert rerun.returncode == (3 if unknown else 0), rerun.stderr
    counts = Counter(_accepted(sim_thread))
    assert max(counts.values()) == 1  # nothing sent twice
    # No row lost: every row not of unknown outcome went out exactly once.
    assert {p for p in phones if p not in unknown} <= set(counts)
    if not store:
        # The unknown ones are those a bind had written: the SMSC has them.
        assert unknown <= accepted
    else:
        # The store is more careful: what the aborted run had claimed and could not settle is
        # unknown too (it may have gone out), and the rerun did not send it either.
        assert not unknown & (set(counts) - accepted)
