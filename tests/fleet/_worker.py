"""A fleet worker process for the multi-process tests: one SMPPPool with a Fleet, sends its
share and prints a JSON summary. ``--skew`` moves this process's wall clock (``time.time``)
by that many seconds, as a machine whose clock is off would have it.

    python -m tests.fleet._worker REDIS_URL HOST PORT LOGIN PASSWORD --name w1 --count 30
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("redis_url", "host", "port", "login", "password"):
        parser.add_argument(name)
    parser.add_argument("--name", default="w")
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--rate", type=float, default=25.0)
    parser.add_argument("--burst", type=int, default=3)
    parser.add_argument("--mcon", type=int, default=2)
    parser.add_argument("--binds", type=int, default=1)
    parser.add_argument("--skew", type=float, default=0.0)
    parser.add_argument("--lease-ttl", type=float, default=30.0)
    parser.add_argument("--margin", type=float, default=None)
    parser.add_argument("--unbind", type=float, default=2.0)
    args = parser.parse_args()
    if args.skew:
        real_time, real_ns = time.time, time.time_ns
        time.time = lambda: real_time() + args.skew
        time.time_ns = lambda: real_ns() + int(args.skew * 1e9)

    import anyio

    from smscenter import Credentials, Limits, Message, SMPPPool, Timeouts
    from smscenter.fleet import Fleet
    from smscenter.smpp.client.pool import ReconnectPolicy

    async def run() -> dict[str, object]:
        fleet = Fleet(
            args.redis_url,
            login=args.login,
            rate=args.rate,
            burst=args.burst,
            mcon=args.mcon,
            lease_ttl=args.lease_ttl,
            lease_margin=args.margin,
        )
        errors: list[str] = []
        ids = 0
        async with (
            fleet,
            SMPPPool(
                args.host,
                int(args.port),
                Credentials(args.login, args.password),
                limits=Limits(connections=args.binds, max_rate=None),
                timeouts=Timeouts(10, pool=60, unbind=args.unbind),
                reconnect=ReconnectPolicy(initial=0.05, maximum=0.2, refused=0.2),
                fleet=fleet,
            ) as pool,
        ):
            messages = (
                Message(to=f"+7999{i:07d}", text=f"{args.name} {i}", sender="Shop")
                for i in range(args.count)
            )
            async for outcome in pool.send_many(messages):
                if outcome.error is not None:
                    errors.append(repr(outcome.error))
                else:
                    ids += 1
            stats = pool.statistics()
        return {"name": args.name, "accepted": ids, "errors": errors, "throttled": stats.throttled}

    sys.stdout.write(json.dumps(anyio.run(run)) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
