"""One worker process of the fleet benchmark: an SMPPPool (with a Fleet, or alone) on one login.

It binds, prints ``ready``, waits for a line on stdin (so all workers start together), sends its
messages with ``send_many`` and prints one JSON line (then waits for another line on stdin
before it closes and exits, so its shutdown does not compete with the workers still sending):
what was accepted, and its own costs over
the send (CPU from :func:`resource.getrusage`, split into user and system time, with its context
switches and garbage collections; the fleet's Redis round trips)::

    python -m benchmarks._fleet_worker REDIS_URL HOST PORT LOGIN PASSWORD --count 500 --rate 300
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _usage() -> dict[str, float]:
    """This process's CPU (user, system), context switches (waits, preemptions) and garbage
    collections so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "user": usage.ru_utime,
        "sys": usage.ru_stime,
        "waits": usage.ru_nvcsw,
        "preempted": usage.ru_nivcsw,
        "page_faults": usage.ru_minflt,
        "max_rss_kb": usage.ru_maxrss,
        "gc": sum(s["collections"] for s in gc.get_stats()),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("redis_url", "host", "port", "login", "password"):
        parser.add_argument(name)
    parser.add_argument("--name", default="w")
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--burst", type=int, default=None)
    parser.add_argument("--mcon", type=int, default=4)
    parser.add_argument("--no-fleet", action="store_true")
    args = parser.parse_args()

    import anyio

    from smscenter import Credentials, Limits, Message, SMPPPool, Timeouts
    from smscenter.fleet import Fleet, tuned_gc

    async def run() -> None:
        fleet = (
            None
            if args.no_fleet
            else Fleet(
                args.redis_url, login=args.login, rate=args.rate, burst=args.burst, mcon=args.mcon
            )
        )
        pool = SMPPPool(
            args.host,
            int(args.port),
            Credentials(args.login, args.password),
            limits=Limits(connections=1, max_rate=None),
            timeouts=Timeouts(20, pool=120),
            fleet=fleet,
        )
        accepted = 0
        errors: list[str] = []
        async with fleet if fleet is not None else _Nothing(), pool:
            # The bind comes up in the background: wait for it before saying ready.
            with anyio.fail_after(30):
                while pool.statistics().binds_up < 1:  # noqa: ASYNC110 - bounded
                    await anyio.sleep(0.01)
            # Set up: the collector settings `smscenter worker` runs its send with.
            with tuned_gc():
                sys.stdout.write("ready\n")
                sys.stdout.flush()
                await anyio.to_thread.run_sync(sys.stdin.readline)
                trips0 = fleet.round_trips if fleet is not None else 0
                usage0 = _usage()
                cpu0, wall0 = _cpu(), time.perf_counter()
                messages = (
                    Message(to=f"+7999{i:07d}", text=f"{args.name} {i}", sender="Shop")
                    for i in range(args.count)
                )
                async for outcome in pool.send_many(messages):
                    if outcome.error is None:
                        accepted += 1
                    elif len(errors) < 5:
                        errors.append(repr(outcome.error))
                cpu1, wall1 = _cpu(), time.perf_counter()
                usage1 = _usage()
                trips = (fleet.round_trips if fleet is not None else 0) - trips0
                throttled = pool.statistics().throttled
                result = {
                    "name": args.name,
                    "accepted": accepted,
                    "errors": errors,
                    "throttled": throttled,
                    "cpu": cpu1 - cpu0,
                    "wall": wall1 - wall0,
                    "round_trips": trips,
                    "usage": {k: usage1[k] - usage0[k] for k in usage0},
                }
                sys.stdout.write(json.dumps(result) + "\n")
                sys.stdout.flush()
                # Stay idle until the phase is over: closing the pool and the fleet and leaving
                # the interpreter take about 0.1 s of CPU, which must not come out of the cores
                # the workers still sending share.
                await anyio.to_thread.run_sync(sys.stdin.readline)

    anyio.run(run)


class _Nothing:
    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None


if __name__ == "__main__":
    main()
