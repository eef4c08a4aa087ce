"""The fleet benchmark (issue #12) at a tiny size, so it cannot rot: capped phases on the
simulator, uncapped ones on the SMPP responder (its own process), a redis-server of its own,
real worker processes. Figures are checked for being there and consistent, never for speed."""

from __future__ import annotations

import json
import os
import socket
import struct
from pathlib import Path
from typing import Any

import pytest

from benchmarks import bench_fleet
from benchmarks._responder import Responder
from smscenter.smpp.pdu import BindTransceiver, SubmitSm, Unbind


def _read_pdus(sock: socket.socket, count: int) -> int:
    """Read until ``count`` whole PDUs arrived; returns how many."""
    data = b""
    seen = 0
    while seen < count:
        chunk = sock.recv(65536)
        assert chunk, "the responder closed the connection"
        data += chunk
        while len(data) >= 4 and len(data) >= struct.unpack_from(">I", data)[0]:
            data = data[struct.unpack_from(">I", data)[0] :]
            seen += 1
    return seen


def _bind(sock: socket.socket, system_id: str) -> None:
    sock.sendall(BindTransceiver(sequence_number=1, system_id=system_id, password="pw").encode())
    _read_pdus(sock, 1)


def _submits(sock: socket.socket, first: int, count: int) -> None:
    sock.sendall(
        b"".join(
            SubmitSm(
                sequence_number=n, destination_addr="79991234567", short_message=b"hi"
            ).encode()
            for n in range(first, first + count)
        )
    )
    _read_pdus(sock, count)


def test_the_responder_counts_binds_at_once_and_times_submits_since_a_reset() -> None:
    with Responder(track=True, uvloop=False) as responder:
        one = socket.create_connection((responder.host, responder.port), timeout=10)
        two = socket.create_connection((responder.host, responder.port), timeout=10)
        with one, two:
            # Any credentials, MCON suffixes too (the fleet's binds declare MCONn).
            _bind(one, "fleet:MCON1")
            _bind(two, "fleet:MCON2")
            _submits(one, 2, 30)  # before the reset: not in the tracked figures
            responder.reset()
            _submits(one, 100, 40)
            _submits(two, 200, 25)
            stats = responder.stats()
            two.sendall(Unbind(sequence_number=300).encode())
            _read_pdus(two, 1)
            with pytest.raises(OSError):  # the responder closes after unbind_resp
                for _ in range(100):
                    if not two.recv(1):
                        raise OSError("closed")
            # A reset starts the most-at-once from the binds up now.
            responder.reset()
            after = responder.stats()
    assert stats["binds"] == 2 and stats["bound"] == 2 and stats["max_bound"] == 2
    assert stats["submits"] == 95
    track = stats["track"]
    assert track["submits"] == 65 and track["peak"] == 65 and track["span"] >= 0
    assert after["bound"] == 1 and after["max_bound"] == 1
    assert after["track"] == {"submits": 0, "span": 0.0, "peak": 0}


def test_the_responder_tracks_nothing_unless_asked() -> None:
    with Responder(uvloop=False) as responder:
        assert "track" not in responder.stats()


def _row(workers: int, rate: float, **changes: Any) -> dict[str, Any]:
    row = {
        "cap": None,
        "fleet": True,
        "workers": workers,
        "rate": rate,
        "messages": 40_000,
        "smsc": "responder",
        "max_binds": workers,
        "rounds": [rate],
        "round_trips_per_msg": 0.01,
        "worker_cpu_us": 30.0,
        "wall": 40_000 / rate,
        "cpu_pct": {"workers": [45.0] * workers, "smsc": 9.0, "redis": 4.0},
    }
    return {**row, **changes}


def test_the_4_over_1_verdict_needs_the_same_messages_smsc_and_binds() -> None:
    name = "no cap: 4 workers >= 1.5x one worker"

    def verdict(four: dict[str, Any]) -> tuple[bool | None, str]:
        found = [v for v in bench_fleet.check_targets([_row(1, 10_000.0), four]) if v[0] == name]
        return found[0][1], found[0][2]

    assert verdict(_row(4, 16_000.0)) == (
        True,
        "16000/s vs 10000/s = 1.60x; 40000 vs 40000 msgs to the responder vs the responder",
    )
    assert verdict(_row(4, 14_000.0))[0] is False
    # Faster, but not comparable: fewer messages, another SMSC, or binds shared.
    for unfair in (
        _row(4, 20_000.0, messages=4_000),
        _row(4, 20_000.0, smsc="simulator"),
        _row(4, 20_000.0, max_binds=2),
    ):
        passed, figures = verdict(unfair)
        assert passed is False and "NOT COMPARABLE" in figures


def test_the_output_says_what_share_of_the_cores_the_smsc_and_redis_used() -> None:
    rows = [_row(1, 10_000.0), _row(4, 16_000.0)]
    found = [v for v in bench_fleet.check_targets(rows) if v[0] == bench_fleet.SIDE_TITLE]
    cores = os.cpu_count() or 1
    assert found == [
        (
            bench_fleet.SIDE_TITLE,
            True,
            f"of the {cores} cores, the responder used {9 / cores:.1f}% and Redis "
            f"{4 / cores:.1f}% (9% and 4% of one core), the 4 workers {48 / cores:.0f}%",
        )
    ]
    # A responder at most of a core could be what limits the workers: not a pass.
    busy = _row(4, 16_000.0, cpu_pct={"workers": [45.0] * 4, "smsc": 80.0, "redis": 4.0})
    found = [
        v for v in bench_fleet.check_targets([rows[0], busy]) if v[0] == bench_fleet.SIDE_TITLE
    ]
    assert found[0][1] is False


def test_a_row_of_several_rounds_is_the_median_round() -> None:
    rows = [_row(4, rate, wall=n) for n, rate in enumerate([30_000.0, 10_000.0, 20_000.0])]
    median = bench_fleet._median_row(rows)
    assert median["rate"] == 20_000.0 and median["wall"] == 2
    assert median["rounds"] == [30_000.0, 10_000.0, 20_000.0]


def test_fleet_benchmark_runs_tiny_and_prints_its_table_and_targets(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from benchmarks._redis import find_redis_server

    if find_redis_server() is None:
        pytest.skip("no redis-server")
    out_file = tmp_path / "fleet.json"
    args = ["--quick", "--caps", "200", "--seconds", "0.5", "--total", "200", "--workers", "1"]
    bench_fleet.main([*args, "--capped-workers", "2", "--json", str(out_file)])
    out = capsys.readouterr().out
    assert f"| {bench_fleet.TARGETS_TITLE} | verdict | figures |" in out
    figures = json.loads(out_file.read_text())
    rows = figures["rows"]
    # The capped phase on the simulator (it counts the account rate and 0x58), the uncapped
    # ones on the responder (a few us of CPU per message: the workers are what is measured).
    assert [(r["label"], r["smsc"], r["workers"], r["fleet"]) for r in rows] == [
        ("cap 200/s", "simulator", 2, True),
        ("no cap", "responder", 1, False),
        ("no cap", "responder", 1, True),
    ]
    for row in rows:
        # Every message reached the SMSC once, over one bind per worker.
        assert row["messages"] == row["smsc_accepted"] == (100 if row["cap"] else 200)
        assert row["max_binds"] == row["workers"]
        # (200 messages may reach the responder in one read: no span to take a rate over.)
        assert row["peak"] > 0 and (row["rate"] > 0) == (row["seconds"] > 0)
        assert row["worker_cpu_us"] > 0 and row["smsc_cpu_us"] > 0
        assert len(row["cpu_pct"]["workers"]) == row["workers"]
        assert row["rounds"] == [row["rate"]]  # --quick: one round
    # The fleet counts its Redis round trips (rate grants, leases); a grant serves many
    # messages, so there are fewer than one per message, but never none.
    assert all(0 < r["round_trips_per_msg"] < 10 for r in rows if r["fleet"])
    assert rows[1]["round_trips_per_msg"] is None
    verdicts = [t["passed"] for t in figures["targets"]]
    # cap; 4 workers vs 1 (not run: n/a); the coordination cost (reported).
    assert len(verdicts) == 3 and verdicts[1] is None and verdicts[2] is True
