"""The store benchmark at tiny sizes, so it cannot rot: both modes run to completion (every
answer and every receipt in, the receipts recorded in the store), the tables and the target
verdicts print. Numbers are checked for being numbers, never for speed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import bench_store


def test_store_benchmark_runs_both_modes_and_the_rss_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_file = tmp_path / "store.json"
    args = ["--quick", "--count", "300", "--repeat", "2", "--million", "600", "--window", "50"]
    assert bench_store.main([*args, "--json", str(out_file)]) == 0
    out = capsys.readouterr().out
    assert "== submit_sm -> resp + receipt, 300 messages ==" in out
    assert "store off" in out and "SQLiteStore on" in out and "store on / store off:" in out
    assert f"== {bench_store.TARGETS_TITLE} ==" in out
    assert "machine before: " in out and "machine after: " in out
    figures = json.loads(out_file.read_text())
    assert len(figures["machine"]["speed_probe_ms"]) == 2
    assert all(ms > 0 for ms in figures["machine"]["speed_probe_ms"])
    assert figures["settings"]["count"] == 300 and figures["settings"]["repeat"] == 2
    for mode in ("store_off", "store_on"):
        runs = figures["runs"][mode]
        assert len(runs) == 2 and all(run["ok"] for run in runs), runs
        assert all(run["messages"] == 300 and run["receipts"] == 300 for run in runs)
        assert figures[mode]["rate"] > 0 and figures[mode]["maxrss_mb"] > 0
    assert all(run["store_mb"] > 0 for run in figures["runs"]["store_on"])
    million = figures["million"]
    assert million["ok"] and million["messages"] == 600 and million["receipts"] == 600
    verdicts = [t["passed"] for t in figures["targets"]]
    assert len(verdicts) == 3 and all(v is not None for v in verdicts)  # all measured


def test_the_targets_are_issue_11s() -> None:
    def run(rate: float, rss: float, messages: int = 20_000) -> dict[str, object]:
        return {"ok": True, "rate": rate, "maxrss_mb": rss, "messages": messages}

    verdicts = bench_store.check_targets(
        run(40_000, 40), run(25_000, 45), run(24_000, 60, 1_000_000)
    )
    assert [v for _, v, _ in verdicts] == [True, True, True]
    verdicts = bench_store.check_targets(
        run(60_000, 40), run(25_000, 45), run(24_000, 120, 1_000_000)
    )
    assert [v for _, v, _ in verdicts] == [False, True, False]  # 42%; RSS grew by 75 MB
    verdicts = bench_store.check_targets(run(30_000, 40), run(19_000, 45), None)
    assert [v for _, v, _ in verdicts] == [True, False, None]
    failed = bench_store.check_targets({"ok": False}, run(19_000, 45), None)
    assert [v for _, v, _ in failed] == [None, None, None]


def test_python_m_benchmarks_runs_the_store_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.__main__ import main

    assert main(["store", "--", "--count", "100", "--repeat", "1", "--no-million"]) == 0
    out = capsys.readouterr().out
    assert "benchmarks.bench_store" in out and "100 messages" in out
    assert "peak RSS flat with the store on: not measured" in out
