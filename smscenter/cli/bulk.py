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
:func:`run_bulk` and read :class:`BulkProgress` for their displays.
"""

from __future__ import annotations

import csv
import enum
import io
import logging
import re
import secrets
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable
from contextlib import aclosing
from pathlib import Path
from typing import Final, Protocol, TextIO, cast

import anyio
import attrs

from smscenter import exceptions as exc
from smscenter.http.client import HTTPClient
from smscenter.models import Message, MessageStatus
from smscenter.smpp.client.pool import SMPPPool
from smscenter.smpp.client.results import SendOutcome

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

logger = logging.getLogger(__name__)

RESULT_HEADER: Final = ("row", "phone", "outcome", "message_id", "parts", "client_id", "error")
#: Header names of an input column holding each row's own client id.
ID_COLUMNS: Final = ("client_id", "id")

# Errors after which every further message would fail the same way: the job stops. A
# ConnectError comes after the client tried every host it knows: nothing of it went out, and a
# rerun sends those rows again.
FATAL_ERRORS: Final = (
    exc.ConnectError,
    exc.AuthenticationError,
    exc.IPBlockedError,
    exc.InsufficientFundsError,
)


class BulkError(Exception):
    """The input or the result file cannot be used (the message says where and why)."""


class NotSent(exc.SMSCenterError):
    """The job stopped (Ctrl-C, a fatal error) before this message was written: it did not go
    out, and the next run sends it."""


class Outcome(enum.Enum):
    """What is known about one message (the result file's ``outcome`` column)."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"


@attrs.frozen(kw_only=True)
class Recipient:
    """One input row: its 1-based data row number, the phone and the text to send, and its
    own client id when the input has an ``id`` (or ``client_id``) column."""

    row: int
    phone: str
    text: str
    client_id: str | None = None


@attrs.frozen(kw_only=True)
class ResultRow:
    """One line of the result file."""

    row: int
    phone: str
    outcome: Outcome
    message_id: str = ""
    parts: int | None = None
    client_id: str = ""
    error: str = ""


class _Fields(dict[str, str]):
    def __missing__(self, key: str) -> str:
        raise BulkError(f"the text template uses {{{key}}}, which is not a column of the input")


def _looks_like_header(cells: list[str]) -> bool:
    return bool(cells) and not any(c.isdigit() for c in cells[0])


def read_recipients(source: TextIO | Iterable[str], *, template: str | None) -> list[Recipient]:
    """Read the recipients CSV.

    :param template: the text for rows that have none; ``{phone}`` and, with a header row,
        ``{<column>}`` are filled in (``{{`` and ``}}`` for literal braces).
    :raises BulkError: a row has no text and there is no template, or the template names an
        unknown column.
    """
    reader = csv.reader(source)
    phone_col, text_col, id_col = 0, 1, -1
    names: list[str] | None = None
    out: list[Recipient] = []
    number = 0
    for line, cells in enumerate(reader, start=1):
        cells = [c.strip() for c in cells]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if names is None and number == 0 and _looks_like_header(cells):
            names = [c.lower() for c in cells]
            phone_col = names.index("phone") if "phone" in names else 0
            text_col = next((names.index(n) for n in ("text", "message") if n in names), -1)
            id_col = next((names.index(n) for n in ID_COLUMNS if n in names), -1)
            continue
        number += 1
        phone = cells[phone_col] if phone_col < len(cells) else ""
        client_id = cells[id_col] if 0 <= id_col < len(cells) and cells[id_col] else None
        text = cells[text_col] if 0 <= text_col < len(cells) else ""
        if not text:
            if template is None:
                raise BulkError(
                    f"line {line}: no text for {phone or 'this row'}; give a text column or "
                    "--text TEMPLATE"
                )
            fields = _Fields({"phone": phone})
            if names is not None:
                fields.update({n: c for n, c in zip(names, cells, strict=False) if n})
            try:
                text = template.format_map(fields)
            except (ValueError, IndexError) as error:
                raise BulkError(f"the text template is malformed: {error}") from None
        out.append(Recipient(row=number, phone=phone, text=text, client_id=client_id))
    return out


class _CSVWriter(Protocol):
    def writerow(self, row: Iterable[object], /) -> object: ...


class ResultFile:
    """The result CSV: read what an earlier run recorded, append what this run learns.

    Every row is flushed at once, so an interrupted run leaves a complete record.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: TextIO | None = None
        self._csv: _CSVWriter | None = None

    def read(self) -> dict[int, ResultRow]:
        """The last recorded row per input row (empty when the file does not exist).

        :raises BulkError: the file is not a result file.
        """
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        rows: dict[int, ResultRow] = {}
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if header is None:
            return rows
        if tuple(header) != RESULT_HEADER:
            raise BulkError(
                f"{self.path} is not a bulk result file (its header is not "
                f"{','.join(RESULT_HEADER)}); choose another --out"
            )
        for line, cells in enumerate(reader, start=2):
            if len(cells) != len(RESULT_HEADER):
                # The last line of a killed run may be cut short: it recorded nothing usable.
                logger.warning("bulk.result.skipped_line path=%s line=%d", self.path, line)
                continue
            try:
                row = ResultRow(
                    row=int(cells[0]),
                    phone=cells[1],
                    outcome=Outcome(cells[2]),
                    message_id=cells[3],
                    parts=int(cells[4]) if cells[4] else None,
                    client_id=cells[5],
                    error=cells[6],
                )
            except ValueError:
                raise BulkError(f"{self.path}, line {line}: not a result row") from None
            rows[row.row] = row
        return rows

    def open(self) -> None:
        """Open for appending (writing the header to a new or empty file)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists() or self.path.stat().st_size == 0
        file = self.path.open("a", encoding="utf-8", newline="")
        if not new:
            # A killed run may have left half a line: start ours on a fresh one.
            with self.path.open("rb") as check:
                check.seek(-1, 2)
                if check.read(1) not in (b"\n", b"\r"):
                    file.write("\r\n")
        self._file = file
        self._csv = csv.writer(file)
        if new:
            self._csv.writerow(RESULT_HEADER)
            file.flush()

    def write(self, row: ResultRow) -> None:
        """Append one row and flush it."""
        assert self._csv is not None and self._file is not None, "open() first"
        parts = "" if row.parts is None else str(row.parts)
        self._csv.writerow(
            (row.row, row.phone, row.outcome.value, row.message_id, parts, row.client_id, row.error)
        )
        self._file.flush()

    def close(self) -> None:
        """Close the file."""
        if self._file is not None:
            self._file.close()
            self._file = None
            self._csv = None


@attrs.frozen(kw_only=True)
class Plan:
    """What a (resumed) run will do: the recipients to send and what it skips."""

    todo: list[Recipient]
    already_sent: int = 0
    skipped_unknown: int = 0


def plan(
    recipients: list[Recipient], previous: dict[int, ResultRow], *, resend_unknown: bool
) -> Plan:
    """Decide which recipients a run sends, given the earlier results.

    :raises BulkError: the result file belongs to another input (a row's phone differs).
    """
    todo: list[Recipient] = []
    already = unknown = 0
    for recipient in recipients:
        done = previous.get(recipient.row)
        if done is None:
            todo.append(recipient)
            continue
        if done.phone != recipient.phone:
            raise BulkError(
                f"the result file does not match this input: row {recipient.row} was "
                f"{done.phone}, now {recipient.phone}; use another --out for another list"
            )
        if done.outcome is Outcome.SENT:
            already += 1
        elif done.outcome in (Outcome.PENDING, Outcome.UNKNOWN) and not resend_unknown:
            unknown += 1
        else:
            todo.append(recipient)
    return Plan(todo=todo, already_sent=already, skipped_unknown=unknown)


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


Item = tuple[Recipient, Message]
OnResult = Callable[[Recipient, ResultRow, BaseException | None], None]


class BulkSender(Protocol):
    """A transport for :func:`run_bulk`: sends the items, reports each one's outcome."""

    def client_id(self, recipient: Recipient) -> str | None:
        """The client id to send ``recipient``'s message with (``None``: none)."""
        ...

    async def run(
        self, items: AsyncIterator[Item], on_result: OnResult, stop: anyio.Event | None = None
    ) -> None:
        """Send every item, calling ``on_result`` once per item handed over. Once ``stop`` is
        set, items taken but not yet written may be given back with a :class:`NotSent`
        error."""
        ...


def _describe(error: BaseException) -> str:
    text = str(error).replace("\n", " ").strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _row(recipient: Recipient, outcome: Outcome, **kw: object) -> ResultRow:
    return ResultRow(row=recipient.row, phone=recipient.phone, outcome=outcome, **kw)  # type: ignore[arg-type]


def http_outcome(error: BaseException) -> Outcome:
    """Whether an HTTP send that raised may have gone out.

    A connection never made or a request slot never got means nothing was sent; an answer lost
    on the wire (timeout after sending, connection dropped, garbage back) may hide an accepted
    send.
    """
    if isinstance(error, exc.ConnectError | exc.ConnectTimeout | exc.PoolTimeout):
        return Outcome.FAILED
    if isinstance(error, exc.UnknownOutcomeError | exc.TransportError | exc.RemoteProtocolError):
        return Outcome.UNKNOWN
    return Outcome.FAILED


def smpp_outcome(error: BaseException) -> Outcome:
    """Whether an SMPP send that failed may have gone out (see :class:`SMPPPool`): only an
    :class:`~smscenter.exceptions.UnknownOutcomeError` may hide an accepted message."""
    return Outcome.UNKNOWN if isinstance(error, exc.UnknownOutcomeError) else Outcome.FAILED


@attrs.define
class HTTPBulkSender:
    """Sends over :class:`HTTPClient`, ``concurrency`` requests at a time (one message each)."""

    client: HTTPClient
    concurrency: int = 5
    #: With a store: send messages the store has as of unknown outcome again (the client's
    #: store refuses them otherwise).
    resend_unknown: bool = False
    #: Makes this run's client ids unique: ``b<tag>-<row>`` (send.php ``id``: up to 40 of
    #: ``[A-Za-z0-9._-]``).
    tag: str = attrs.field(factory=lambda: secrets.token_hex(4))

    def client_id(self, recipient: Recipient) -> str:
        """``b<run tag>-<row>``: lets a later run find the message by status.php."""
        return f"b{self.tag}-{recipient.row}"

    async def run(
        self, items: AsyncIterator[Item], on_result: OnResult, stop: anyio.Event | None = None
    ) -> None:
        """Send every item; see :class:`BulkSender` (a request is written as soon as a worker
        takes its item, so there is nothing to give back on ``stop``)."""
        send, receive = anyio.create_memory_object_stream[Item](0)

        async def feed() -> None:
            async with send:
                async for item in items:
                    await send.send(item)

        async def worker(inbox: anyio.abc.ObjectReceiveStream[Item]) -> None:
            async with inbox:
                async for recipient, message in inbox:
                    try:
                        result = await self.client.send(message, resend_unknown=self.resend_unknown)
                    except (exc.SMSCenterError, ValueError) as error:
                        failed = _row(recipient, http_outcome(error), error=_describe(error))
                        on_result(recipient, failed, error)
                        continue
                    row = _row(
                        recipient,
                        Outcome.SENT,
                        message_id=result.message_id,
                        parts=result.parts,
                    )
                    on_result(recipient, row, None)

        async with anyio.create_task_group() as group, receive:
            for _ in range(self.concurrency):
                group.start_soon(worker, receive.clone())
            group.start_soon(feed)


@attrs.define
class SMPPBulkSender:
    """Sends over an open :class:`SMPPPool` (its window, binds and rate limit apply).

    The pool takes messages ahead of the binds (its read-ahead), so a job that stops must give
    back what is still queued: :meth:`withdraw` does it at once, and :meth:`run` calls it when
    ``stop`` is set. If ``run`` is cancelled (a second Ctrl-C), whatever a bind had taken is
    recorded as of unknown outcome: it may have gone out.
    """

    pool: SMPPPool
    #: With a store: send messages the store has as of unknown outcome again (the pool's
    #: store skips them otherwise).
    resend_unknown: bool = False
    # send_many numbers the messages it takes from its input 0, 1, 2 ...: index -> the row
    # and the message handed over, until its outcome is recorded.
    _waiting: dict[int, tuple[Recipient, Message]] = attrs.field(factory=dict, init=False)
    _on_result: OnResult | None = attrs.field(default=None, init=False)

    def client_id(self, recipient: Recipient) -> None:
        """SMPP carries no client id."""
        return None

    def _settle(self, outcome: SendOutcome) -> None:
        entry = self._waiting.get(outcome.index)
        if entry is None or entry[1] is not outcome.message or self._on_result is None:
            return  # recorded already (withdrawn), or not this run's
        del self._waiting[outcome.index]
        recipient = entry[0]
        if outcome.result is not None:
            row = _row(
                recipient,
                Outcome.SENT,
                message_id=outcome.result.message_id,
                parts=len(outcome.result.part_ids) or outcome.result.parts,
            )
            self._on_result(recipient, row, None)
        else:
            error = outcome.error or exc.SMSCenterError("no result")
            row = _row(recipient, smpp_outcome(error), error=_describe(error))
            self._on_result(recipient, row, error)

    def withdraw(self) -> None:
        """Take back every message still queued in the pool (none of it written) and record
        it as :class:`NotSent`, now; what the binds took finishes as usual."""
        error = NotSent("the job stopped before this message was written; it was not sent")
        for outcome in self.pool.withdraw_queued(error):
            self._settle(outcome)

    async def run(
        self, items: AsyncIterator[Item], on_result: OnResult, stop: anyio.Event | None = None
    ) -> None:
        """Send every item; see :class:`BulkSender`."""
        waiting = self._waiting
        self._on_result = on_result
        counter = 0

        async def messages() -> AsyncIterator[Message]:
            nonlocal counter
            async for recipient, message in items:
                waiting[counter] = (recipient, message)
                counter += 1
                yield message

        async def withdraw_on_stop(event: anyio.Event) -> None:
            await event.wait()
            self.withdraw()

        try:
            async with anyio.create_task_group() as group:
                if stop is not None:
                    group.start_soon(withdraw_on_stop, stop)
                # send_many is an async generator: closed here, not whenever it is collected.
                sending = cast(
                    AsyncGenerator[SendOutcome, None],
                    self.pool.send_many(messages(), resend_unknown=self.resend_unknown),
                )
                async with aclosing(sending) as outcomes:
                    async for outcome in outcomes:
                        self._settle(outcome)
                group.cancel_scope.cancel()
        finally:
            # Cancelled (a second Ctrl-C) or failed: a bind had taken these, so they may have
            # gone out, and their answers will not be waited for.
            for recipient, _ in waiting.values():
                error = "interrupted before its answer arrived: it may have gone out"
                on_result(recipient, _row(recipient, Outcome.UNKNOWN, error=error), None)
            waiting.clear()
            self._on_result = None


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
