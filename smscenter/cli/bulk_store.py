"""``smscenter bulk`` over a message store: client ids, the plan of a (resumed) run, the export.

With a store (the default: ``SOURCE.smsc.db`` beside the source file), the store is what a
rerun resumes from, not the result file:

* every row needs a client id (the store's key). A row takes its own from an ``id`` or
  ``client_id`` column; otherwise it gets ``<source name>-<row>`` (:func:`derived_client_id`),
  the same on every run of the same file. Editing the file so that rows move makes a row's id
  name another phone: the run refuses (:func:`plan_from_store`), as it does for a result file
  of another list;
* over HTTP, :func:`settle_unknown_http` first asks the provider (status.php, by client id)
  about the sends the store has as of unknown outcome;
* :func:`plan_from_store` skips what the store has as accepted (or reported on), refused, or of
  unknown outcome (unless asked to resend those), and sends the rest; the transports given
  ``store=`` record every send before it goes out, so a kill at any point leaves the store
  right;
* the result CSV is still written as the run goes, and once it ends :func:`export_results`
  rewrites it whole from the store: one line per row, the store's view.

No click or rich here; :mod:`smscenter.cli.bulk_run` drives it.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Final

import attrs

from smscenter._provider import Transport
from smscenter.cli.bulk import (
    RESULT_HEADER,
    SETTLE_LIMIT,
    BulkError,
    Outcome,
    Recipient,
    ResultRow,
    _describe,
)
from smscenter.exceptions import SMSCenterError
from smscenter.http.client import HTTPClient
from smscenter.models import MessageStatus
from smscenter.store import (
    MessageStore,
    Settlement,
    StoreError,
    TrackedMessage,
    TrackedState,
    store_key,
)

__all__ = (
    "STORE_SUFFIX",
    "StorePlan",
    "default_store_path",
    "derived_client_id",
    "describe_client_ids",
    "export_results",
    "load_records",
    "outcome_of",
    "plan_from_store",
    "read_records",
    "read_store",
    "settle_unknown_http",
    "with_client_ids",
)

#: The default store of ``bulk SOURCE`` is ``SOURCE`` + this suffix, beside it.
STORE_SUFFIX: Final = ".smsc.db"
# A client id is 1 to 40 of these (the provider's send.php ``id``; Message.client_id checks).
_ID_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_NAME_MAX = 30  # leaves room for "-" and a row number of up to 9 digits


def default_store_path(source_name: str, out_path: Path) -> Path:
    """``SOURCE.smsc.db`` beside the source file; for stdin, beside the result file."""
    if source_name in ("-", "<stdin>"):
        return out_path.with_name(out_path.name + STORE_SUFFIX)
    source = Path(source_name)
    return source.with_name(source.name + STORE_SUFFIX)


def derived_client_id(source_name: str, row: int) -> str:
    """The client id of data row ``row`` of a source without an id column:
    ``<file name without extension>-<row>``, the name cut to 30 characters of
    ``[A-Za-z0-9._-]`` (``stdin`` for standard input): stable across runs of the same file."""
    if source_name in ("-", "<stdin>"):
        stem = "stdin"
    else:
        stem = _ID_CHARS.sub("_", Path(source_name).stem).strip("._-") or "row"
    return f"{stem[:_NAME_MAX]}-{row}"


def with_client_ids(recipients: Iterable[Recipient], source_name: str) -> list[Recipient]:
    """Every recipient with a client id: its own, or :func:`derived_client_id`.

    :raises BulkError: two rows have the same client id.
    """
    out: list[Recipient] = []
    seen: dict[str, int] = {}
    for recipient in recipients:
        cid = recipient.client_id or derived_client_id(source_name, recipient.row)
        key = store_key(cid)
        if key in seen:
            raise BulkError(
                f"rows {seen[key]} and {recipient.row} have the same client id {key!r}; "
                "every row needs its own to be tracked in the store"
            )
        seen[key] = recipient.row
        if recipient.client_id != cid:
            recipient = attrs.evolve(recipient, client_id=cid)
        out.append(recipient)
    return out


async def read_records(store: MessageStore) -> dict[str, TrackedMessage]:
    """Every record of the store, by client id (one pass, without report history)."""
    return {record.client_id: record async for record in store.records()}


async def read_store(path: Path) -> dict[str, TrackedMessage]:
    """:func:`read_records` of the SQLite store at ``path``, opened read-only."""
    from smscenter.store import SQLiteStore

    async with SQLiteStore(path, read_only=True) as store:
        return await read_records(store)


async def load_records(
    path: Path,
    open_http: Callable[[], HTTPClient] | None,
    say: Callable[[str], None],
) -> dict[str, TrackedMessage]:
    """The records of the SQLite store at ``path`` for planning a run; with ``open_http`` (an
    HTTP run), the sends of unknown outcome are settled through status.php first
    (:func:`settle_unknown_http`), and ``say`` tells what came of it.

    :raises smscenter.store.StoreError: the store cannot be read or written.
    """
    from smscenter.store import SQLiteStore

    async with SQLiteStore(path) as store:
        records = await read_records(store)
        if open_http is None or not any(r.state is TrackedState.UNKNOWN for r in records.values()):
            return records
        async with open_http() as api:
            try:
                went, not_gone = await settle_unknown_http(api, store, records)
            except SMSCenterError as error:
                if isinstance(error, StoreError):
                    raise
                say(f"could not settle the messages of unknown outcome ({_describe(error)})")
                return records
        if went or not_gone:
            say(
                f"settled {went + not_gone} messages of unknown outcome through status.php: "
                f"{went} had gone out, {not_gone} had not (they are sent now)"
            )
        return records


def describe_client_ids(recipients: list[Recipient], own: int) -> str:
    """How the rows got their client ids, for the run's first line (``own``: how many rows
    had an id column's value)."""
    if recipients and own == len(recipients):
        return "the id column"
    example = next((r.client_id for r in recipients if r.client_id), "")
    text = f"<file name>-<row>, e.g. {example}" if example else "<file name>-<row>"
    return text + (f" ({own} rows have their own id)" if own else "")


async def settle_unknown_http(
    api: HTTPClient, store: MessageStore, records: dict[str, TrackedMessage]
) -> tuple[int, int]:
    """Ask status.php, by client id, about the HTTP sends the store has as unknown, and settle
    their records: one the provider has becomes accepted (with its id), one it has not becomes
    failed (it never went out: the run sends it). At most :data:`SETTLE_LIMIT` in one request;
    ``records`` is updated in place.

    :returns: how many had gone out, and how many had not.
    :raises smscenter.SMSCenterError: the status request failed (nothing is settled).
    :raises smscenter.store.StoreError: the store could not record it.
    """
    open_records = [
        r
        for r in records.values()
        if r.state is TrackedState.UNKNOWN and r.transport is Transport.HTTP
    ][:SETTLE_LIMIT]
    if not open_records:
        return 0, 0
    pairs = [(r.client_id, _digits(r.recipient)) for r in open_records]
    reports = await api.status_many(pairs, detail=1)
    settlements: list[Settlement] = []
    for record, report in zip(open_records, reports, strict=False):
        if report.status is MessageStatus.NOT_FOUND:
            gone = SMSCenterError(
                f"the provider holds no message with client id {record.client_id}: it was not sent"
            )
            settlements.append(Settlement.failed(record.client_id, gone))
        else:
            settlements.append(
                Settlement(
                    client_id=record.client_id,
                    state=TrackedState.ACCEPTED,
                    message_id=report.message_id,
                    parts=report.parts,
                    cost=report.cost,
                )
            )
    await store.settle(settlements)
    for settlement in settlements:
        records[settlement.client_id] = attrs.evolve(
            records[settlement.client_id],
            state=settlement.state,
            message_id=settlement.message_id,
            parts=settlement.parts,
            error=settlement.error,
        )
    went = sum(1 for s in settlements if s.state is TrackedState.ACCEPTED)
    return went, len(settlements) - went


@attrs.frozen(kw_only=True)
class StorePlan:
    """What a run over a store sends, and what it skips (with the records that say why)."""

    todo: list[Recipient]
    already_sent: int = 0
    skipped_unknown: int = 0
    skipped_refused: int = 0


def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)


def plan_from_store(
    recipients: Iterable[Recipient],
    records: Mapping[str, TrackedMessage],
    *,
    resend_unknown: bool,
) -> StorePlan:
    """Decide which recipients a run sends, given the store's records.

    Sent: rows the store does not have, and those it has as queued or failed (nothing went
    out). Skipped: accepted or reported on, refused by the provider (a definite answer), and of
    unknown outcome (written, never answered; a record left ``sending`` by a killed process is
    one) unless ``resend_unknown``.

    :raises BulkError: a record's recipient is not the row's phone (the store belongs to
        another list, or rows moved in the file).
    """
    todo: list[Recipient] = []
    already = unknown = refused = 0
    for recipient in recipients:
        assert recipient.client_id is not None, "with_client_ids() first"
        record = records.get(store_key(recipient.client_id))
        if record is None:
            todo.append(recipient)
            continue
        if _digits(record.recipient) != _digits(recipient.phone):
            raise BulkError(
                f"the message store does not match this input: client id {record.client_id} "
                f"(row {recipient.row}) was sent to {record.recipient}, this row is "
                f"{recipient.phone}; use another --store for another list"
            )
        state = record.state
        if state.was_accepted:
            already += 1
        elif state is TrackedState.REFUSED:
            refused += 1
        elif state in (TrackedState.UNKNOWN, TrackedState.SENDING) and not resend_unknown:
            unknown += 1
        else:
            todo.append(recipient)
    return StorePlan(
        todo=todo, already_sent=already, skipped_unknown=unknown, skipped_refused=refused
    )


def outcome_of(state: TrackedState) -> Outcome:
    """The result file's outcome for a store state."""
    if state.was_accepted:
        return Outcome.SENT
    if state in (TrackedState.REFUSED, TrackedState.FAILED):
        return Outcome.FAILED
    if state is TrackedState.QUEUED:
        return Outcome.PENDING
    return Outcome.UNKNOWN  # unknown, or sending in a process that stopped


def export_results(
    path: Path,
    recipients: Iterable[Recipient],
    records: Mapping[str, TrackedMessage],
    written: Mapping[int, ResultRow],
) -> int:
    """Rewrite the result file from the store: one line per row, the store's view where it
    has the row, else the line the run wrote (a row never handed over: an invalid phone).

    Written to a temporary file and renamed over the old one, so a crash leaves either.

    :returns: the number of lines written.
    """
    lines: list[ResultRow] = []
    for recipient in recipients:
        record = records.get(store_key(recipient.client_id)) if recipient.client_id else None
        if record is None:
            row = written.get(recipient.row)
            if row is not None:
                lines.append(row)
            continue
        outcome = outcome_of(record.state)
        lines.append(
            ResultRow(
                row=recipient.row,
                phone=recipient.phone,
                outcome=outcome,
                message_id=record.message_id or "",
                parts=record.parts if outcome is Outcome.SENT else None,
                client_id=record.client_id,
                error=(record.error or "") if outcome is not Outcome.SENT else "",
            )
        )
    temporary = path.with_name(path.name + ".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    with temporary.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(RESULT_HEADER)
        for row in lines:
            parts = "" if row.parts is None else str(row.parts)
            writer.writerow(
                (row.row, row.phone, row.outcome.value, row.message_id, parts, row.client_id,
                 row.error)
            )  # fmt: skip
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    return len(lines)
