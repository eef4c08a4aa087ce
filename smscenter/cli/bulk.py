"""The bulk job behind ``smscenter bulk``: recipients in, one result row per message out.

Input is CSV: ``phone[,text]`` rows, or phone-only rows with a text template. A first row whose
first cell has no digit is a header; then the columns are found by name (``phone``; ``text`` or
``message``; ``client_id`` or ``id``: the row's own client id) and every column can be used in
the template as ``{column}``.

The result file is CSV too, appended to as the job runs and flushed row by row::

    row,phone,outcome,message_id,parts,client_id,error

``row`` is the recipient's 1-based data row in the input. ``client_id`` is the id an HTTP send
carried (send.php ``id``), so a later run can ask status.php whether a message of unknown
outcome went out (:func:`settle`). ``outcome`` is one of:

* ``pending``: handed to the transport, no answer recorded yet (a run that was killed leaves
  these behind: the message may or may not have gone out);
* ``sent``: the provider acknowledged it (``message_id`` and ``parts`` are set);
* ``failed``: refused or never written (``error`` says why; ``NotSent`` when the job stopped
  before writing it); sending it again is safe;
* ``unknown``: written, never answered: it may have gone out (``error`` says why).

The last row for a given ``row`` wins. A resumed run first settles the ``pending`` and
``unknown`` rows that carry a client id through status.php: found ones become ``sent``, missing
ones ``failed``. Then it skips ``sent`` rows, and the still ``pending`` and ``unknown`` ones too
unless ``resend_unknown`` is set (a resend could deliver twice); ``failed`` rows and rows not in
the file yet are sent.

This module has no click or rich dependency; the CLI and the demo drive it through
:func:`run_bulk` and read :class:`BulkProgress` for their displays. It is the job itself (the run,
its counters, settling); the files are read and written in :mod:`smscenter.cli.bulk_files` and
the transports are in :mod:`smscenter.cli.bulk_senders`. Import any of their names from here.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Final

import anyio
import attrs

from smscenter import exceptions as exc
from smscenter.cli.bulk_files import ID_COLUMNS as ID_COLUMNS
from smscenter.cli.bulk_files import RESULT_HEADER as RESULT_HEADER
from smscenter.cli.bulk_files import (
    BulkError,
    Outcome,
    Plan,
    Recipient,
    ResultFile,
    ResultRow,
    plan,
    read_recipients,
)
from smscenter.cli.bulk_senders import (
    BulkSender,
    HTTPBulkSender,
    NotSent,
    SMPPBulkSender,
    _row,
    http_outcome,
    smpp_outcome,
)
from smscenter.cli.bulk_senders import Item as Item
from smscenter.cli.bulk_senders import OnResult as OnResult
from smscenter.cli.bulk_senders import _describe as _describe
from smscenter.http.client import HTTPClient
from smscenter.models import Message, MessageStatus

# Besides these, ``ID_COLUMNS``, ``RESULT_HEADER``, ``Item``, ``OnResult`` and ``_describe`` are
# still imported from here (``X as X`` above).
__all__ = (
    "BulkError",
    "BulkProgress",
    "BulkSender",
    "HTTPBulkSender",
    "NotSent",
    "Outcome",
    "Plan",
    "Recipient",
    "ResultFile",
    "ResultRow",
    "SMPPBulkSender",
    "http_outcome",
    "plan",
    "read_recipients",
    "run_bulk",
    "settle",
    "smpp_outcome",
)

# Errors after which every further message would fail the same way: the job stops. A
# ConnectError comes after the client tried every host it knows: nothing of it went out, and a
# rerun sends those rows again.
FATAL_ERRORS: Final = (
    exc.ConnectError,
    exc.AuthenticationError,
    exc.IPBlockedError,
    exc.InsufficientFundsError,
)


@attrs.define
class BulkProgress:
    """Live counters of a run (read by the progress display).

    ``sent`` counts messages handed to the transport; each ends as ``acknowledged``,
    ``failed`` or ``unknown``. ``invalid`` rows (a bad phone, say) were never handed over, and
    ``not_sent`` ones were taken back unwritten when the job stopped (they no longer count as
    ``sent``). Rows the job never reached are in none of them.
    """

    total: int
    already_sent: int = 0
    skipped_unknown: int = 0
    invalid: int = 0
    not_sent: int = 0
    sent: int = 0
    acknowledged: int = 0
    failed: int = 0
    unknown: int = 0
    parts: int = 0
    started: float = attrs.field(factory=time.monotonic)
    finished: float | None = None
    fatal: BaseException | None = None
    stopped: bool = False
    errors: dict[str, int] = attrs.field(factory=dict)
    #: Live counters of the transport, when it has them (SMPP): submits answered with
    #: throttling, and messages still waiting in its queue for a bind or the rate limit.
    throttled: Callable[[], int] | None = None
    queued: Callable[[], int] | None = None

    @property
    def done(self) -> int:
        """Messages with a final outcome in this run."""
        return self.acknowledged + self.failed + self.unknown

    @property
    def elapsed(self) -> float:
        """Seconds since the run started (until it finished)."""
        end = self.finished if self.finished is not None else time.monotonic()
        return max(end - self.started, 1e-9)

    @property
    def rate(self) -> float:
        """Acknowledged messages per second so far."""
        return self.acknowledged / self.elapsed

    def record(self, outcome: Outcome, error: str = "", parts: int | None = None) -> None:
        """Count one final outcome."""
        if outcome is Outcome.SENT:
            self.acknowledged += 1
            self.parts += parts or 0
        elif outcome is Outcome.FAILED:
            self.failed += 1
        else:
            self.unknown += 1
        if error:
            kind = error.split(":", 1)[0]
            self.errors[kind] = self.errors.get(kind, 0) + 1


async def run_bulk(
    todo: Iterable[Recipient],
    sender: BulkSender,
    progress: BulkProgress,
    *,
    results: ResultFile | None = None,
    stop: anyio.Event | None = None,
    sender_name: str | None = None,
    on_sent: Callable[[Recipient, ResultRow], None] | None = None,
) -> BulkProgress:
    """Send ``todo`` through ``sender``, recording every outcome in ``results``.

    Setting ``stop`` stops taking new messages; those already handed over still finish (and are
    recorded). A fatal error (bad credentials, blocked IP, no money) sets ``stop`` too and is
    kept in :attr:`BulkProgress.fatal`.

    :param sender_name: the sender name put on every message.
    :param on_sent: called for every acknowledged message (the demo tracks receipts with it).
    """
    stop = stop if stop is not None else anyio.Event()
    client_ids: dict[int, str] = {}

    def record(recipient: Recipient, row: ResultRow, error: BaseException | None) -> None:
        cid = client_ids.pop(recipient.row, None)
        if cid is not None:
            row = attrs.evolve(row, client_id=cid)
        if results is not None:
            results.write(row)
        if isinstance(error, NotSent):
            # Given back unwritten: "failed" in the file (the next run sends it), and no
            # longer counted as sent.
            progress.not_sent += 1
            progress.sent -= 1
            return
        progress.record(row.outcome, row.error, row.parts)
        if row.outcome is Outcome.SENT and on_sent is not None:
            on_sent(recipient, row)
        if error is not None and isinstance(error, FATAL_ERRORS) and progress.fatal is None:
            progress.fatal = error
            stop.set()

    async def items() -> AsyncIterator[Item]:
        for recipient in todo:
            if stop.is_set():
                progress.stopped = progress.fatal is None
                return
            cid = recipient.client_id or sender.client_id(recipient)
            try:
                message = Message(
                    to=recipient.phone, text=recipient.text, sender=sender_name, client_id=cid
                )
            except (ValueError, TypeError) as error:
                # Never handed over: record it here, it does not count as sent.
                row = _row(recipient, Outcome.FAILED, error=_describe(error))
                if results is not None:
                    results.write(row)
                progress.invalid += 1
                progress.errors["invalid row"] = progress.errors.get("invalid row", 0) + 1
                continue
            if cid is not None:
                client_ids[recipient.row] = cid
            if results is not None:
                results.write(_row(recipient, Outcome.PENDING, client_id=cid or ""))
            progress.sent += 1
            yield recipient, message

    try:
        await sender.run(items(), record, stop)
    finally:
        progress.finished = time.monotonic()
    return progress


#: At most this many rows are settled per run: one status.php list request (the provider allows
#: one such request a minute).
SETTLE_LIMIT: Final = 500


async def settle(client: HTTPClient, previous: dict[int, ResultRow]) -> list[ResultRow]:
    """Ask status.php, by client id, about rows whose outcome is unknown.

    A message the provider has becomes ``sent`` (with its id); one it has not becomes
    ``failed`` (it never went out, so sending it is safe). Rows without a client id (SMPP) are
    left alone. At most :data:`SETTLE_LIMIT` rows, in one request.

    :returns: the settled rows (to append to the result file).
    :raises smscenter.SMSCenterError: the status request failed (nothing is settled).
    """
    open_rows = [
        row
        for row in previous.values()
        if row.outcome in (Outcome.PENDING, Outcome.UNKNOWN) and row.client_id
    ][:SETTLE_LIMIT]
    if not open_rows:
        return []
    pairs = [(row.client_id, re.sub(r"[^\d+]", "", row.phone)) for row in open_rows]
    reports = await client.status_many(pairs, detail=1)
    settled = []
    for row, report in zip(open_rows, reports, strict=False):
        if report.status is MessageStatus.NOT_FOUND:
            error = "not at the provider: it never went out"
            settled.append(attrs.evolve(row, outcome=Outcome.FAILED, error=error))
        else:
            settled.append(
                attrs.evolve(
                    row,
                    outcome=Outcome.SENT,
                    message_id=report.message_id,
                    parts=report.parts,
                    error="",
                )
            )
    return settled
