"""HTTP benchmark: N sends through :class:`smscenter.HTTPClient` vs the official libraries' way.

Both sides send the same N distinct messages to the embedded simulator in one run:

* **smscenter**: one :class:`HTTPClient`, POST form bodies, kept-alive connections, up to
  ``Limits.max_concurrent_requests`` (10) requests in flight;
* **official style**: what the provider's own libraries do: blocking
  ``urllib``, a new connection per request, GET with the password in the query string,
  ``fmt=1``, one request after the other. It runs in a worker thread so the simulator's event
  loop keeps serving.

The simulator adds ``--latency`` seconds to every request (default 20 ms, a typical round trip
to the provider from outside its data centre); ``--latency 0`` measures pure per-request
overhead on loopback, where both clients share one CPU with the server.

Run from the repository root::

    python -m benchmarks.bench_http            # 1000 sends each
    python -m benchmarks.bench_http -n 200 --latency 0
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
import urllib.parse
import urllib.request
from decimal import Decimal
from multiprocessing.connection import Connection

import anyio
import anyio.to_thread

from smscenter import Credentials, HTTPClient, Limits, Message
from smscenter.testing.simulator import SMSCSimulator


def official_style(base_url: str, login: str, password: str, count: int) -> float:
    """Send ``count`` messages like smsc_api.cs / smsc_api.pm: blocking, GET, new connection each.

    :returns: elapsed seconds.
    """
    start = time.perf_counter()
    for n in range(count):
        query = urllib.parse.urlencode(
            {
                "login": login,
                "psw": password,
                "fmt": "1",
                "charset": "utf-8",
                "cost": "3",
                "phones": f"7998{n:07d}",
                "mes": f"official {n}",
            }
        )
        # urllib sends "Connection: close": every request opens a new TCP connection, as the
        # official libraries' WebRequest/LWP calls do.
        with urllib.request.urlopen(f"{base_url}/sys/send.php?{query}", timeout=60) as response:
            body = response.read().decode()
        if "," not in body or body.split(",")[1].startswith("-"):
            raise RuntimeError(f"official-style send {n} failed: {body!r}")
    return time.perf_counter() - start


async def smscenter_style(
    base_url: str, credentials: Credentials, count: int, concurrency: int
) -> float:
    """Send ``count`` messages through one HTTPClient, ``concurrency`` in flight.

    :returns: elapsed seconds (creating the client included).
    """
    limits = Limits(max_concurrent_requests=concurrency)
    failures: list[BaseException] = []

    async def one(api: HTTPClient, n: int) -> None:
        try:
            await api.send(Message(to=f"7997{n:07d}", text=f"smscenter {n}"))
        except Exception as error:  # counted and reported below
            failures.append(error)

    start = time.perf_counter()
    async with (
        HTTPClient(credentials, base_url=base_url, limits=limits) as api,
        anyio.create_task_group() as tg,
    ):
        for n in range(count):
            tg.start_soon(one, api, n)
    elapsed = time.perf_counter() - start
    if failures:
        raise RuntimeError(f"{len(failures)} smscenter sends failed, first: {failures[0]!r}")
    return elapsed


async def _serve(latency: float, conn: Connection) -> None:
    async with SMSCSimulator(balance=Decimal("1000000000")) as sim:
        sim.behaviour.latency = latency
        account = sim.account()
        conn.send((sim.base_url, account.login, account.password))
        await anyio.to_thread.run_sync(conn.recv)  # wait for "stop"
        conn.send(len(sim.sent))


def _serve_in_process(latency: float, conn: Connection) -> None:
    anyio.run(_serve, latency, conn)


async def run(count: int, latency: float, concurrency: int, separate: bool = False) -> float:
    """Run both sides against one simulator; print the table; return the speed-up.

    :param separate: run the simulator in a child process (its own CPU) instead of on this
        event loop.
    """
    if separate:
        parent, child = multiprocessing.get_context("spawn").Pipe()
        process = multiprocessing.get_context("spawn").Process(
            target=_serve_in_process, args=(latency, child), daemon=True
        )
        process.start()
        try:
            base_url, login, password = await anyio.to_thread.run_sync(parent.recv)
            creds = Credentials(login, password)
            ours = await smscenter_style(base_url, creds, count, concurrency)
            theirs = await anyio.to_thread.run_sync(
                official_style, base_url, login, password, count
            )
            parent.send("stop")
            sent = await anyio.to_thread.run_sync(parent.recv)
        finally:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    else:
        async with SMSCSimulator(balance=Decimal("1000000000")) as sim:
            sim.behaviour.latency = latency
            account = sim.account()
            ours = await smscenter_style(sim.base_url, sim.credentials, count, concurrency)
            theirs = await anyio.to_thread.run_sync(
                official_style, sim.base_url, account.login, account.password, count
            )
            sent = len(sim.sent)
    if sent != 2 * count:
        raise RuntimeError(f"the simulator stored {sent} messages, expected {2 * count}")
    ratio = theirs / ours
    where = "in a separate process" if separate else "on the same event loop"
    print(
        f"HTTP benchmark: {count} sends each, simulator latency {latency * 1000:.0f} ms, "
        f"simulator {where}"
    )
    print(f"{'client':<34}{'seconds':>10}{'sends/s':>12}")
    print(f"{'smscenter HTTPClient':<34}{ours:>10.2f}{count / ours:>12.0f}")
    print(f"{'official style (GET, blocking)':<34}{theirs:>10.2f}{count / theirs:>12.0f}")
    print(f"speed-up: {ratio:.1f}x")
    return ratio


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--count", type=int, default=1000, help="sends per side")
    parser.add_argument(
        "--latency", type=float, default=0.02, help="seconds the simulator adds per request"
    )
    parser.add_argument(
        "--concurrency", type=int, default=10, help="HTTPClient requests in flight (max 14)"
    )
    parser.add_argument(
        "--separate-process",
        action="store_true",
        help="run the simulator in a child process instead of on the benchmark's event loop",
    )
    args = parser.parse_args(argv)
    anyio.run(run, args.count, args.latency, args.concurrency, args.separate_process)


if __name__ == "__main__":
    main()
