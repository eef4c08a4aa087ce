"""Fixtures for the CLI tests: a simulator on its own event-loop thread, a clean environment.

The commands run their own event loop (``anyio.run``) in the test's thread, so the simulator
they talk to runs on a blocking portal's thread; the tests reach it through ``portal.call``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from click.testing import CliRunner, Result

from smscenter.cli import cli
from smscenter.testing import SMSCSimulator

#: A password distinctive enough that any echo of it is found.
SECRET = "Zq8-pass"  # 8 octets: SMPP 3.4 carries no more


@attrs.define
class SimThread:
    """A running simulator on another thread, and how to reach it."""

    sim: SMSCSimulator
    portal: BlockingPortal

    def call(self, func: Callable[..., Any], *args: Any) -> Any:
        """Run a plain function on the simulator's loop (its state is not thread-safe)."""
        return self.portal.call(func, *args)

    @property
    def env(self) -> dict[str, str]:
        """The environment variables pointing the CLI at this simulator."""
        return {
            "SMSC_BASE_URL": self.sim.base_url,
            "SMSC_SMPP_HOST": self.sim.smpp_host,
            "SMSC_SMPP_PORT": str(self.sim.smpp_port),
            "SMSC_LOGIN": "demo",
            "SMSC_PASSWORD": SECRET,
        }


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No SMSC_* variables, and a config directory of our own (no developer's real file)."""
    for name in list(os.environ):
        if name.startswith("SMSC_"):
            monkeypatch.delenv(name)
    config_home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    monkeypatch.setenv("COLUMNS", "160")
    return config_home


@pytest.fixture
def sim_thread(clean_env: Path) -> Iterator[SimThread]:
    with ExitStack() as stack:
        portal = stack.enter_context(start_blocking_portal(backend="asyncio"))
        sim = SMSCSimulator(seed=3, password=SECRET, balance=Decimal(10_000))
        stack.enter_context(portal.wrap_async_context_manager(sim))
        yield SimThread(sim=sim, portal=portal)


@pytest.fixture
def run(clean_env: Path) -> Callable[..., Result]:
    """Invoke the CLI in-process: ``run("send", ..., env={...}, input=...)``."""

    def invoke(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
        runner = CliRunner()
        return runner.invoke(cli, list(args), env=env, input=input, catch_exceptions=False)

    return invoke
