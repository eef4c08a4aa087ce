"""An SMPP pool's side of a message store (``SMPPPool(..., store=store)``).

- :class:`SendTracker`: a send is claimed in the store (``prepare``: ``SENDING``, durably)
  before it is queued, so before any byte of it can go out; when its job ends it is settled
  (``settle``) by the tracker's task, in batches, and only then does its caller hear of it
  (``send`` returns, ``send_many`` yields). A job's end is handed over synchronously from the
  bind's reader (it never waits on the store). Settlements the store refused are kept and tried
  again (``_settle_hold.py``).
- :class:`ReceiptRecorder`: a receipt ``deliver_sm`` is written to the store (``record``) by the
  recorder's task, in batches, and acknowledged (``deliver_sm_resp``) only after that: at least
  once, the store ignoring repeats. Its backlog is bounded: when full, or for a moment after the
  store failed, the bind answers ``ESME_RX_T_APPN`` (SMPP 3.4 §5.1.3: the SMSC keeps the receipt
  and delivers it again later). A receipt the store failed to record is answered the same way.

Both tasks run in the pool's task group; closing the pool settles and records what they still
hold before they stop.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

import anyio
import anyio.abc
import anyio.lowlevel

from smscenter._provider import Transport
from smscenter.exceptions import ConnectionLost
from smscenter.models import DeliveryReport, SendResult
from smscenter.smpp.client._claims import Claims
from smscenter.smpp.client._jobs import Job, JobQueue, JobState, _not_sent, send_result
from smscenter.smpp.client._settle_hold import HeldSettlements
from smscenter.smpp.client.results import Counters, SendOutcome, make_outcome
from smscenter.smpp.constants import CommandStatus
from smscenter.smpp.pdu import DeliverSm
from smscenter.store._model import (
    PlannedSend,
    Settlement,
    StoreError,
    TrackedMessage,
    TrackedState,
    make_planned,
    make_settlement,
    store_key,
)
from smscenter.store._outcome import check_tracked, error_from_record, result_from_record
from smscenter.store._protocol import MessageStore

if TYPE_CHECKING:
    from smscenter.smpp.client.reports import ReportBuffer

__all__ = ("STORE_READ_AHEAD", "ReceiptRecorder", "SendTracker", "Tracking", "check_tracked")

logger = logging.getLogger(__name__)

_SMPP = Transport.SMPP
_ACCEPTED = TrackedState.ACCEPTED

#: ``send_many``'s default read-ahead with a store (at least): each batch read ahead costs a
#: store commit, and its messages wait for it, so the batches must be large to keep the binds
#: busy (each message holds a job of a few hundred bytes: a few MB at most).
STORE_READ_AHEAD = 4096

#: What a tracked job's caller does once its settlement is durable: the job, its result (if
#: accepted) and its error (the job's, or a StoreError when the settlement was not recorded).
Then = Callable[[Job, SendResult | None, BaseException | None], None]


def _ignore(job: Job, result: SendResult | None, error: BaseException | None) -> None:
    """The continuation of a job whose caller left (its settlement still happens)."""


def outcome_from_record(job: Job, record: TrackedMessage) -> SendOutcome:
    """The outcome of a ``send_many`` message the store said not to send (it was sent before)."""
    assert job.message is not None and job.recipient is not None
    result = result_from_record(record, job.message.client_id)
    error = None if result is not None else error_from_record(record)
    return make_outcome(job.index, job.message, job.recipient, result, error, record)


class SendTracker:
    """Claims sends before they are queued and settles them, in batches, when they end.

    :param store: the pool's store.
    :param counters: ``store_errors`` is counted here.
    :param claim_ahead: the most jobs ``send_many`` has claimed and not yet ended.
    """

    __slots__ = (
        "_busy",
        "_counters",
        "_event",
        "_held",
        "_idle",
        "_pending",
        "_store",
        "claims",
    )

    def __init__(self, store: MessageStore, counters: Counters, claim_ahead: int = 1) -> None:
        self._store = store
        self._counters = counters
        #: send_many's claims, made shortly before the binds write (_claims.py).
        self.claims = Claims(self, claim_ahead)
        self._pending: list[tuple[Job, Then]] = []
        self._event: anyio.Event | None = None
        self._busy = 0  # settle calls in flight (this task's, or the receipt recorder's)
        self._idle: anyio.Event | None = None
        self._held = HeldSettlements()  # refused by the store: tried again

    async def claim(self, jobs: Sequence[Job], resend_unknown: bool) -> list[TrackedMessage | None]:
        """``prepare`` the jobs' messages in one call: per job, None to send it, or the record
        that says not to (see :meth:`MessageStore.prepare`).

        :raises StoreError: nothing was recorded: none of them may be sent.
        """
        planned: list[PlannedSend] = []
        add = planned.append
        for job in jobs:
            cid = job.message.client_id  # type: ignore[union-attr]
            add(make_planned(cid if type(cid) is str else store_key(cid), job.recipient, _SMPP))  # type: ignore[arg-type]
        answers = await self._store.prepare(planned, resend_unknown=resend_unknown)
        if len(answers) != len(planned):  # pragma: no cover - a broken backend
            raise StoreError("the store answered prepare() with the wrong number of records")
        return answers

    def ended(self, job: Job, then: Then) -> None:
        """A tracked job ended (or was withdrawn unwritten): settle it, then call ``then``.
        Synchronous: the bind's reader calls it."""
        self._pending.append((job, then))
        event = self._event
        if event is not None:
            self._event = None
            event.set()

    def withdrawn(self, jobs: Sequence[Job], error: BaseException) -> None:
        """Jobs taken back out of the queue unwritten (their caller left): they end with
        ``error`` in the store (one written before a drop ends unknown, as the queue says)."""
        for job in jobs:
            if job.error is None:
                job.fail(_not_sent(job, error))
            self.ended(job, _ignore)

    async def send(
        self,
        queue: JobQueue,
        job: Job,
        resend_unknown: bool,
        observe: Callable[[Job], None],
    ) -> SendResult:
        """``SMPPPool.send`` with a store: claim, queue, wait for the settlement.

        :raises StoreError: not claimed (nothing sent), or accepted but not settled.
        """
        (record,) = await self.claim([job], resend_unknown)
        if record is not None:
            assert job.message is not None
            result = result_from_record(record, job.message.client_id)
            if result is None:
                raise error_from_record(record)
            return result
        done = anyio.Event()
        box: list[tuple[SendResult | None, BaseException | None]] = []

        def then(_job: Job, result: SendResult | None, error: BaseException | None) -> None:
            box.append((result, error))
            done.set()

        def finished(job: Job) -> None:
            observe(job)
            self.ended(job, then)

        job.callback = finished
        queue.push(job, anyio.current_time())
        try:
            await done.wait()
        except BaseException:
            if queue.remove(job):  # never written: settled as such, nobody waits for it
                self.withdrawn([job], ConnectionLost("the send was cancelled before it went out"))
            else:  # it ends on its bind, and is settled then
                job.callback = lambda job: self.ended(job, _ignore)
            raise
        result, error = box[0]
        if error is not None:
            raise error
        assert result is not None
        return result

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Settle ended jobs as they come, a batch per wake-up (the pool's task)."""
        task_status.started()
        while True:
            if not self._pending:
                event = self._event = anyio.Event()
                with anyio.move_on_after(self._held.delay()):  # a held retry falls due
                    await event.wait()
            await self.flush()

    async def drain(self) -> None:
        """Settle everything that ended so far, and wait for the settle calls in flight (the
        pool is closing; settlements the store refuses are tried for a while, then given up)."""
        held = self._held
        while self._pending or self._busy or held:
            if self._pending or held.due():
                await self.flush()
            elif not self._busy:
                if held.since is None or anyio.current_time() - held.since < held.PATIENCE:
                    await anyio.sleep(held.delay())
                else:
                    await self._settle(held.take(), hold=False)
            else:
                idle = self._idle = anyio.Event()
                await idle.wait()

    @property
    def has_pending(self) -> bool:
        """True when jobs ended and are not yet being settled."""
        return bool(self._pending)

    async def flush(self) -> None:
        """Settle the jobs that ended so far (none: returns at once). Flushes may overlap:
        each takes its own jobs. The receipt recorder calls it too, just before it records,
        so that a receipt's send is settled no later than the receipt is recorded."""
        items, self._pending = self._pending, []
        items = self._held.release(items)
        if not items:
            return
        self._busy += 1
        try:
            await self._settle(items)
        finally:
            self._busy -= 1
            if not self._busy and self._idle is not None:
                self._idle.set()
                self._idle = None

    async def _settle(self, items: list[tuple[Job, Then]], *, hold: bool = True) -> None:
        settlements: list[Settlement] = []
        results: list[SendResult | None] = []
        add, keep = settlements.append, results.append
        done = JobState.DONE
        for job, _then in items:
            cid = job.message.client_id  # type: ignore[union-attr]
            assert cid is not None
            key = cid if type(cid) is str else store_key(cid)
            if job.error is None and job.state is done:
                result = send_result(job)
                # Settlement.accepted, inline (once per message).
                add(
                    make_settlement(
                        key,
                        _ACCEPTED,
                        result.message_id,
                        result.part_ids,
                        result.parts,
                        result.cost,
                    )
                )
                keep(result)
            else:
                add(Settlement.failed(key, job.error or _NOT_SENT))
                keep(None)
        try:
            await self._store.settle(settlements)
        except Exception as exc:  # a StoreError, or a backend's own failure
            self._counters.store_errors += 1
            kept = self._held.keep(items) if hold and isinstance(exc, StoreError) else 0
            if kept:
                logger.warning(
                    "smpp store: could not record how %d send(s) ended; kept, trying again: %s",
                    kept,
                    exc,
                )
                del items[:kept], results[:kept], settlements[:kept]
                if not items:
                    return
            logger.error(
                "smpp store: could not record how %d send(s) ended (they stay 'sending', "
                "read as 'unknown' later): %s",
                len(items),
                exc,
            )
            for (job, then), answer, settlement in zip(items, results, settlements, strict=True):
                then(job, answer, _not_recorded(settlement, exc))
            return
        self._held.recorded()
        for (job, then), answer in zip(items, results, strict=True):
            then(job, answer, job.error)


_NOT_SENT = ConnectionLost("the message was taken back before it was written")


def _not_recorded(settlement: Settlement, failure: BaseException) -> StoreError:
    what = (
        f"accepted as {settlement.message_id}"
        if settlement.message_id is not None
        else f"ended {settlement.state.value}: {settlement.error}"
    )
    error = StoreError(
        f"the store could not record how client id {settlement.client_id} ended ({what}): {failure}"
    )
    error.__cause__ = failure
    return error


class Respond(Protocol):
    """Answers the ``deliver_sm`` PDUs of a receipt (the session's ``_acknowledge``)."""

    def __call__(
        self, pdus: tuple[DeliverSm, ...], status: CommandStatus = CommandStatus.ESME_ROK
    ) -> None: ...


class ReceiptRecorder:
    """Receipts on their way from the binds' readers to the store, then to the SMSC's answer.

    :param store: the pool's store.
    :param capacity: the most receipts waiting to be recorded (then ``ESME_RX_T_APPN``).
    :param counters: ``reports``, ``reports_recorded`` and ``store_errors`` are counted here.
    :param stream: the report buffer that gets a copy of each recorded receipt
        (:meth:`~smscenter.smpp.client.reports.ReportBuffer.offer`).
    :param tracker: the pool's send tracker: the sends that ended before a batch of receipts
        was read are settled along with it (see :meth:`_settle_and_record`).
    """

    __slots__ = (
        "_backoff",
        "_counters",
        "_event",
        "_store",
        "_stream",
        "_tracker",
        "capacity",
        "items",
        "paused",
    )

    #: After a store failure: the first pause, and the longest one (seconds).
    FIRST_PAUSE = 0.1
    MAX_PAUSE = 5.0

    def __init__(
        self,
        store: MessageStore,
        capacity: int,
        counters: Counters,
        stream: ReportBuffer,
        tracker: SendTracker | None = None,
    ) -> None:
        self._store = store
        self._tracker = tracker
        self.capacity = capacity
        self._counters = counters
        self._stream = stream
        self.items: deque[tuple[DeliveryReport, Respond, DeliverSm]] = deque()
        self._event: anyio.Event | None = None
        #: True for a moment after the store failed (receipts are answered "try later").
        self.paused = False
        self._backoff = self.FIRST_PAUSE

    @property
    def full(self) -> bool:
        """True when a receipt must be answered "try later" now."""
        return self.paused or len(self.items) >= self.capacity

    def put(self, report: DeliveryReport, respond: Respond, pdu: DeliverSm) -> None:
        """A receipt to record, then answer with ``respond`` (the bind's reader calls it)."""
        self.items.append((report, respond, pdu))
        event = self._event
        if event is not None:
            self._event = None
            event.set()

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Record receipts as they come, a batch per wake-up (the pool's task)."""
        task_status.started()
        while True:
            if not self.items:
                event = self._event = anyio.Event()
                await event.wait()
            if not await self._record(answer=True):
                # The store failed: answer "try later" for a while rather than fail each
                # receipt the SMSC sends meanwhile.
                self.paused = True
                try:
                    await anyio.sleep(self._backoff)
                finally:
                    self.paused = False
                self._backoff = min(self._backoff * 2, self.MAX_PAUSE)
            else:
                self._backoff = self.FIRST_PAUSE

    async def drain(self) -> None:
        """Record what is waiting (the pool is closing: the binds are gone, so nothing is
        answered; the SMSC delivers those receipts again and the store ignores the repeats)."""
        if self.items:
            await self._record(answer=False)

    async def _record(self, *, answer: bool) -> bool:
        items = self.items
        count = len(items)
        if not count:
            return True
        reports, responds, pdus = zip(*items, strict=True)  # one pass, in C
        items.clear()
        counters = self._counters
        try:
            await self._settle_and_record(reports)
        except Exception as exc:  # a StoreError, or a backend's own failure
            counters.store_errors += 1
            logger.error(
                "smpp store: could not record %d receipt(s); they are not acknowledged (the "
                "SMSC delivers them again): %s",
                count,
                exc,
            )
            if answer:
                for respond, pdu in zip(responds, pdus, strict=True):
                    respond((pdu,), CommandStatus.ESME_RX_T_APPN)
            return False
        counters.reports_recorded += count
        counters.reports += count
        if answer:
            # One call per bind for the batch (in the order they came), not one per receipt.
            first = responds[0]
            if responds.count(first) == count:  # one bind (the usual case)
                first(pdus)
            else:
                acks: dict[Respond, list[DeliverSm]] = {}
                for respond, pdu in zip(responds, pdus, strict=True):
                    group = acks.get(respond)
                    if group is None:
                        acks[respond] = [pdu]
                    else:
                        group.append(pdu)
                for respond, group in acks.items():
                    respond(tuple(group))
        self._stream.offer(reports)
        return True

    async def _settle_and_record(self, reports: Sequence[DeliveryReport]) -> None:
        """Record the receipts; hand the store first the settlements of the sends that ended
        before them. A receipt is read after its send's ``submit_sm_resp``, so its send has
        ended by now: settled ahead of it (in the same transaction, for a store that groups
        its writes), the receipt lands on its record at once instead of waiting as unmatched
        to be matched by the settle, and the record is written once for both."""
        tracker = self._tracker
        if tracker is None or not tracker.has_pending:
            await self._store.record(*reports)
            return
        failure: Exception | None = None
        async with anyio.create_task_group() as tg:
            tg.start_soon(tracker.flush)  # never raises: a store failure goes to its callers
            # One step for the flush task: it hands its settle call to the store first.
            await anyio.lowlevel.checkpoint()
            try:
                await self._store.record(*reports)
            except Exception as exc:  # raised once the flush is done (not as a group)
                failure = exc
        if failure is not None:
            raise failure


class Tracking:
    """A pool's store side: its :class:`SendTracker` and :class:`ReceiptRecorder`, their tasks
    and their last flush. Made before any bind starts (the binds' intakes find the recorder on
    the report buffer).

    :param backlog: the most receipts waiting for the store (``SMPPOptions.report_buffer``,
        or by default at least :data:`STORE_READ_AHEAD`: receipts come as fast as the sends).
    :param claim_ahead: the most jobs claimed by ``send_many`` and not yet ended
        (:class:`~smscenter.smpp.client._claims.Claims`).
    :ivar sends: the send tracker. :ivar recorder: the receipt recorder.
    """

    __slots__ = ("recorder", "sends")

    def __init__(
        self,
        store: MessageStore,
        counters: Counters,
        reports: ReportBuffer,
        backlog: int,
        claim_ahead: int = 1,
    ) -> None:
        self.sends = SendTracker(store, counters, claim_ahead)
        self.recorder = ReceiptRecorder(store, backlog, counters, reports, self.sends)
        reports.recorder = self.recorder

    async def start(self, tg: anyio.abc.TaskGroup) -> None:
        """Start the tasks in the pool's task group."""
        await tg.start(self.sends.run)
        await tg.start(self.sends.claims.run)
        await tg.start(self.recorder.run)

    async def drain(self) -> None:
        """Settle and record what is left (the pool is closing, its binds are done)."""
        await self.sends.claims.close(ConnectionLost("the pool closed before it was sent"))
        await self.sends.drain()
        await self.recorder.drain()
