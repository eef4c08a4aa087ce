"""Every Python example in docs/http.md runs (against the simulator), and the HTTP benchmark
runs end to end on a small N."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmarks import bench_http

DOC = Path(__file__).resolve().parents[2] / "docs" / "http.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


def test_the_page_has_examples() -> None:
    assert len(BLOCKS) >= 6


@pytest.mark.parametrize("source", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_example_runs(source: str, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(source, str(DOC), "exec"), {"__name__": "__main__"})
    if "print(" in source:
        assert capsys.readouterr().out.strip()


def test_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    bench_http.main(["-n", "40", "--latency", "0.02"])
    out = capsys.readouterr().out
    assert "smscenter HTTPClient" in out
    assert "official style" in out
    match = re.search(r"speed-up: ([0-9.]+)x", out)
    assert match is not None
    # 10 in flight against 1 at a time: one at a time cannot beat 40 x 20 ms of latency, so
    # anything but a broken client is ahead (the benchmark, not this test, measures how far).
    assert float(match.group(1)) > 1.0


def test_benchmark_with_the_simulator_in_a_child_process(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bench_http.main(["-n", "20", "--latency", "0.02", "--separate-process"])
    out = capsys.readouterr().out
    assert "separate process" in out
    assert re.search(r"speed-up: [0-9.]+x", out)
