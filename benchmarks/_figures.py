"""The SMPP benchmark's targets (issue 10) and its markdown rendering, apart from the runner.

The table of a run is ``{(binds, window, receipts, distinct): {client key: result}}``; a result
is what :func:`benchmarks.bench_smpp.run_client` returns (``ok``, ``rate``, ``cpu_us``,
``maxrss_mb``, ...).
"""

from __future__ import annotations

from typing import Any

__all__ = ("CLIENT_LABELS", "Cell", "check_targets", "render_markdown")

# The targets of issue 10 (1 bind; smscenter on plain asyncio, smpp34 on uvloop).
TARGET_RATIO_VS_SMPP34 = 2.0  # at windows 100 and 1000, distinct and identical texts
TARGET_CPU_US = 12.0  # client CPU per message, distinct texts, window 100
TARGET_DISTINCT_RECEIPT_RATE = 40_000.0  # msg/s, distinct texts, a receipt per message
TARGET_IDENTICAL_RATE = 85_000.0  # msg/s, identical texts, windows 100 and 1000
TARGET_MILLION_RSS_MB = 100.0  # peak RSS of send_many over 1,000,000 lazy distinct messages
TARGETS_TITLE = "targets (issue 10)"

#: (binds, window per bind, a receipt per message, distinct texts)
Cell = tuple[int, int, bool, bool]

#: client key -> its row label (the same order as the runner's client rows)
CLIENT_LABELS: dict[str, str] = {
    "smscenter": "smscenter SMPPPool (asyncio)",
    "smscenter-uvloop": "smscenter SMPPPool (uvloop)",
    "rawpy": "rawpy: bare batched loop, no features",
    "smpp34": "smpp34 (Rust core) + uvloop",
    "smpplib": "smpplib, TCP_NODELAY (sync)",
    "aiosmpplib": "aiosmpplib, dict correlator",
}


def _ok(row: dict[str, Any] | None) -> dict[str, Any] | None:
    return row if row is not None and row.get("ok") else None


def check_targets(
    table: dict[Cell, dict[str, dict[str, Any]]],
    million: dict[str, Any] | None,
) -> list[tuple[str, bool | None, str]]:
    """(target, passed (None: not measured), detail) for each target of issue 10. smscenter's
    figure is the plain asyncio row's (the uvloop row is shown, never counted)."""
    checks: list[tuple[str, bool | None, str]] = []

    def ours(cell: Cell) -> dict[str, Any] | None:
        return _ok(table.get(cell, {}).get("smscenter"))

    for distinct in (True, False):
        texts = "distinct" if distinct else "identical"
        for window in (100, 1000):
            rows = table.get((1, window, False, distinct), {})
            mine, peer = ours((1, window, False, distinct)), _ok(rows.get("smpp34"))
            name = (
                f"{texts} texts: >= {TARGET_RATIO_VS_SMPP34:g}x smpp34 + uvloop at window "
                f"{window} (1 bind)"
            )
            if mine is None or peer is None:
                checks.append((name, None, "not measured"))
                continue
            ratio = mine["rate"] / peer["rate"]
            detail = f"{mine['rate']:,.0f} vs {peer['rate']:,.0f} msg/s = x{ratio:.2f}"
            checks.append((name, ratio >= TARGET_RATIO_VS_SMPP34, detail))
        if distinct:
            mine = ours((1, 100, False, True))
            name = f"distinct texts: client CPU <= {TARGET_CPU_US:g} us/msg (window 100, 1 bind)"
            if mine is None:
                checks.append((name, None, "not measured"))
            else:
                cpu = mine["cpu_us"]
                checks.append((name, cpu <= TARGET_CPU_US, f"{cpu:.1f} us/msg"))
            mine = ours((1, 100, True, True))
            name = (
                f"distinct texts: >= {TARGET_DISTINCT_RECEIPT_RATE:,.0f} msg/s with a receipt "
                "per message (window 100, 1 bind)"
            )
            if mine is None:
                checks.append((name, None, "not measured"))
            else:
                rate = mine["rate"]
                checks.append((name, rate >= TARGET_DISTINCT_RECEIPT_RATE, f"{rate:,.0f} msg/s"))
        else:
            rates = [ours((1, w, False, False)) for w in (100, 1000)]
            name = (
                f"identical texts: >= {TARGET_IDENTICAL_RATE:,.0f} msg/s (windows 100 and "
                "1000, 1 bind)"
            )
            measured = [r["rate"] for r in rates if r is not None]
            if not measured:
                checks.append((name, None, "not measured"))
            else:
                detail = " / ".join(f"{r:,.0f}" for r in measured) + " msg/s"
                passed = len(measured) == 2 and min(measured) >= TARGET_IDENTICAL_RATE
                if len(measured) < 2:
                    detail += " (one window only: not a verdict)"
                checks.append((name, passed if len(measured) == 2 else None, detail))
    name = (
        f"send_many of 1,000,000 lazily generated distinct messages at peak RSS < "
        f"{TARGET_MILLION_RSS_MB:g} MB"
    )
    if million is None:
        checks.append((name, None, "not measured"))
    elif not million.get("ok"):
        checks.append((name, False, million.get("reason", "failed")))
    else:
        n = million["messages"]
        passed = million["maxrss_mb"] < TARGET_MILLION_RSS_MB
        detail = f"{million['maxrss_mb']:.1f} MB for {n:,} messages at {million['rate']:,.0f}/s"
        if n < 1_000_000:
            detail += " (fewer than 1,000,000: not a verdict)"
            checks.append((name, None, detail))
        else:
            checks.append((name, passed, detail))
    return checks


def render_markdown(figures: dict[str, Any]) -> str:
    """Markdown tables (for docs/performance.md) from the ``--json`` figures of a run (older
    files without a per-cell text kind read as their run's ``vary_text`` setting)."""
    labels = CLIENT_LABELS
    vary = bool(figures.get("settings", {}).get("vary_text", False))
    cells = [dict(c, distinct=c.get("distinct", vary)) for c in figures["cells"]]

    def cell_text(row: dict[str, Any] | None) -> str:
        if row is None:
            return "-"
        if not row.get("ok"):
            return "n/a"
        return f"{row['rate']:,.0f} ({row['cpu_us']:.0f})"

    lines: list[str] = []
    for distinct in (False, True):
        texts = "distinct texts" if distinct else "identical texts"
        for receipts in (False, True):
            group = [c for c in cells if c["receipts"] == receipts and c["distinct"] == distinct]
            if not group:
                continue
            what = "with a delivery receipt per message" if receipts else "submit_sm -> resp"
            lines.append(f"{texts}, {what}, msg/s (client CPU us per message):\n")
            heads = [
                f"{c['binds']} bind{'s' if c['binds'] > 1 else ''} w{c['window']}" for c in group
            ]
            lines.append("| client | " + " | ".join(heads) + " |")
            lines.append("|---" * (len(heads) + 1) + "|")
            keys = [key for key in CLIENT_LABELS if any(key in c["clients"] for c in group)]
            for key in keys:
                row = [cell_text(c["clients"].get(key)) for c in group]
                lines.append(f"| {labels[key]} | " + " | ".join(row) + " |")
            lines.append("")
    rss = {
        key: [c["clients"][key]["maxrss_mb"] for c in cells if c["clients"].get(key, {}).get("ok")]
        for key in CLIENT_LABELS
    }
    lines.append(
        "Peak RSS (MB, whole client process): "
        + "; ".join(f"{labels[k]} {min(v):.0f}-{max(v):.0f}" for k, v in rss.items() if v)
        + "\n"
    )
    million = figures.get("million")
    if million and million.get("ok"):
        lines.append(
            f"`send_many` of {million['messages']:,} lazily generated distinct messages "
            f"(1 bind, w1000): {million['rate']:,.0f} msg/s, {million['cpu_us']:.1f} us CPU per "
            f"message, peak RSS {million['maxrss_mb']:.1f} MB.\n"
        )
    lines.append("| target | measured | verdict |")
    lines.append("|---|---|---|")
    for target in figures.get("targets", []):
        verdict = {True: "PASS", False: "FAIL", None: "n/a"}[target["passed"]]
        lines.append(f"| {target['target']} | {target['detail']} | {verdict} |")
    stages = figures.get("breakdown_us") or {}
    where = figures.get("breakdown_where") or {}
    if stages:
        lines.append("\n| stage (in isolation, no I/O) | us per message | code |")
        lines.append("|---|---|---|")
        for stage, value in stages.items():
            shown = f"{value:.2f}" if isinstance(value, float) else str(value)
            lines.append(f"| {stage.strip()} | {shown} | {where.get(stage, '')} |")
    return "\n".join(lines) + "\n"
