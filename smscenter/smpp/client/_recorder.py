"""A pool's receipts on their way to a message store (``SMPPPool(..., store=store)``).

:class:`ReceiptRecorder`: a receipt ``deliver_sm`` is written to the store (``record``) by the
recorder's task, in batches, and acknowledged (``deliver_sm_resp``) only after that: at least
once, the store ignoring repeats. Its backlog is bounded: when full, or for a moment after the
store failed, the bind answers ``ESME_RX_T_APPN`` (SMPP 3.4 §5.1.3: the SMSC keeps the receipt
and delivers it again later). A receipt the store failed to record is answered the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import anyio
import anyio.abc
import anyio.lowlevel

from smscenter.models import DeliveryReport
from smscenter.smpp.client.results import Counters
from smscenter.smpp.constants import CommandStatus
from smscenter.store._protocol import MessageStore

if TYPE_CHECKING:
    from smscenter.smpp.client._tracking import SendTracker
    from smscenter.smpp.client.reports import ReportBuffer

__all__ = ("ReceiptRecorder", "Respond")

logger = logging.getLogger("smscenter.smpp.client._tracking")  # one logger for the store side


class Respond(Protocol):
    """Answers ``deliver_sm`` PDUs, by their sequence numbers (the bind's ``_acknowledge``)."""

    def __call__(
        self, sequence_numbers: tuple[int, ...], status: CommandStatus = CommandStatus.ESME_ROK
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
        "numbers",
        "paused",
        "reports",
        "responds",
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
        # The receipts waiting, who answers each and its deliver_sm's sequence number, in
        # three lists: no tuple per receipt, and the number rather than the PDU (what waits for
        # the store is promoted by the collector, and traversed by its later runs).
        self.reports: list[DeliveryReport] = []
        self.responds: list[Respond] = []
        self.numbers: list[int] = []
        self._event: anyio.Event | None = None
        #: True for a moment after the store failed (receipts are answered "try later").
        self.paused = False
        self._backoff = self.FIRST_PAUSE

    @property
    def full(self) -> bool:
        """True when a receipt must be answered "try later" now."""
        return self.paused or len(self.reports) >= self.capacity

    def put(self, report: DeliveryReport, respond: Respond, sequence_number: int) -> None:
        """A receipt to record, then answer with ``respond`` (the bind's reader calls it)."""
        self.reports.append(report)
        self.responds.append(respond)
        self.numbers.append(sequence_number)
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
            if not self.reports:
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
        if self.reports:
            await self._record(answer=False)

    async def _record(self, *, answer: bool) -> bool:
        reports, responds, numbers = self.reports, self.responds, self.numbers
        count = len(reports)
        if not count:
            return True
        self.reports, self.responds, self.numbers = [], [], []
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
                for respond, number in zip(responds, numbers, strict=True):
                    respond((number,), CommandStatus.ESME_RX_T_APPN)
            return False
        counters.reports_recorded += count
        counters.reports += count
        if answer:
            # One call per bind for the batch (in the order they came), not one per receipt.
            first = responds[0]
            if responds.count(first) == count:  # one bind (the usual case)
                first(tuple(numbers))
            else:
                acks: dict[Respond, list[int]] = {}
                for respond, number in zip(responds, numbers, strict=True):
                    group = acks.get(respond)
                    if group is None:
                        acks[respond] = [number]
                    else:
                        group.append(number)
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
