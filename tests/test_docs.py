"""The code examples of the general doc pages run as written (each page's own tests cover
the transport pages)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = ("index.md", "model.md", "errors.md", "api.md")
_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def _blocks() -> list[tuple[str, int, str]]:
    found = []
    for page in PAGES:
        for number, match in enumerate(_BLOCK.finditer((DOCS / page).read_text("utf-8"))):
            found.append((page, number, match[1]))
    return found


@pytest.mark.parametrize(("page", "number", "code"), _blocks(), ids=lambda v: str(v)[:20])
def test_example_runs(
    page: str, number: int, code: str, capsys: pytest.CaptureFixture[str]
) -> None:
    exec(compile(code, f"{page}[{number}]", "exec"), {"__name__": "__main__"})
    if "print(" in code:
        assert capsys.readouterr().out.strip(), "the example printed nothing"


def test_every_general_page_has_examples() -> None:
    pages = {page for page, _, _ in _blocks()}
    assert pages == set(PAGES)
