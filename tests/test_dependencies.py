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


# Files that do not ship with the package (the project's private notes) must not be cited: a
# reader of the code cannot follow them. Public sources are cited instead (SMPP 3.4 sections,
# the provider's pages such as https://smscentre.com/api/smpp/ and https://smscentre.com/api/http/).
_PRIVATE_CITATION = re.compile(
    r"seeds?\s+0\d\d|seed's|the seed\b|smpp-notes|peer-performance|reference/|smsc-http-api"
    r"|style\.md|architecture-review|scaling\.md",
    re.IGNORECASE,
)


def test_code_and_docs_cite_public_sources_only() -> None:
    found = []
    files = [*PACKAGE.rglob("*.py"), *(ROOT / "docs").rglob("*.md"), ROOT / "README.md"]
    for path in files:
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if _PRIVATE_CITATION.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)
