"""The machine readings printed with the benchmarks' figures (benchmarks/_machine.py)."""

from __future__ import annotations

import sys
import time

import pytest

from benchmarks._machine import MachineWatch, cpu_ticks, speed_probe, steal_share


def test_the_speed_probe_times_its_workload() -> None:
    start = time.perf_counter()
    probe = speed_probe(rounds=3)
    elapsed = (time.perf_counter() - start) * 1000
    assert 0 < probe <= elapsed  # the median round, in ms


def test_steal_is_the_share_of_the_steal_counter() -> None:
    before = [100, 0, 50, 800, 0, 0, 0, 50]
    after = [200, 0, 70, 900, 0, 0, 0, 80]  # 250 ticks spent, 30 of them stolen
    assert steal_share(before, after) == pytest.approx(0.12)
    assert steal_share(before, before) is None  # nothing spent
    assert steal_share(None, after) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/stat is Linux's")
def test_cpu_ticks_read_the_machine_and_only_grow() -> None:
    first = cpu_ticks()
    speed_probe(rounds=3)  # (about 0.1 s: a few clock ticks on every CPU)
    second = cpu_ticks()
    assert first is not None and second is not None and len(first) == len(second) == 8
    assert all(b >= a for a, b in zip(first, second, strict=True))
    assert sum(second) > sum(first)


def test_the_watch_prints_and_keeps_its_readings() -> None:
    watch = MachineWatch()
    assert watch.probe_before > 0
    assert watch.before_line().startswith("machine before: ")
    assert f"speed probe {watch.probe_before:.1f} ms" in watch.before_line()
    watch.finish()
    line = watch.after_line()
    assert line.startswith("machine after: ") and "speed probe" in line
    figures = watch.figures()
    assert figures["speed_probe_ms"] == [watch.probe_before, watch.probe_after]
    assert watch.probe_after is not None and watch.probe_after > 0
    if sys.platform.startswith("linux"):
        assert figures["cpu_steal"] is not None and 0 <= figures["cpu_steal"] <= 1
        assert "CPU steal" in line
