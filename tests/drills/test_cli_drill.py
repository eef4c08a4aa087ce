"""The crash drill through the command line: ``smscenter bulk`` over SMPP with its default
store, killed with SIGKILL at a random point, run again, asked to resend the unknown rows; the
simulator's accepted messages, the store, the exported result file and ``report`` must agree.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from smscenter.store import TrackedState
from tests.drills.conftest import ROOT, SEED, Drill

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL to a child process")

ROWS = 1000


def _env(drill: Drill) -> dict[str, str]:
    creds = drill.sim.smpp_credentials
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SMSC_BASE_URL": drill.sim.base_url,
        "SMSC_SMPP_HOST": drill.sim.smpp_host,
        "SMSC_SMPP_PORT": str(drill.sim.smpp_port),
        "SMSC_LOGIN": str(creds.login),
        "SMSC_PASSWORD": str(creds.password),
    }


def test_cli_bulk_killed_and_resumed_from_its_store(drill: Drill, tmp_path: Path) -> None:
    source = tmp_path / "sale.csv"
    # The client id (sale-<row>) is in the text, so the simulator's side can count by it.
    source.write_text("phone,n\n" + "".join(f"7991{n:07d},{n}\n" for n in range(1, ROWS + 1)))
    drill.store = tmp_path / "sale.csv.smsc.db"  # bulk's default store
    bulk = [
        sys.executable, "-m", "smscenter", "bulk", str(source), "--text", "Drill sale-{n}",
        "--rate", "5000", "--binds", "2", "--window", "50",
    ]  # fmt: skip
    env = _env(drill)
    child = subprocess.Popen(bulk, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)  # fmt: skip
    drill.kill_when_accepted(child, random.Random(SEED + 1).randrange(200, ROWS - 200))
    unsettled = {cid for cid, r in drill.records().items() if r.state is TrackedState.UNKNOWN}
    assert unsettled, "nothing was in flight at the kill"

    resumed = subprocess.run(bulk, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    # Rows of unknown outcome are skipped, and the exit status says the job is not done.
    assert resumed.returncode == 3, resumed.stderr
    assert f"{len(unsettled)} of unknown outcome skipped" in resumed.stderr
    accepts = drill.accepts()
    assert all(len(ids) == 1 for ids in accepts.values())  # nothing sent twice
    records = drill.records()
    assert len(records) == ROWS
    for cid, record in records.items():
        if record.state.was_accepted:
            assert accepts[cid] == [record.message_id]
        else:
            assert record.state is TrackedState.UNKNOWN and cid in unsettled
    # The result file is the store's export, one line per row.
    lines = (tmp_path / "sale.csv.results.csv").read_text().splitlines()[1:]
    outcomes = Counter(line.split(",")[2] for line in lines)
    assert len(lines) == ROWS and outcomes == Counter(
        {"sent": ROWS - len(unsettled), "unknown": len(unsettled)}
    )

    again = subprocess.run(
        [*bulk, "--resend-unknown"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0, again.stderr
    accepts = drill.accepts()
    assert set(accepts) == set(records)
    assert {cid for cid, ids in accepts.items() if len(ids) > 1} <= unsettled
    assert max(len(ids) for ids in accepts.values()) <= 2
    report = subprocess.run(
        [sys.executable, "-m", "smscenter", "report", "--store", str(drill.store), "--json"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    summary = json.loads(report.stdout)
    assert summary["total"] == ROWS and summary["accepted"] == ROWS and summary["failures"] == 0
