"""An SMPP pool's side of a message store (``SMPPPool(..., store=store)``).

- :class:`SendTracker`: a send is claimed in the store (``prepare``: ``SENDING``, durably)
  before it is queued, so before any byte of it can go out; when its job ends it is settled
  (``settle``) by the tracker's task, in batches, and only then does its caller hear of it
  (``send`` returns, ``send_many`` yields). A job's end is handed over synchronously from the
  bind's reader (it never waits on the store). Settlements the store refused are kept and tried
  again (``_settle_hold.py``).
- :class:`ReceiptRecorder` (``_recorder.py``): a receipt ``deliver_sm`` is written to the
  store (``record``) in batches and acknowledged (``deliver_sm_resp``) only after that.

Both tasks run in the pool's task group; closing the pool settles and records what they still
hold before they stop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

import anyio
import anyio.abc
import anyio.lowlevel

from smscenter._provider import Transport
from smscenter.exceptions import ConnectionLost
from smscenter.models import SendResult
from smscenter.smpp.client._claims import Claims
from smscenter.smpp.client._jobs import (
    Job,
    JobQueue,
    JobState,
    _not_sent,
    plain_id,
    send_result,
)
from smscenter.smpp.client._recorder import ReceiptRecorder
from smscenter.smpp.client._settle_hold import HeldSettlements
from smscenter.smpp.client.results import Counters, SendOutcome, make_outcome
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
#: No result and no error: accepted, its result yet to be made from the job
#: (:func:`~smscenter.smpp.client._jobs.send_result`), by the caller when it needs it (made in
#: a batch after the commit, results would count toward the collector's next run).
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
        "_jobs",
        "_store",
        "_thens",
        "claims",
    )

    def __init__(self, store: MessageStore, counters: Counters, claim_ahead: int = 1) -> None:
        self._store = store
        self._counters = counters
        #: send_many's claims, made shortly before the binds write (_claims.py).
        self.claims = Claims(self, claim_ahead)
        # The jobs that ended and their continuations, in two lists (no tuple per message: what
        # waits for the store is promoted by the collector, and traversed by its later runs).
        self._jobs: list[Job] = []
        self._thens: list[Then] = []
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
        count = len(planned)
        pending = self._store.prepare(planned, resend_unknown=resend_unknown)
        del planned, add  # (nothing here needs them while the store commits)
        answers = await pending
        if len(answers) != count:  # pragma: no cover - a broken backend
            raise StoreError("the store answered prepare() with the wrong number of records")
        return answers

    def ended(self, job: Job, then: Then) -> None:
        """A tracked job ended (or was withdrawn unwritten): settle it, then call ``then``.
        Synchronous: the bind's reader calls it."""
        self._jobs.append(job)
        self._thens.append(then)
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
        return result if result is not None else send_result(job)

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Settle ended jobs as they come, a batch per wake-up (the pool's task)."""
        task_status.started()
        while True:
            if not self._jobs:
                event = self._event = anyio.Event()
                with anyio.move_on_after(self._held.delay()):  # a held retry falls due
                    await event.wait()
            await self.flush()

    async def drain(self) -> None:
        """Settle everything that ended so far, and wait for the settle calls in flight (the
        pool is closing; settlements the store refuses are tried for a while, then given up)."""
        held = self._held
        while self._jobs or self._busy or held:
            if self._jobs or held.due():
                await self.flush()
            elif not self._busy:
                if held.since is None or anyio.current_time() - held.since < held.PATIENCE:
                    await anyio.sleep(held.delay())
                else:
                    items = held.take()
                    await self._settle([j for j, _ in items], [t for _, t in items], hold=False)
            else:
                idle = self._idle = anyio.Event()
                await idle.wait()

    @property
    def has_pending(self) -> bool:
        """True when jobs ended and are not yet being settled."""
        return bool(self._jobs)

    async def flush(self) -> None:
        """Settle the jobs that ended so far (none: returns at once). Flushes may overlap:
        each takes its own jobs. The receipt recorder calls it too, just before it records,
        so that a receipt's send is settled no later than the receipt is recorded."""
        jobs, thens = self._jobs, self._thens
        self._jobs, self._thens = [], []
        held = self._held
        if held:  # (the store failed a moment ago: the held ones are kept as pairs)
            items = held.release(list(zip(jobs, thens, strict=True)))
            jobs, thens = [j for j, _ in items], [t for _, t in items]
        if not jobs:
            return
        self._busy += 1
        try:
            await self._settle(jobs, thens)
        finally:
            self._busy -= 1
            if not self._busy and self._idle is not None:
                self._idle.set()
                self._idle = None

    async def _settle(self, jobs: list[Job], thens: list[Then], *, hold: bool = True) -> None:
        settlements: list[Settlement] = []
        # Per job: its SendResult, or True for one whose result is made once the settlement
        # is stored (the usual: made then, it dies young instead of waiting for the store,
        # which would make the collector promote it and traverse it again), or None.
        results: list[SendResult | Literal[True] | None] = []
        add, keep = settlements.append, results.append
        done = JobState.DONE
        for job in jobs:
            cid = job.message.client_id  # type: ignore[union-attr]
            assert cid is not None
            key = cid if type(cid) is str else store_key(cid)
            if job.error is None and job.state is done:
                raw = plain_id(job)
                if raw is not None:
                    # send_result's common case, without the SendResult yet.
                    add(make_settlement(key, _ACCEPTED, raw, (raw,), 1, None))
                    keep(True)
                    continue
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
            kept = (
                self._held.keep(list(zip(jobs, thens, strict=True)))
                if hold and isinstance(exc, StoreError)
                else 0
            )
            if kept:
                logger.warning(
                    "smpp store: could not record how %d send(s) ended; kept, trying again: %s",
                    kept,
                    exc,
                )
                del jobs[:kept], thens[:kept], results[:kept], settlements[:kept]
                if not jobs:
                    return
            logger.error(
                "smpp store: could not record how %d send(s) ended (they stay 'sending', "
                "read as 'unknown' later): %s",
                len(jobs),
                exc,
            )
            for job, then, answer, settlement in zip(
                jobs, thens, results, settlements, strict=True
            ):
                then(job, _result(job, answer), _not_recorded(settlement, exc))
            return
        self._held.recorded()
        for job, then, answer in zip(jobs, thens, results, strict=True):
            if answer is True:  # accepted, its result left to the caller (see Then)
                then(job, None, None)
            else:  # (a failure always has an error: "no result, no error" means accepted)
                then(job, answer, job.error if answer is not None else job.error or _NOT_SENT)


def _result(job: Job, answer: SendResult | Literal[True] | None) -> SendResult | None:
    """A settled job's result: made now when its settlement left it for later (True)."""
    return send_result(job) if answer is True else answer


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
