"""The ``simulate`` and ``demo`` commands: the embedded simulator of the provider, alone or
with a realistic job run against it (:mod:`smscenter.cli.demo`; the ``testing`` extra).

Registered on the ``smscenter`` group by :mod:`smscenter.cli.app`.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

import anyio
import anyio.abc
import click

from smscenter.cli._common import _console, _fail, _reports_errors, _run, _stop_on_signal, _until
from smscenter.cli.errors import primary_error

__all__ = ("demo", "simulate")


def _import_demo() -> Any:
    """smscenter.cli.demo, or an install hint when the simulator's extra is missing."""
    try:
        import smscenter.cli.demo as demo_module
    except ImportError as error:
        _fail(
            "the simulator needs the 'testing' extra: pip install 'smscenter[cli,testing]' "
            f"({error})"
        )
    return demo_module


@click.command()
@click.option("--http-port", type=int, default=0, help="HTTP port [default: a free one].")
@click.option("--smpp-port", type=int, default=0, help="SMPP port [default: a free one].")
@click.option("--seed", type=int, default=0, show_default=True, help="Seeds delivery outcomes.")
@click.option(
    "--delivery-delay",
    type=float,
    default=5.0,
    show_default=True,
    help="Seconds until a message's final status.",
)
@click.option(
    "--failure-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of messages that end undeliverable.",
)
@click.option(
    "--smpp-throughput",
    type=float,
    default=30.0,
    show_default=True,
    help="SMPP submits per second the account may make (the provider's default is 30).",
)
@click.option("--for", "duration", type=float, help="Stop after this many seconds.")
@_reports_errors
def simulate(
    http_port: int,
    smpp_port: int,
    seed: int,
    delivery_delay: float,
    failure_rate: float,
    smpp_throughput: float,
    duration: float | None,
) -> None:
    """Run the embedded provider simulator in the foreground until Ctrl-C.

    Prints its HTTP base URL, SMPP address and the demo account's credentials, ready to be used
    as SMSC_BASE_URL, SMSC_SMPP_HOST, SMSC_SMPP_PORT, SMSC_LOGIN and SMSC_PASSWORD. Statuses
    move on in real time. Needs the `testing` extra.
    """
    start_simulator = _import_demo().start_simulator

    async def main() -> None:
        async with start_simulator(
            seed=seed,
            http_port=http_port,
            smpp_port=smpp_port,
            delivery_delay=delivery_delay,
            failure_rate=failure_rate,
        ) as sim:
            smpp_knobs = getattr(sim.behaviour, "smpp", None)
            if smpp_knobs is not None:
                smpp_knobs.throughput = smpp_throughput
            creds = sim.credentials
            smpp = getattr(sim, "smpp_port", None)
            lines = [
                f"SMSC_BASE_URL={sim.base_url}",
                *(
                    [f"SMSC_SMPP_HOST={sim.smpp_host}", f"SMSC_SMPP_PORT={smpp}"]
                    if smpp is not None
                    else []
                ),
                f"SMSC_LOGIN={creds.login}",
                f"SMSC_PASSWORD={creds.password}",
            ]
            api_key_line = f"SMSC_API_KEY={sim.api_key_credentials.api_key}"
            click.echo("smscenter simulator running (Ctrl-C stops it); its demo account:")
            for line in lines:
                click.echo(f"  export {line}")
            click.echo(f"  # or, instead of login and password: export {api_key_line}")
            sys.stdout.flush()
            done = anyio.Event()
            async with anyio.create_task_group() as group:
                group.start_soon(_stop_on_signal, done)
                await _until(done, duration)
                group.cancel_scope.cancel()
            click.echo("simulator stopped")

    try:
        _run(main)
    except Exception as caught:  # also out of a task group
        error = primary_error(caught)
        if not isinstance(error, OSError):
            raise
        ports = f"HTTP port {http_port or 'any'}, SMPP port {smpp_port or 'any'}"
        _fail(
            f"cannot start the simulator on 127.0.0.1 ({ports}): {error.strerror or error}; "
            "check --http-port and --smpp-port (0 picks a free port)"
        )


@click.command()
@click.option(
    "--messages",
    type=click.IntRange(1, 100_000),
    default=2000,
    show_default=True,
    help="Messages in the SMPP bulk job.",
)
@click.option(
    "--binds", type=click.IntRange(1, 9), default=3, show_default=True, help="SMPP binds (MCONn)."
)
@click.option(
    "--rate",
    type=float,
    default=1000.0,
    show_default=True,
    help="SMPP send rate limit, messages per second.",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Seeds delivery outcomes.")
@click.option(
    "--delivery-delay",
    type=click.FloatRange(0.1, 30),
    default=2.0,
    show_default=True,
    help="Seconds the simulated operators take to report.",
)
@click.option("--http-only", is_flag=True, help="Skip the SMPP part.")
@_reports_errors
def demo(
    messages: int, binds: int, rate: float, seed: int, delivery_delay: float, http_only: bool
) -> None:
    """Start the simulator and run a realistic job against it (no account needed).

    Sends a few messages over HTTP (ids, parts, cost, balance), checks their statuses, then a
    bulk job over an SMPP pool with receipts coming back, and prints a summary.
    """
    run_demo = _import_demo().run_demo
    summary = _run(
        functools.partial(
            run_demo,
            _console(),
            messages=messages,
            binds=binds,
            rate=rate,
            seed=seed,
            smpp=not http_only,
            delivery_delay=delivery_delay,
        )
    )
    if not summary.consistent:
        _fail("the demo's numbers do not add up")
