"""`import smscenter` stays light: the transports load on first use."""

from __future__ import annotations

import subprocess
import sys

import smscenter

_PROBE = """
import sys
import smscenter
import smscenter.smpp.connection, smscenter.smpp.pdu, smscenter.smpp.receipts
import smscenter.smpp.submit, smscenter.smpp.text
print(sorted(m for m in ("httpx", "anyio", "socket", "fastapi") if m in sys.modules))
import smscenter.webhook  # pure too, though the stdlib e-mail parser it uses loads socket
print(sorted(m for m in ("httpx", "anyio", "fastapi", "starlette") if m in sys.modules))
smscenter.HTTPClient
print("httpx" in sys.modules)
"""


def _run(probe: str) -> list[str]:
    """What ``probe`` prints, line by line, run in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return done.stdout.split("\n")


def test_top_level_import_pulls_no_transport() -> None:
    out = _run(_PROBE)
    assert out[0] == "[]", out
    assert out[1] == "[]", out
    assert out[2] == "True"  # and the lazy name really loads its module


def test_lazy_names_resolve_and_are_listed() -> None:
    for name in ("HTTPClient", "SMPPPool", "SendOutcome", "ReconcilePolicy", "ReconnectPolicy"):
        assert name in smscenter.__all__ and name in dir(smscenter)
        assert getattr(smscenter, name).__name__ == name
    try:
        smscenter.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("unknown attribute did not raise")


_FLEET_PROBE = """
import sys
from smscenter.fleet import GC_THRESHOLD, tuned_gc
with tuned_gc():
    pass
print("redis" in sys.modules)
import smscenter.fleet
print(smscenter.fleet.Fleet.__module__, "redis" in sys.modules)
"""

_NO_REDIS_PROBE = """
import sys
sys.modules["redis"] = None  # as if the redis extra were not installed
from smscenter.fleet import tuned_gc
with tuned_gc():
    print("tuned")
import smscenter.fleet
try:
    smscenter.fleet.Fleet
except ImportError as exc:
    print(exc)
"""


def test_fleet_tuned_gc_loads_no_redis() -> None:
    # A one-process bulk send runs under tuned_gc: redis-py stays out of it (and of the
    # objects each full collection walks) until a Redis-backed name is used.
    out = _run(_FLEET_PROBE)
    assert out[0] == "False", out
    assert out[1] == "smscenter.fleet True", out


def test_fleet_without_the_redis_extra_names_it() -> None:
    out = _run(_NO_REDIS_PROBE)
    assert out[0] == "tuned", out
    assert out[1] == "smscenter.fleet.Fleet needs redis-py: pip install 'smscenter[redis]'", out
