"""The examples of docs/store.md run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "store.md"
_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def test_store_page_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    blocks = [b for b in _BLOCK.findall(PAGE.read_text("utf-8")) if "asyncio.run" in b]
    assert blocks
    for code in blocks:
        exec(compile(code, str(PAGE), "exec"), {"__name__": "__main__"})
    out = capsys.readouterr().out.splitlines()
    assert out == ["delivered 3.20 ['delivered']", "unknown", "[('delivered', 1), ('unknown', 1)]"]
