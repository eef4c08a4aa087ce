"""docs/tracking.md stays true: its campaign example runs as written (killed, resumed, read
back), and its fragments (``py`` blocks, which need your own SMSC) at least compile."""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "tracking.md"
TEXT = DOC.read_text(encoding="utf-8")


def test_the_example_runs_and_prints_what_the_page_says(capsys: pytest.CaptureFixture[str]) -> None:
    [code] = re.findall(r"```python\n(.*?)```", TEXT, re.S)
    exec(compile(code, str(DOC), "exec"), {"__name__": "docs_tracking"})
    out = capsys.readouterr().out.splitlines()
    lines = dict(line.split(":", 1) for line in out if ":" in line and line[0] != "s")
    # (eval: the printed dicts are our own output)
    first, after_first = eval(lines["first run"]), eval(out[1])
    count = 1000
    sent = first["sent"]
    assert 200 <= sent < count and after_first["accepted"] == sent
    unknown = after_first["unknown"]  # on the wire when the SMSC went silent
    assert unknown > 0
    assert set(after_first) <= {"accepted", "unknown", "failed"}
    resumed = eval(lines["resumed"])
    assert resumed == {
        "accepted before": sent, "UnknownOutcomeError": unknown, "sent": count - sent - unknown,
    }  # fmt: skip
    resent = eval(lines["resent"])
    assert resent == {"accepted before": count - unknown, "sent": unknown}
    assert eval(lines["at the end"]) == {"delivered": count}
    records = [line.split(" ", 4) for line in out if line.startswith("sale-")]
    assert [(r[0], r[1], r[3]) for r in records][0] == ("sale-0", "delivered", "1")
    assert records[1][1:4:2] == ["delivered", "2"]  # resent: two attempts, delivered once


def test_the_fragments_compile() -> None:
    fragments = re.findall(r"```py\n(.*?)```", TEXT, re.S)
    assert len(fragments) == 2
    for fragment in fragments:
        # They use await: as the body of an async function.
        ast.parse("async def _():\n" + textwrap.indent(fragment, "    "))


def test_the_page_is_in_the_nav() -> None:
    nav = (DOC.parent.parent / "mkdocs.yml").read_text(encoding="utf-8")
    assert "tracking.md" in nav
