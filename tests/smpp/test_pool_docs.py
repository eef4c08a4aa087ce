"""Every Python example in docs/smpp.md runs against the simulator and its assertions hold."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "smpp.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


def test_the_page_has_examples() -> None:
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("source", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_example_runs(source: str, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(source, str(DOC), "exec"), {"__name__": "docs_example"})
    out = capsys.readouterr().out
    assert "failed" not in out


def test_documented_public_names_exist() -> None:
    import smscenter
    import smscenter.smpp

    text = DOC.read_text(encoding="utf-8")
    for name in ("SMPPPool", "SendOutcome", "ReconnectPolicy"):
        assert name in smscenter.__all__ and name in smscenter.smpp.__all__
        assert name in text
    for name in ("SMPPSession", "SMPPStatistics", "QueryResult"):
        assert name in smscenter.smpp.__all__ and name not in smscenter.__all__
        assert f"smscenter.smpp.{name}" in text
