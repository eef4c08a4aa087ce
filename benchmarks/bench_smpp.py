"""SMPP throughput benchmark: :class:`smscenter.SMPPPool` side by side with the peer clients.

Every client submits the same messages (one distinct recipient each) to the same fast SMSC,
:mod:`benchmarks._responder` (a minimal batched responder in its own process), and is timed
from "all binds up" to "every submit_sm_resp (and receipt) in". Each client run is a fresh
subprocess (:mod:`benchmarks._peers`), so its CPU time and peak RSS are its own.

Two kinds of text, both in the default run:

* **identical**: one 28-character text for every message (a mailing). Cells: submit_sm ->
  submit_sm_resp for 1 and 4 binds at windows 1, 10, 100 and 1000 (window per bind), and with a
  delivery receipt per message (1 bind, windows 100 and 1000); every client;
* **distinct**: ``f"Your code is {n:06d}"``, a fresh number per message (one-time codes: no text
  is seen twice). Cells: 1 bind at windows 100 and 1000, and with a receipt per message at
  window 100; smscenter (asyncio, uvloop) and smpp34 + uvloop.

Clients:

* smscenter ``SMPPPool.send_many`` (client rate limit off) on the default asyncio loop and on
  uvloop;
* rawpy: a bare batched client with no features, the ceiling of pure Python here. Together with
  the responder's own CPU time (printed as "server busy": its CPU seconds over the run's wall
  time) it shows the server is not what limits the other rows;
* smpp34 (Rust/tokio core) on uvloop, smpplib with TCP_NODELAY, aiosmpplib with a plain-dict
  correlator: each with its best settings, the harness keeping the window
  for the libraries that have none.

Then ``send_many`` of 1,000,000 lazily generated distinct messages through one pool (peak RSS),
and the targets of issue 10, PASS/FAIL each. Run from the repository root::

    python -m benchmarks.bench_smpp                  # full run, median of 3, several minutes
    python -m benchmarks.bench_smpp --quick          # small counts, one run per cell
    python -m benchmarks.bench_smpp --texts distinct # only the distinct-text cells
    python -m benchmarks.bench_smpp --count 50000 --repeat 3 --million 1000000
    python -m benchmarks.bench_smpp --clients smscenter,smpp34 --json results.json
    python -m benchmarks.bench_smpp --breakdown      # per-stage cost of one message, no I/O
    python -m benchmarks.bench_smpp --render results.json   # markdown tables of a saved run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from typing import Any

from benchmarks._breakdown import breakdown
from benchmarks._figures import (
    CLIENT_LABELS,
    TARGETS_TITLE,
    Cell,
    check_targets,
    render_markdown,
)
from benchmarks._machine import MachineWatch
from benchmarks._responder import Responder, _child_env

#: (key, driver, loop, label)
CLIENT_ROWS: list[tuple[str, str, str, str]] = [
    (key, driver, loop, CLIENT_LABELS[key])
    for key, driver, loop in (
        ("smscenter", "smscenter", "asyncio"),
        ("smscenter-uvloop", "smscenter", "uvloop"),
        ("rawpy", "rawpy", "asyncio"),
        ("smpp34", "smpp34", "uvloop"),
        ("smpplib", "smpplib", "asyncio"),
        ("aiosmpplib", "aiosmpplib", "asyncio"),
    )
]
OURS = ("smscenter", "smscenter-uvloop")
PEERS = ("smpp34", "smpplib", "aiosmpplib")
# The clients of the distinct-text cells: the targets' pair, and smscenter on uvloop.
DISTINCT_CLIENTS = ("smscenter", "smscenter-uvloop", "smpp34")


def _has_uvloop() -> bool:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


def run_client(
    responder: Responder,
    driver: str,
    loop: str,
    *,
    binds: int,
    window: int,
    count: int,
    vary_text: bool = False,
) -> dict[str, Any]:
    """Run one client in a subprocess against ``responder``; add the responder's CPU share."""
    if loop == "uvloop" and not _has_uvloop():
        return {"ok": False, "reason": "uvloop is not installed"}
    cfg = {
        "client": driver,
        "loop": loop,
        "port": responder.port,
        "binds": binds,
        "window": window,
        "count": count,
        "receipts": responder.receipts,
        "vary_text": vary_text,
    }
    before = responder.stats()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks._peers", json.dumps(cfg)],
            capture_output=True,
            text=True,
            timeout=900,
            env=_child_env(),
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        )
    except subprocess.TimeoutExpired:
        return {"ok": False, "reason": "timed out after 900 s"}
    after = responder.stats()
    lines = proc.stdout.strip().splitlines()
    if not lines:
        tail = proc.stderr.strip().splitlines()[-1:] or [f"exit code {proc.returncode}"]
        return {"ok": False, "reason": f"client crashed: {tail[0]}"}
    result: dict[str, Any] = json.loads(lines[-1])
    if result.get("ok"):
        if result["messages"] != count or (responder.receipts and result["receipts"] != count):
            return {
                "ok": False,
                "reason": f"counted {result['messages']} responses and {result['receipts']} "
                f"receipts of {count}",
            }
        result["rate"] = count / result["elapsed"]
        result["cpu_us"] = result["cpu"] / count * 1e6
        result["server_busy"] = (after["cpu"] - before["cpu"]) / result["elapsed"]
    return result


def median_run(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median rate (a failed run, if any failed); the other benchmarks use it
    too."""
    for result in results:
        if not result.get("ok"):
            return result
    ordered = sorted(results, key=lambda r: r["rate"])
    chosen = dict(ordered[len(ordered) // 2])
    chosen["runs"] = len(results)
    chosen["rate_spread"] = (ordered[0]["rate"], ordered[-1]["rate"])
    return chosen


def _cells(texts: set[str]) -> list[Cell]:
    """Every cell of the run, for the kinds of text asked for."""
    cells: list[Cell] = []
    if "identical" in texts:
        cells += [
            (binds, window, False, False) for binds in (1, 4) for window in (1, 10, 100, 1000)
        ]
        cells += [(1, 100, True, False), (1, 1000, True, False)]
    if "distinct" in texts:
        cells += [(1, 100, False, True), (1, 1000, False, True), (1, 100, True, True)]
    return cells


def _parse_cells(spec: str) -> list[Cell]:
    """``--cells``: ``binds:window[:flags]``, flags ``r`` (receipts) and ``d`` (distinct)."""
    chosen: list[Cell] = []
    for item in spec.split(","):
        parts = item.strip().split(":")
        flags = parts[2] if len(parts) > 2 else ""
        chosen.append((int(parts[0]), int(parts[1]), "r" in flags, "d" in flags))
    return chosen


def _count_for(window: int, count: int) -> int:
    # Window 1 is latency-bound (one round trip per message): a quarter of the messages give
    # the same figure in a quarter of the time.
    return max(200, count // 4) if window == 1 else count


def _fmt_rate(result: dict[str, Any]) -> str:
    return f"{result['rate']:>10,.0f}" if result.get("ok") else f"{'-':>10}"


def _cell_title(binds: int, window: int, receipts: bool, distinct: bool) -> str:
    what = "submit_sm -> resp + receipt" if receipts else "submit_sm -> resp"
    texts = "distinct texts" if distinct else "identical texts"
    return f"{what}, {texts}: {binds} bind(s), window {window}"


def print_cell(cell: Cell, count: int, rows: dict[str, dict[str, Any]]) -> None:
    """One table: every client's figures and smscenter's (asyncio) ratio against each."""
    print(f"\n== {_cell_title(*cell)}, {count:,} messages ==")
    print(
        f"{'client':<40}{'msg/s':>10}{'CPU us/msg':>12}{'peak RSS MB':>13}"
        f"{'server busy':>13}   smscenter (asyncio) vs it"
    )
    ours = rows.get("smscenter")
    base = ours["rate"] if ours is not None and ours.get("ok") else None
    for key, _, _, label in CLIENT_ROWS:
        result = rows.get(key)
        if result is None:
            continue
        if not result.get("ok"):
            print(f"{label:<40}{'n/a':>10}   ({result.get('reason', 'failed')})")
            continue
        ratio = ""
        if base is not None and key not in OURS:
            ratio = f"x{base / result['rate']:.2f}"
        print(
            f"{label:<40}{_fmt_rate(result)}{result['cpu_us']:>12.1f}"
            f"{result['maxrss_mb']:>13.1f}{result['server_busy'] * 100:>12.0f}%   {ratio}"
        )


def print_breakdown(stages: list[tuple[str, float | str, str]]) -> None:
    """The ``--breakdown`` lines: stage, microseconds per message, where the code lives."""
    for stage, cost, where in stages:
        shown = f"{cost:8.2f} us" if isinstance(cost, float) else cost
        print(f"  {stage:<62}{shown}  {where}")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns 0 (the PASS/FAIL lines are informational)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--count", type=int, help="messages per cell (20,000)")
    parser.add_argument(
        "--million", type=int, help="messages of the send_many memory run (1,000,000)"
    )
    parser.add_argument("--repeat", type=int, help="runs per cell, median taken (3)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="2,000 per cell, one run, 100,000 send_many (unless given)",
    )
    parser.add_argument(
        "--clients",
        default=",".join(key for key, *_ in CLIENT_ROWS),
        help="comma-separated subset of: " + ", ".join(key for key, *_ in CLIENT_ROWS),
    )
    parser.add_argument(
        "--texts",
        default="identical,distinct",
        help="which cells: identical (one text for all), distinct (a new text per message)",
    )
    parser.add_argument(
        "--vary-text", action="store_true", help="only the distinct-text cells (--texts distinct)"
    )
    parser.add_argument(
        "--cells",
        default="",
        help="only these, binds:window[:flags], r = receipts, d = distinct, e.g. '1:100,1:100:rd'",
    )
    parser.add_argument("--no-million", action="store_true", help="skip the send_many run")
    parser.add_argument("--json", help="also write all figures to this file")
    parser.add_argument(
        "--breakdown", action="store_true", help="only the per-stage costs of one message"
    )
    parser.add_argument("--render", help="print the markdown tables of a --json file, no run")
    args = parser.parse_args(argv)
    if args.render:
        with open(args.render, encoding="utf-8") as fh:
            print(render_markdown(json.load(fh)), end="")
        return 0
    if args.breakdown:
        print("Per-message cost of each stage, in isolation (best of 7 x 2,000 messages):")
        print_breakdown(breakdown())
        return 0
    # --quick changes the defaults, not what is given explicitly.
    quick = (2_000, 100_000, 1) if args.quick else (20_000, 1_000_000, 3)
    args.count = quick[0] if args.count is None else args.count
    args.million = quick[1] if args.million is None else args.million
    args.repeat = quick[2] if args.repeat is None else args.repeat
    wanted = {c.strip() for c in args.clients.split(",") if c.strip()}
    unknown = wanted - {key for key, *_ in CLIENT_ROWS}
    if unknown:
        parser.error(f"unknown clients: {', '.join(sorted(unknown))}")
    texts = {"distinct"} if args.vary_text else {t.strip() for t in args.texts.split(",")}
    if not texts or texts - {"identical", "distinct"}:
        parser.error("--texts takes identical, distinct or both")
    cells = _parse_cells(args.cells) if args.cells else _cells(texts)

    print(
        f"SMPP throughput: Python {platform.python_version()} on {platform.machine()} "
        f"{sys.platform}, {os.cpu_count()} CPUs; clients and responder share them"
    )
    print(
        "texts: identical = one 28-character text for all; distinct = "
        "f'Your code is {n:06d}', a fresh number per message"
    )
    print(
        f"{args.count:,} messages per cell (window 1: a quarter), {args.repeat} interleaved "
        "run(s) per cell (median); window is per bind; 'server busy' = responder CPU / run "
        "wall time"
    )
    watch = MachineWatch()
    print(watch.before_line())
    table: dict[Cell, dict[str, dict[str, Any]]] = {}
    started = time.perf_counter()
    for receipts in (False, True):
        mine = [c for c in cells if c[2] == receipts]
        if not mine:
            continue
        with Responder(receipts=receipts) as responder:
            for cell in mine:
                binds, window, _, distinct = cell
                count = _count_for(window, args.count)
                keys = [
                    (key, driver, loop)
                    for key, driver, loop, _label in CLIENT_ROWS
                    if key in wanted and (not distinct or key in DISTINCT_CLIENTS)
                ]
                # Rounds interleave the clients, so a noisy moment on a shared machine hits
                # every client alike rather than one client's runs in a row.
                runs: dict[str, list[dict[str, Any]]] = {}
                for _ in range(max(1, args.repeat)):
                    for key, driver, loop in keys:
                        runs.setdefault(key, []).append(
                            run_client(
                                responder,
                                driver,
                                loop,
                                binds=binds,
                                window=window,
                                count=count,
                                vary_text=distinct,
                            )
                        )
                rows = {key: median_run(results) for key, results in runs.items()}
                table[cell] = rows
                print_cell(cell, count, rows)

    million: dict[str, Any] | None = None
    if not args.no_million and "smscenter" in wanted:
        with Responder(receipts=False) as responder:
            million = run_client(
                responder,
                "smscenter",
                "asyncio",
                binds=1,
                window=1000,
                count=args.million,
                vary_text=True,
            )
        print(
            f"\n== send_many of {args.million:,} lazily generated distinct messages, 1 bind, "
            "w1000 =="
        )
        if million.get("ok"):
            print(
                f"smscenter (asyncio): {million['rate']:,.0f} msg/s, "
                f"{million['cpu_us']:.1f} us CPU/msg, peak RSS {million['maxrss_mb']:.1f} MB"
            )
        else:
            print(f"smscenter (asyncio): failed: {million.get('reason')}")

    print(f"\n== {TARGETS_TITLE} ==")
    checks = check_targets(table, million)
    for name, passed, detail in checks:
        verdict = "n/a " if passed is None else ("PASS" if passed else "FAIL")
        print(f"{verdict}  {name}: {detail}")
    stages: list[tuple[str, float | str, str]] = []
    if wanted & set(OURS):
        stages = breakdown(2000 if args.count >= 2000 else 200)
        print("\n== where one message's CPU goes (stages in isolation, no I/O) ==")
        print_breakdown(stages)
    rawpy = [rows["rawpy"]["rate"] for rows in table.values() if rows.get("rawpy", {}).get("ok")]
    busy = [
        rows[k]["server_busy"] for rows in table.values() for k in OURS if rows.get(k, {}).get("ok")
    ]
    if rawpy or busy:
        print("\nserver check: ", end="")
        parts = []
        if rawpy:
            parts.append(f"rawpy reached up to {max(rawpy):,.0f} msg/s against the same responder")
        if busy:
            parts.append(f"the responder was at most {max(busy) * 100:.0f}% busy in smscenter runs")
        print("; ".join(parts))
    watch.finish()
    print(watch.after_line())
    print(f"(total {time.perf_counter() - started:.0f} s)")
    if args.json:
        out = {
            "machine": {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
                **watch.figures(),
            },
            "settings": {
                "count": args.count,
                "repeat": args.repeat,
                "texts": sorted(texts),
            },
            "cells": [
                {"binds": b, "window": w, "receipts": r, "distinct": d, "clients": rows}
                for (b, w, r, d), rows in table.items()
            ],
            "million": million,
            "targets": [{"target": n, "passed": p, "detail": d} for n, p, d in checks],
            "breakdown_us": {label: cost for label, cost, _ in stages},
            "breakdown_where": {label: where for label, _, where in stages},
        }
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=1, default=str)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
