"""Every Python block of docs/simulator.md runs (or is checked) against the real simulator.

Blocks are sorted by what they are:

- ``script``: a complete program ending in ``anyio.run(main)``; executed as it is.
- ``test``: one or more ``async def test_...()`` without parameters; executed, then each test
  function is awaited.
- ``conftest`` / ``pytest``: the pytest-plugin fragments (a ``conftest.py`` line and a test
  module using the ``smsc_simulator`` fixture); written into a temporary project and run by
  pytest in a subprocess, as a user would run them.

A block that is none of these fails :func:`test_every_block_is_run_or_checked`, so nothing on
the page can be added without being run.
"""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "simulator.md"
BLOCKS: list[str] = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def kind(source: str) -> str | None:
    """What a block is, so the test knows how to run it (``None``: it cannot tell)."""
    if re.search(r"^pytest_plugins = ", source, re.M):
        return "conftest"
    if re.search(r"^async def test_\w+\(smsc_simulator\b", source, re.M):
        return "pytest"
    if re.search(r"^anyio\.run\(main\)$", source, re.M):
        return "script"
    if re.search(r"^async def test_\w+\(\) -> None:", source, re.M):
        return "test"
    return None


def blocks_of(wanted: str) -> list[tuple[int, str]]:
    return [(i, b) for i, b in enumerate(BLOCKS) if kind(b) == wanted]


def ids(blocks: list[tuple[int, str]]) -> list[str]:
    return [f"block{i}" for i, _ in blocks]


def run(source: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "docs_simulator"}
    exec(compile(source, str(DOC), "exec"), namespace)
    return namespace


def test_every_block_is_run_or_checked() -> None:
    assert len(BLOCKS) >= 9
    unknown = [i for i, b in enumerate(BLOCKS) if kind(b) is None]
    assert unknown == [], f"blocks {unknown} of {DOC.name} are neither run nor checked"
    # The plugin fragments are run together, so there must be exactly one of each.
    assert len(blocks_of("conftest")) == 1
    assert len(blocks_of("pytest")) == 1


TESTS = blocks_of("test")
SCRIPTS = blocks_of("script")


@pytest.mark.parametrize(("index", "source"), TESTS, ids=ids(TESTS))
async def test_test_block_passes(index: int, source: str) -> None:
    namespace = run(source)
    tests = [f for name, f in namespace.items() if name.startswith("test_") and callable(f)]
    declared = re.findall(r"^async def (test_\w+)\(", source, re.M)
    assert sorted(f.__name__ for f in tests) == sorted(declared) != []
    for test in tests:
        assert inspect.iscoroutinefunction(test)
        assert inspect.signature(test).parameters == {}, f"block{index}: {test.__name__}"
        await test()


@pytest.mark.parametrize(("index", "source"), SCRIPTS, ids=ids(SCRIPTS))
def test_script_block_runs(index: int, source: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(source)
    out = capsys.readouterr().out
    if "submit_sm/s" in source:  # the benchmark prints the rate it measured
        assert re.fullmatch(r"[\d,]+ submit_sm/s\n", out), out


def test_pytest_plugin_fragments_pass_under_pytest(tmp_path: Path) -> None:
    """The conftest line and the fixture example, as files of a user's project."""
    [(_, conftest)] = blocks_of("conftest")
    [(_, module)] = blocks_of("pytest")
    (tmp_path / "conftest.py").write_text(conftest, encoding="utf-8")
    (tmp_path / "test_with_fixture.py").write_text(module, encoding="utf-8")
    env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    env.pop("PYTEST_ADDOPTS", None)
    command = [sys.executable, "-m", "pytest", "-p", "anyio", "-p", "no:cacheprovider"]
    command += ["-W", "error", "-q", "--rootdir", str(tmp_path), str(tmp_path)]
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=50, check=False
    )
    expected = len(re.findall(r"^async def test_", module, re.M))
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(rf"\b{expected} passed\b", done.stdout), done.stdout
