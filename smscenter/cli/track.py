"""What a message store says about a campaign: the ``report`` verb and ``status --store``.

Both read a store file (:class:`~smscenter.store.SQLiteStore`) that ``smscenter bulk --store``
(or any program using ``store=``) wrote, and never send anything. :func:`summarize` does the
reading (no click or rich here); :func:`render_summary` and :func:`render_record` build the
rich tables the commands print.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Final

import attrs
from rich import box
from rich.console import Group, RenderableType
from rich.table import Table

from smscenter.store import MessageStore, TrackedMessage, TrackedState

__all__ = (
    "PROBLEM_STATES",
    "STATE_ORDER",
    "CampaignSummary",
    "StoreMissing",
    "open_store",
    "record_json",
    "render_record",
    "render_summary",
    "summarize",
    "summary_json",
)

#: The states in the order a message goes through them (the tables list them so).
STATE_ORDER: Final = (
    TrackedState.QUEUED,
    TrackedState.SENDING,
    TrackedState.ACCEPTED,
    TrackedState.DELIVERED,
    TrackedState.READ,
    TrackedState.EXPIRED,
    TrackedState.UNDELIVERABLE,
    TrackedState.REFUSED,
    TrackedState.FAILED,
    TrackedState.UNKNOWN,
)

#: The states listed as failures: refused or failed sends, messages of unknown outcome (they
#: may have gone out; ``bulk --resend-unknown`` sends them again), and reports that said the
#: operator could not deliver.
PROBLEM_STATES: Final = frozenset(
    {
        TrackedState.REFUSED,
        TrackedState.FAILED,
        TrackedState.UNKNOWN,
        TrackedState.EXPIRED,
        TrackedState.UNDELIVERABLE,
    }
)

_STATE_STYLE: Final = {
    TrackedState.ACCEPTED: "cyan",
    TrackedState.DELIVERED: "green",
    TrackedState.READ: "green",
    TrackedState.EXPIRED: "red",
    TrackedState.UNDELIVERABLE: "red",
    TrackedState.REFUSED: "red",
    TrackedState.FAILED: "red",
    TrackedState.UNKNOWN: "yellow",
}


class StoreMissing(FileNotFoundError):
    """The store file named does not exist (a report never creates one)."""


def open_store(path: Path) -> AbstractAsyncContextManager[MessageStore]:
    """Open an existing SQLite store for reading (``async with open_store(path) as store``).

    :raises StoreMissing: there is no file at ``path`` (checked now, not on entering).
    """
    if not path.is_file():
        raise StoreMissing(
            f"no message store at {path} (bulk --store writes one; by default beside the "
            "source file, SOURCE.smsc.db)"
        )
    return _opened(path)


@asynccontextmanager
async def _opened(path: Path) -> AsyncIterator[MessageStore]:
    from smscenter.store import SQLiteStore

    # Read-only: a report changes nothing (no recovery, no retention run).
    async with SQLiteStore(path, read_only=True) as store:
        yield store


@attrs.frozen(kw_only=True)
class CampaignSummary:
    """A campaign as its store has it.

    :ivar counts: records per state (states with none left out).
    :ivar total: records in the store.
    :ivar cost: the sum of the known costs; ``priced`` records had one.
    :ivar parts: SMS parts of the records that know theirs.
    :ivar failures: the first records in :data:`PROBLEM_STATES`, oldest first.
    """

    counts: Mapping[TrackedState, int]
    total: int
    cost: Decimal
    priced: int
    parts: int
    failures: tuple[TrackedMessage, ...]

    @property
    def problems(self) -> int:
        """How many records are in :data:`PROBLEM_STATES` (all, not only those listed)."""
        return sum(n for state, n in self.counts.items() if state in PROBLEM_STATES)

    @property
    def accepted(self) -> int:
        """How many records the provider is known to have (accepted, or reported on)."""
        return sum(n for state, n in self.counts.items() if state.was_accepted)


async def summarize(store: MessageStore, *, failures: int = 10) -> CampaignSummary:
    """Count the store's records by state, add up cost and parts, and take the first
    ``failures`` records in :data:`PROBLEM_STATES` (one pass over the records)."""
    counts = dict(await store.counts())
    cost = Decimal(0)
    priced = parts = 0
    listed: list[TrackedMessage] = []
    async for record in store.records():
        if record.cost is not None:
            cost += record.cost
            priced += 1
        if record.parts is not None and record.state.was_accepted:
            parts += record.parts
        if record.state in PROBLEM_STATES and len(listed) < failures:
            listed.append(record)
    return CampaignSummary(
        counts=counts,
        total=sum(counts.values()),
        cost=cost,
        priced=priced,
        parts=parts,
        failures=tuple(listed),
    )


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _state_text(state: TrackedState) -> str:
    style = _STATE_STYLE.get(state)
    return f"[{style}]{state.value}[/]" if style else state.value


def _why(record: TrackedMessage) -> str:
    if record.error:
        return record.error
    if record.delivery_error is not None and int(record.delivery_error):
        return f"{record.delivery_error.name.lower()} ({int(record.delivery_error)})"
    if record.status is not None:
        return f"reported {record.status.value}"
    return "-"


def render_summary(
    summary: CampaignSummary, *, title: str, with_failures: bool = True
) -> RenderableType:
    """The counts by state (with shares), totals and cost, and the failures table."""
    table = Table(title=title, box=box.SIMPLE_HEAVY, title_justify="left")
    table.add_column("state", style="bold")
    table.add_column("messages", justify="right")
    table.add_column("share", justify="right")
    for state in STATE_ORDER:
        count = summary.counts.get(state, 0)
        if count:
            share = f"{100 * count / summary.total:.1f}%" if summary.total else "-"
            table.add_row(_state_text(state), str(count), share)
    table.add_section()
    table.add_row("total", str(summary.total), "")
    totals = Table(box=box.SIMPLE, show_header=False, pad_edge=False)
    totals.add_column(style="bold")
    totals.add_column(justify="right")
    totals.add_row("accepted by the provider", str(summary.accepted))
    totals.add_row("SMS parts", str(summary.parts))
    cost = f"{summary.cost}" + (
        f" ({summary.priced} of {summary.total} priced)" if summary.priced < summary.total else ""
    )
    totals.add_row("cost", cost)
    totals.add_row("failures", str(summary.problems))
    parts: list[RenderableType] = [table, totals]
    if with_failures and summary.failures:
        shown = len(summary.failures)
        failed = Table(
            title=f"failures (first {shown} of {summary.problems})"
            if shown < summary.problems
            else "failures",
            box=box.SIMPLE,
            title_justify="left",
        )
        failed.add_column("client id")
        failed.add_column("recipient")
        failed.add_column("state")
        failed.add_column("error", overflow="fold")
        for record in summary.failures:
            failed.add_row(
                record.client_id, record.recipient, _state_text(record.state), _why(record)
            )
        parts.append(failed)
    return Group(*parts)


def render_record(record: TrackedMessage) -> RenderableType:
    """One record and its report history."""
    rows: list[tuple[str, object]] = [
        ("client id", record.client_id),
        ("recipient", record.recipient),
        ("state", _state_text(record.state)),
        ("transport", record.transport.value if record.transport is not None else None),
        ("message id", record.message_id),
        ("part ids", ", ".join(record.part_ids) if len(record.part_ids) > 1 else None),
        ("parts", record.parts),
        ("cost", record.cost),
        ("error", _why(record) if record.state in PROBLEM_STATES else None),
        ("attempts", record.attempts),
        ("recorded at", _when(record.created_at)),
        ("accepted at", _when(record.accepted_at)),
        ("finished at", _when(record.finished_at)),
    ]
    table = Table(box=box.SIMPLE, show_header=False, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows:
        if value is not None:
            table.add_row(key, str(value))
    if not record.reports:
        return table
    history = Table(title="reports", box=box.SIMPLE, title_justify="left")
    for name in ("received at", "status", "error", "message id"):
        history.add_column(name)
    for report in record.reports:
        error = report.error.name.lower() if int(report.error) else ""
        history.add_row(
            _when(report.received_at), report.status.value, error, report.message_id or "-"
        )
    return Group(table, history)


def summary_json(summary: CampaignSummary, store: Path) -> dict[str, object]:
    """The summary as plain JSON-able data (``--json``)."""
    return {
        "store": str(store),
        "total": summary.total,
        "states": {s.value: summary.counts[s] for s in STATE_ORDER if s in summary.counts},
        "accepted": summary.accepted,
        "parts": summary.parts,
        "cost": str(summary.cost),
        "priced": summary.priced,
        "failures": summary.problems,
        "first_failures": [
            {
                "client_id": r.client_id,
                "recipient": r.recipient,
                "state": r.state.value,
                "error": _why(r),
            }
            for r in summary.failures
        ],
    }


def record_json(record: TrackedMessage) -> dict[str, object]:
    """One record as plain JSON-able data (``status --store ... CLIENT_ID --json``)."""
    return {
        "client_id": record.client_id,
        "recipient": record.recipient,
        "state": record.state.value,
        "final": record.state.is_final,
        "transport": record.transport.value if record.transport is not None else None,
        "message_id": record.message_id,
        "part_ids": list(record.part_ids),
        "parts": record.parts,
        "cost": None if record.cost is None else str(record.cost),
        "error": record.error,
        "status": None if record.status is None else record.status.value,
        "attempts": record.attempts,
        "created_at": record.created_at.isoformat(),
        "accepted_at": None if record.accepted_at is None else record.accepted_at.isoformat(),
        "finished_at": None if record.finished_at is None else record.finished_at.isoformat(),
        "reports": [
            {
                "status": r.status.value,
                "error": int(r.error),
                "message_id": r.message_id,
                "received_at": r.received_at.isoformat(),
            }
            for r in record.reports
        ],
    }
