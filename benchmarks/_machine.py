"""What the machine was doing around a benchmark, printed with its figures.

On a shared machine (a cloud VM) the same code runs at very different speeds from one minute to
the next: another guest busy on the same physical core slows every instruction, and the load
average does not show it. Two readings make a slow minute visible:

- a **speed probe**: a fixed pure-Python workload (none of smscenter's code, so a change to the
  package cannot move it), timed before and after the runs. Its milliseconds compare minutes
  and machines: more milliseconds, a slower minute for every client alike;
- **CPU steal** (Linux): the share of the machine's CPU time the hypervisor gave to other
  guests while the runs went on (``/proc/stat``).
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

__all__ = ("MachineWatch", "cpu_ticks", "speed_probe", "steal_share")

_PROC_STAT = "/proc/stat"


class _Item:
    __slots__ = ("key", "value")

    def __init__(self, key: str, value: int) -> None:
        self.key = key
        self.value = value


def _workload() -> int:
    # Object creation, attribute and dict access, string formatting and slicing: what a
    # Python network client spends its time on.
    table: dict[str, _Item] = {}
    total = 0
    for i in range(20_000):
        key = f"id:{i:07d}"
        table[key] = _Item(key, i)
        item = table.get(key)
        if item is not None:
            total += item.value + len(item.key[3:])
    return total


def speed_probe(rounds: int = 5) -> float:
    """Milliseconds the fixed workload takes on this machine now (the median of ``rounds``)."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        _workload()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def cpu_ticks() -> list[int] | None:
    """The machine's CPU time counters (user, nice, system, idle, iowait, irq, softirq, steal),
    or None where ``/proc/stat`` is not there."""
    try:
        with open(_PROC_STAT, encoding="ascii") as fh:
            fields = fh.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu" or len(fields) < 9:
        return None
    return [int(v) for v in fields[1:9]]


def steal_share(before: list[int] | None, after: list[int] | None) -> float | None:
    """The share of CPU time stolen by the hypervisor between two :func:`cpu_ticks`."""
    if before is None or after is None:
        return None
    spent = [b - a for a, b in zip(before, after, strict=True)]
    total = sum(spent)
    return spent[7] / total if total > 0 else None


def _load() -> float | None:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


class MachineWatch:
    """Readings of the machine before and after a benchmark's runs.

    ::

        watch = MachineWatch()  # reads the "before" figures
        print(watch.before_line())
        ...  # the runs
        watch.finish()
        print(watch.after_line())
    """

    def __init__(self) -> None:
        self.load_before = _load()
        self.probe_before = speed_probe()
        self._ticks = cpu_ticks()
        self.load_after: float | None = None
        self.probe_after: float | None = None
        self.steal: float | None = None

    def finish(self) -> None:
        """Read the "after" figures (the steal counts from the end of the first probe to the
        end of the second)."""
        self.load_after = _load()
        self.probe_after = speed_probe()
        self.steal = steal_share(self._ticks, cpu_ticks())

    def before_line(self) -> str:
        load = "" if self.load_before is None else f"load average {self.load_before:.2f}; "
        return (
            f"machine before: {load}speed probe {self.probe_before:.1f} ms (a fixed Python "
            "workload: more ms, a slower minute; other work skews the figures)"
        )

    def after_line(self) -> str:
        parts = []
        if self.load_after is not None:
            parts.append(f"load average {self.load_after:.2f}")
        if self.probe_after is not None:
            parts.append(f"speed probe {self.probe_after:.1f} ms")
        if self.steal is not None:
            parts.append(f"CPU steal {self.steal:.1%} during the runs")
        return "machine after: " + "; ".join(parts)

    def figures(self) -> dict[str, Any]:
        """The readings, for a benchmark's JSON."""
        return {
            "load_average": [self.load_before, self.load_after],
            "speed_probe_ms": [self.probe_before, self.probe_after],
            "cpu_steal": self.steal,
        }
