"""Message store benchmark: :class:`smscenter.SMPPPool` with a receipt per message, the store
off and :class:`~smscenter.store.SQLiteStore` on, side by side in one run.

Both runs send the same messages (``client_id`` ``m<n>``, a distinct recipient each, a delivery
receipt asked for) through one pool to the benchmark SMSC (:mod:`benchmarks._responder`, which
answers every ``submit_sm`` and follows it with a receipt in the provider's format), and are
timed from "all binds up" to "every submit_sm_resp and every receipt in": without a store, the
receipts read from ``pool.reports()``; with one, every receipt recorded in the store (the pool
acknowledges a receipt only once the store has it). Each run is a fresh subprocess, so its CPU
time and peak RSS are its own; the store file is new for each run (default ``synchronous=FULL``:
every commit durable). The two modes are interleaved, ``--repeat`` rounds, the median taken.

Both modes run with Python's collector as it comes, or with ``--gc tuned`` under
:func:`smscenter.fleet.tuned_gc` (the collector as ``smscenter bulk`` and ``smscenter worker``
set it for their send).

Then one run of ``--million`` messages with the store on, for its peak RSS: the store holds the
history, memory must not grow with it (compared with the side-by-side run's peak RSS).

Targets (issue 11): store on >= 50% of store off, and >= 20,000 msg/s; peak RSS flat. Run from
the repository root::

    python -m benchmarks.bench_store                  # 20,000 per run, 3 rounds, 1,000,000 RSS run
    python -m benchmarks.bench_store --quick          # 2,000 per run, 1 round, 100,000 RSS run
    python -m benchmarks.bench_store --count 50000 --window 1000 --million 1000000
    python -m benchmarks.bench_store --no-million --json store.json
    python -m benchmarks.bench_store --gc tuned       # as `smscenter bulk` runs its send
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks._machine import MachineWatch
from benchmarks._peers import count_reports
from benchmarks._responder import Responder, _child_env
from benchmarks.bench_smpp import median_run

__all__ = ("TARGETS_TITLE", "check_targets", "main", "run_child")

TARGETS_TITLE = "targets (issue 11: delivery tracking)"
#: The floors of the targets: store-on throughput as a share of store-off, and absolute.
MIN_RATIO = 0.5
MIN_RATE = 20_000.0
#: Peak RSS is flat when the million run's exceeds the side-by-side run's by less than this.
FLAT_RSS_MB = 50.0
_ROOT = Path(__file__).resolve().parent.parent
DEADLINE = 900.0


def _maxrss_mb() -> float:
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: KiB on Linux, bytes on macOS
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1e6


async def _drive(cfg: dict[str, Any]) -> dict[str, Any]:
    """One run in this process: send, wait for every answer and receipt, report figures."""
    from smscenter import Credentials, Limits, Message, SMPPPool
    from smscenter.fleet import tuned_gc
    from smscenter.store import SQLiteStore

    count: int = cfg["count"]
    store = SQLiteStore(cfg["store"]) if cfg.get("store") else None

    def messages() -> Iterator[Message]:
        # Lazily generated: send_many must not hold them all (the RSS run counts on it).
        for n in range(count):
            yield Message(
                to=f"7999{n % 10_000_000:07d}",
                text=f"Your code is {n:06d}",
                client_id=f"m{n}",
                report=True,
            )

    ok = failed = 0
    first_error = ""
    if store is not None:
        await store.open()
    try:
        pool = SMPPPool(
            "127.0.0.1",
            cfg["port"],
            Credentials(login="bench", password="bench"),
            limits=Limits(max_rate=None, connections=cfg["binds"], window=cfg["window"]),
            store=store,
        )
        # The collector as `smscenter bulk` sets it for its send (tuned_gc), or left alone.
        tuned = tuned_gc() if cfg.get("gc") == "tuned" else contextlib.nullcontext()
        async with pool:
            with tuned:
                wall, cpu = time.perf_counter(), time.process_time()
                async with asyncio.TaskGroup() as group:
                    reader = None if store else group.create_task(count_reports(pool, count))
                    async for outcome in pool.send_many(messages()):
                        if outcome.error is None:
                            ok += 1
                        else:
                            failed += 1
                            first_error = first_error or repr(outcome.error)
                receipts = 0 if reader is None else reader.result()
                if store is not None:
                    # Every receipt recorded (the pool acknowledges each only once it is).
                    for _ in range(int(DEADLINE / 0.002)):
                        if pool.statistics().reports_recorded >= ok:
                            break
                        await asyncio.sleep(0.002)
                    receipts = pool.statistics().reports_recorded
                elapsed = time.perf_counter() - wall
                used = time.process_time() - cpu
    finally:
        if store is not None:
            await store.aclose()
    if failed or receipts < count:
        return {
            "ok": False,
            "reason": f"{ok} accepted, {failed} failed, {receipts} receipts of {count}"
            + (f"; first error: {first_error}" if first_error else ""),
        }
    return {
        "ok": True,
        "messages": ok,
        "receipts": receipts,
        "elapsed": elapsed,
        "cpu": used,
        "rate": count / elapsed,
        "cpu_us": used / count * 1e6,
        "maxrss_mb": _maxrss_mb(),
    }


def run_child(
    port: int, *, store: bool, count: int, binds: int, window: int, gc: str = "default"
) -> dict[str, Any]:
    """One run in a fresh subprocess (a new store file in a temporary directory)."""
    with tempfile.TemporaryDirectory(prefix="bench-store-") as folder:
        cfg = {
            "port": port,
            "count": count,
            "binds": binds,
            "window": window,
            "gc": gc,
            "store": str(Path(folder) / "bench.smsc.db") if store else None,
        }
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "benchmarks.bench_store", "--child", json.dumps(cfg)],
                capture_output=True,
                text=True,
                timeout=DEADLINE + 60,
                env=_child_env(),
                cwd=_ROOT,
            )
        except subprocess.TimeoutExpired:
            return {"ok": False, "reason": f"timed out after {DEADLINE + 60:.0f} s"}
        lines = proc.stdout.strip().splitlines()
        if not lines:
            tail = proc.stderr.strip().splitlines()[-1:] or [f"exit code {proc.returncode}"]
            return {"ok": False, "reason": f"crashed: {tail[0]}"}
        result: dict[str, Any] = json.loads(lines[-1])
        if store and result.get("ok"):
            result["store_mb"] = (
                sum(p.stat().st_size for p in Path(folder).iterdir() if p.is_file()) / 1e6
            )
        return result


def check_targets(
    off: dict[str, Any], on: dict[str, Any], million: dict[str, Any] | None
) -> list[tuple[str, bool | None, str]]:
    """The targets, each ``(name, passed or None when not measured, detail)``."""
    checks: list[tuple[str, bool | None, str]] = []
    measured = off.get("ok") and on.get("ok")
    if measured:
        ratio = on["rate"] / off["rate"]
        checks.append(
            (
                f"store on >= {MIN_RATIO:.0%} of store off (receipt per message)",
                ratio >= MIN_RATIO,
                f"{ratio:.0%} ({on['rate']:,.0f} vs {off['rate']:,.0f} msg/s)",
            )
        )
        checks.append(
            (
                f"store on >= {MIN_RATE:,.0f} msg/s",
                on["rate"] >= MIN_RATE,
                f"{on['rate']:,.0f} msg/s",
            )
        )
    else:
        checks.append((f"store on >= {MIN_RATIO:.0%} of store off", None, "a run failed"))
        checks.append((f"store on >= {MIN_RATE:,.0f} msg/s", None, "a run failed"))
    if million is not None and million.get("ok") and on.get("ok"):
        growth = million["maxrss_mb"] - on["maxrss_mb"]
        checks.append(
            (
                f"peak RSS flat with the store on (< +{FLAT_RSS_MB:.0f} MB)",
                growth < FLAT_RSS_MB,
                f"{million['maxrss_mb']:.1f} MB for {million['messages']:,} messages vs "
                f"{on['maxrss_mb']:.1f} MB for {on['messages']:,} ({growth:+.1f} MB)",
            )
        )
    else:
        checks.append(("peak RSS flat with the store on", None, "not measured"))
    return checks


def _row(label: str, result: dict[str, Any]) -> str:
    if not result.get("ok"):
        return f"{label:<26}{'n/a':>10}   ({result.get('reason', 'failed')})"
    spread = result.get("rate_spread")
    spread_text = f"   {spread[0]:,.0f} .. {spread[1]:,.0f}" if spread else ""
    return (
        f"{label:<26}{result['rate']:>10,.0f}{result['cpu_us']:>12.1f}"
        f"{result['maxrss_mb']:>13.1f}{spread_text}"
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns 0 (the PASS/FAIL lines are informational)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--count", type=int, help="messages per run (20,000)")
    parser.add_argument("--repeat", type=int, help="interleaved rounds, median taken (3)")
    parser.add_argument("--million", type=int, help="messages of the RSS run (1,000,000)")
    parser.add_argument("--no-million", action="store_true", help="skip the RSS run")
    parser.add_argument("--binds", type=int, default=1, help="binds (1)")
    parser.add_argument("--window", type=int, default=1000, help="window per bind (1000)")
    parser.add_argument(
        "--quick", action="store_true", help="2,000 per run, one round, 100,000 for RSS"
    )
    parser.add_argument(
        "--gc",
        choices=("tuned", "default"),
        default="default",
        help="the collector during the send: Python's as it comes (default), or tuned as "
        "`smscenter bulk` and `smscenter worker` set it (smscenter.fleet.tuned_gc)",
    )
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        cfg = json.loads(args.child)
        try:
            result = asyncio.run(asyncio.wait_for(_drive(cfg), DEADLINE))
        except BaseException as exc:  # a failed run is a finding, reported as such
            if isinstance(exc, BaseExceptionGroup):
                exc = exc.exceptions[0]
            result = {"ok": False, "reason": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(result), flush=True)
        return 0
    defaults = (2_000, 1, 100_000) if args.quick else (20_000, 3, 1_000_000)
    count = defaults[0] if args.count is None else args.count
    repeat = max(1, defaults[1] if args.repeat is None else args.repeat)
    million_count = defaults[2] if args.million is None else args.million

    print(
        f"Message store: Python {platform.python_version()} on {platform.machine()} "
        f"{sys.platform}, {os.cpu_count()} CPUs; client, responder and SQLite share them"
    )
    print(
        f"SMPPPool.send_many with a receipt per message, {args.binds} bind(s), window "
        f"{args.window}; {count:,} messages per run, {repeat} interleaved round(s) (median); "
        "SQLiteStore with synchronous=FULL, a new file per run; collector: "
        + ("tuned (smscenter.fleet.tuned_gc)" if args.gc == "tuned" else "Python's default")
    )
    watch = MachineWatch()
    print(watch.before_line())
    started = time.perf_counter()
    runs: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
    million: dict[str, Any] | None = None
    with Responder(receipts=True) as responder:
        for _ in range(repeat):
            for store in (False, True):
                runs[store].append(
                    run_child(
                        responder.port,
                        store=store,
                        count=count,
                        binds=args.binds,
                        window=args.window,
                        gc=args.gc,
                    )
                )
        off, on = median_run(runs[False]), median_run(runs[True])
        print(f"\n== submit_sm -> resp + receipt, {count:,} messages ==")
        print(f"{'':<26}{'msg/s':>10}{'CPU us/msg':>12}{'peak RSS MB':>13}   min .. max msg/s")
        print(_row("store off", off))
        print(_row("SQLiteStore on", on))
        if off.get("ok") and on.get("ok"):
            print(f"store on / store off: {on['rate'] / off['rate']:.0%}")
        if not args.no_million:
            million = run_child(
                responder.port,
                store=True,
                count=million_count,
                binds=args.binds,
                window=args.window,
                gc=args.gc,
            )
            print(f"\n== {million_count:,} messages with the store on (peak RSS) ==")
            if million.get("ok"):
                print(
                    f"{million['rate']:,.0f} msg/s, peak RSS {million['maxrss_mb']:.1f} MB, "
                    f"store file {million.get('store_mb', 0):.0f} MB"
                )
            else:
                print(f"failed: {million.get('reason')}")

    print(f"\n== {TARGETS_TITLE} ==")
    checks = check_targets(off, on, million)
    for name, passed, detail in checks:
        verdict = "n/a " if passed is None else ("PASS" if passed else "FAIL")
        print(f"{verdict}  {name}: {detail}")
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
                "count": count,
                "repeat": repeat,
                "binds": args.binds,
                "window": args.window,
                "gc": args.gc,
                "million": None if args.no_million else million_count,
            },
            "store_off": off,
            "store_on": on,
            "runs": {"store_off": runs[False], "store_on": runs[True]},
            "million": million,
            "targets": [{"target": n, "passed": p, "detail": d} for n, p, d in checks],
        }
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=1, default=str)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
