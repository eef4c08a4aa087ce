"""Dependencies earn their place, and code comments cite public sources only."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "smscenter"


def _pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower()


def _imported_top_level() -> set[str]:
    names: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return names


def test_every_runtime_dependency_is_imported_by_the_library() -> None:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    runtime = {_name(r) for r in project["dependencies"]}
    imported = _imported_top_level()
    assert runtime <= imported, f"runtime dependencies nothing imports: {runtime - imported}"


def test_aiosmpplib_is_a_test_and_bench_dependency_only() -> None:
    data = _pyproject()
    project, groups = data["project"], data["dependency-groups"]
    assert isinstance(project, dict) and isinstance(groups, dict)
    assert "aiosmpplib" not in {_name(r) for r in project["dependencies"]}
    for group in ("test", "bench"):
        assert "aiosmpplib" in {_name(r) for r in groups[group] if isinstance(r, str)}
    assert "aiosmpplib" not in _imported_top_level()
