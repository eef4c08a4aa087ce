"""The smsc_simulator fixture under pytest-asyncio, in a pytest run of its own (a subprocess:
this suite runs with ``-p no:asyncio`` and anyio's plugin).

pytest-asyncio runs an async fixture's setup and teardown in different tasks; an anyio task
group entered in one and exited in the other fails ("Attempted to exit cancel scope in a
different task").
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("pytest_asyncio")

ROOT = Path(__file__).resolve().parents[2]

INI = """\
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
filterwarnings = error
"""

CONFTEST = 'pytest_plugins = ["smscenter.testing.pytest_plugin"]\n'

TESTS = """\
from __future__ import annotations

import pytest_asyncio

from smscenter import HTTPClient, Message
from smscenter.testing import SMSCSimulator, simulator_in_task


async def test_fixture_send_and_balance(smsc_simulator: SMSCSimulator) -> None:
    sim = smsc_simulator
    async with HTTPClient(sim.credentials, base_url=sim.base_url) as client:
        result = await client.send(Message(to="+79991234567", text="hi"))
        assert result.message_id
    assert len(sim.sent) == 1


async def test_fixture_again_is_fresh(smsc_simulator: SMSCSimulator) -> None:
    assert smsc_simulator.sent == []


@pytest_asyncio.fixture
async def own_sim():
    async with simulator_in_task(smpp=False) as sim:
        yield sim


async def test_own_fixture_with_simulator_in_task(own_sim: SMSCSimulator) -> None:
    async with HTTPClient(own_sim.credentials, base_url=own_sim.base_url) as client:
        assert (await client.balance()).balance == 1000
"""

DIRECT = """\
from __future__ import annotations

import pytest_asyncio

from smscenter.testing import SMSCSimulator


@pytest_asyncio.fixture
async def direct():
    async with SMSCSimulator(smpp=False) as sim:
        yield sim


async def test_direct(direct: SMSCSimulator) -> None:
    assert direct.base_url
"""


def run_pytest(tmp_path: Path, tests: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "pytest.ini").write_text(INI)
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_user.py").write_text(textwrap.dedent(tests))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "asyncio",
            "-c",
            str(tmp_path / "pytest.ini"),
            "--rootdir",
            str(tmp_path),
            str(tmp_path),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_fixture_works_under_pytest_asyncio(tmp_path: Path) -> None:
    done = run_pytest(tmp_path, TESTS)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout
    assert "cancel scope" not in done.stdout + done.stderr


def test_simulator_entered_and_exited_in_different_tasks_says_what_to_do(tmp_path: Path) -> None:
    done = run_pytest(tmp_path, DIRECT)
    assert done.returncode != 0
    assert "simulator_in_task" in done.stdout, done.stdout + done.stderr
