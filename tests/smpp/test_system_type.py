"""The bind's system_type flags: parse, render, validation."""

from __future__ import annotations

import pytest

from smscenter.smpp.system_type import SystemType


@pytest.mark.parametrize(
    ("raw", "parsed", "rendered"),
    [
        ("", SystemType(), ""),
        ("ISO", SystemType(iso=True), "ISO"),
        ("ISO,SINGLE", SystemType(iso=True, single=True), "ISO,SINGLE"),
        ("single, iso", SystemType(iso=True, single=True), "ISO,SINGLE"),
        ("MCON2", SystemType(connections=2), "MCON2"),
        ("mcon9,ISO", SystemType(connections=9, iso=True), "MCON9,ISO"),
        ("MCON0", SystemType(other=("MCON0",)), "MCON0"),
        ("VMA,ISO", SystemType(iso=True, other=("VMA",)), "ISO,VMA"),
    ],
)
def test_system_type_parse_and_render(raw: str, parsed: SystemType, rendered: str) -> None:
    assert SystemType.parse(raw) == parsed
    assert parsed.render() == rendered == str(parsed)
    assert SystemType.parse(rendered) == parsed


@pytest.mark.parametrize(
    "kwargs",
    [
        {"connections": 0},
        {"connections": 10},
        {"connections": True},
        {"other": ("a,b",)},
        {"other": ("",)},
        {"connections": 2, "iso": True, "single": True},  # 16 characters: over SMPP's 12
    ],
)
def test_system_type_validation(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SystemType(**kwargs)  # type: ignore[arg-type]
