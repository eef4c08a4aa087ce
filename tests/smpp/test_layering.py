"""The SMPP core is sans-IO: importing it must not pull in anyio, httpx or socket."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

import smscenter

CORE_MODULES = [
    "smscenter.smpp.constants",
    "smscenter.smpp._wire",
    "smscenter.smpp.pdu",
    "smscenter.smpp.events",
    "smscenter.smpp._window",
    "smscenter.smpp.connection",
    "smscenter.smpp.text",
    "smscenter.smpp.receipts",
    "smscenter.smpp.submit",
    "smscenter.smpp.system_type",
    "smscenter.smpp.provider_text",
    "smscenter.smpp.times",
    "smscenter.smpp.reassembly",
]
FORBIDDEN = ("anyio", "httpx", "socket")
_PKG_DIR = str(Path(smscenter.__file__).parent)


def _existing() -> list[str]:
    return [m for m in CORE_MODULES if importlib.util.find_spec(m) is not None]


def test_core_modules_exist() -> None:
    assert {"smscenter.smpp.pdu", "smscenter.smpp.connection"} <= set(_existing())


@pytest.mark.parametrize("module", _existing())
def test_core_module_imports_no_io(module: str) -> None:
    # The top-level ``smscenter/__init__.py`` re-exports the HTTP client (httpx) for users, so
    # the check stands in a bare package object for it: what is measured is the import graph of
    # the core modules themselves (and of models/exceptions/config, which they really import).
    code = (
        "import importlib, json, sys, types\n"
        f"pkg = types.ModuleType('smscenter'); pkg.__path__ = [{_PKG_DIR!r}]\n"
        "sys.modules['smscenter'] = pkg\n"
        f"importlib.import_module({module!r})\n"
        f"print(json.dumps([m for m in {FORBIDDEN!r} if m in sys.modules]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [], f"{module} imports {result.stdout.strip()}"
