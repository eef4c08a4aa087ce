"""Delivery reports and incoming messages on their way from the binds' readers to the application.

- :class:`ReportIntake` is one bind's end: it turns each ``deliver_sm`` into a
  :class:`~smscenter.DeliveryReport` or :class:`~smscenter.IncomingMessage` (joining the parts
  of a long incoming message) and says how to answer it now, if at all. It never waits.
- :class:`ReportBuffer` is the bounded hand-off between them, shared by a pool's binds.
- :class:`ReportStream` is the application's end: an async iterator that acknowledges each item
  only once the application asks for the next one.

Back-pressure: the buffer is bounded. When it is full the bind answers ``ESME_RX_T_APPN``
(SMPP 3.4 §5.1.3, temporary application error: the SMSC keeps the message and delivers it again
later) instead of blocking, so submit responses keep flowing whatever the consumer does.

With a message store (``SMPPPool(..., store=)``) receipts take another road: the intake hands
each one to the pool's :class:`~smscenter.smpp.client._tracking.ReceiptRecorder`, which writes
them to the store in batches and acknowledges them once written. The stream then gets a copy of
each recorded receipt, already acknowledged: a live view that never holds an acknowledgement
back. It keeps at most the buffer's capacity; a copy that finds it full is left out (the store
has it: ``store.changes()`` is the feed that misses nothing), and an incoming message that
finds it full pushes out the oldest copies first. Incoming messages keep the road above.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Self

import anyio

from smscenter.models import DeliveryReport, IncomingMessage
from smscenter.smpp.client.results import Counters
from smscenter.smpp.constants import CommandStatus
from smscenter.smpp.incoming import incoming_from_deliver_sm, incoming_from_expired
from smscenter.smpp.pdu import DeliverSm
from smscenter.smpp.reassembly import Reassembler
from smscenter.smpp.receipts import is_receipt

if TYPE_CHECKING:
    from smscenter.smpp.client._recorder import ReceiptRecorder, Respond

__all__ = ("ReportStream",)

logger = logging.getLogger(__name__)

# esm_class message type "SMSC delivery receipt" (SMPP 3.4 §5.2.12).
_SMSC_RECEIPT = 0x04

#: Who answers an item's ``deliver_sm`` (by sequence number) once the application took it:
#: its bind.
_Answer = Callable[[int], None]
#: An item, who answers its ``deliver_sm`` (None: nobody) and that deliver_sm's number.
_Item = tuple["DeliveryReport | IncomingMessage", _Answer | None, int]


def _recorded(seq: int) -> None:
    """The "answer" of a recorded receipt's copy, acknowledged when the store had it (it also
    marks copies in the buffer)."""


class ReportBuffer:
    """Bounded hand-off from the binds' readers to the application (one consumer).

    :ivar recorder: with a store, where the binds hand receipts instead (set by the pool
        before any bind starts).
    """

    __slots__ = ("_event", "capacity", "closed", "items", "recorder")

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("the report buffer needs room for at least one event")
        self.capacity = capacity
        self.items: deque[_Item] = deque()
        self._event: anyio.Event | None = None
        self.closed = False
        self.recorder: ReceiptRecorder | None = None

    @property
    def full(self) -> bool:
        return len(self.items) >= self.capacity

    def put(
        self, item: DeliveryReport | IncomingMessage, answer: _Answer | None, seq: int = 0
    ) -> None:
        """Hand ``item`` over; ``answer(seq)`` once the application took it."""
        self.items.append((item, answer, seq))
        event = self._event
        if event is not None:
            self._event = None
            event.set()

    def offer(self, reports: Sequence[DeliveryReport]) -> int:
        """Add the copies of recorded (and acknowledged) receipts, as many as there is room
        for (the others are left out: the store has them); returns how many went in."""
        room = self.capacity - len(self.items)
        if self.closed or room <= 0 or not reports:
            return 0
        taken = reports[:room] if room < len(reports) else reports
        self.items.extend([(report, _recorded, 0) for report in taken])
        event = self._event
        if event is not None:
            self._event = None
            event.set()
        return len(taken)

    def make_room(self) -> bool:
        """Drop the oldest recorded receipts' copies at the head until one item fits; False
        when the head holds something else (an item waiting for its acknowledgement)."""
        items = self.items
        while len(items) >= self.capacity:
            if not items or items[0][1] is not _recorded:
                return False
            items.popleft()
        return True

    def close(self) -> None:
        self.closed = True
        event = self._event
        if event is not None:
            self._event = None
            event.set()

    async def wait(self) -> None:
        if self._event is None:
            self._event = anyio.Event()
        await self._event.wait()


class ReportStream:
    """Delivery reports and incoming messages, as an async iterator (and context manager).

    Each item's ``deliver_sm_resp`` is sent when you ask for the next item (or leave the
    ``async with`` normally): only after your loop body has handled it. Leaving with an
    exception does not acknowledge the item in hand; the SMSC will deliver it again.
    Iteration ends when the pool or session closes.

    Use one consumer: two would share the items between them.

    Get one from :meth:`SMPPPool.reports <smscenter.smpp.client.pool.SMPPPool.reports>` or
    :meth:`SMPPSession.reports <smscenter.smpp.client.session.SMPPSession.reports>`; it has no
    public constructor (its buffer is the client's plumbing).
    """

    __slots__ = ("_answer", "_buffer", "_seq")
    _buffer: ReportBuffer
    # Who answers the item in hand, and its deliver_sm's number.
    _answer: _Answer | None
    _seq: int

    def __init__(self) -> None:
        raise TypeError("ReportStream has no public constructor: use pool.reports()")

    @classmethod
    def _create(cls, buffer: ReportBuffer) -> ReportStream:
        """The stream over ``buffer`` (for the pool and the session)."""
        self = cls.__new__(cls)
        self._buffer = buffer
        self._answer = None
        self._seq = 0
        return self

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        if exc_type is None:
            self._ack()
        self._answer = None

    def __aiter__(self) -> AsyncIterator[DeliveryReport | IncomingMessage]:
        return self

    def _ack(self) -> None:
        answer = self._answer
        if answer is not None:
            self._answer = None
            answer(self._seq)

    async def __anext__(self) -> DeliveryReport | IncomingMessage:
        answer = self._answer  # _ack(), inline: once per item
        if answer is not None:
            self._answer = None
            answer(self._seq)
        buffer = self._buffer
        while not buffer.items:
            if buffer.closed:
                raise StopAsyncIteration
            await buffer.wait()
        item, self._answer, self._seq = buffer.items.popleft()
        return item

    async def receive(self) -> DeliveryReport | IncomingMessage:
        """The next item (acknowledging the previous one).

        :raises anyio.EndOfStream: the pool or session closed and nothing is left.
        """
        try:
            return await self.__anext__()
        except StopAsyncIteration:
            raise anyio.EndOfStream from None


class ReportIntake:
    """One bind's end of the hand-off (its reader calls it; it never waits).

    :param buffer: where items go (shared by a pool's binds).
    :param counters: ``reports`` / ``reports_deferred`` are counted here.
    :param reassembler: joins multi-part incoming messages (shared by a pool's binds: each part
        is answered when it arrives, so parts held when a bind drops are not sent again; they
        must meet the rest on another bind).
    :param read_receipt: turns a receipt ``deliver_sm`` into a report.
    :param acknowledge: answers a receipt's ``deliver_sm`` once the store recorded it.
    :param answer: answers an item's ``deliver_sm`` (by sequence number) once the application
        took it.
    :param name: the bind's name, for the log.
    """

    __slots__ = (
        "_acknowledge",
        "_answer",
        "_buffer",
        "_counters",
        "_name",
        "_read_receipt",
        "_recorder",
        "reassembler",
    )

    def __init__(
        self,
        buffer: ReportBuffer,
        counters: Counters,
        reassembler: Reassembler,
        read_receipt: Callable[[DeliverSm], DeliveryReport],
        acknowledge: Respond,
        answer: Callable[[int], None],
        name: str,
    ) -> None:
        self._buffer = buffer
        self._counters = counters
        self.reassembler = reassembler
        self._read_receipt = read_receipt
        self._acknowledge = acknowledge
        self._answer = answer
        self._name = name
        self._recorder = buffer.recorder

    def deliver(self, pdu: DeliverSm, now: float) -> CommandStatus | None:
        """Take one ``deliver_sm``. Returns the status to answer it with now, or None: its item
        was handed over and is answered when the application takes it (with a store: when the
        store has recorded it)."""
        if self._recorder is not None:
            return self._deliver_tracked(pdu, now)
        buffer = self._buffer
        if len(buffer.items) >= buffer.capacity or buffer.closed:
            # Back-pressure: "not now" (SMPP 3.4 §5.1.3 ESME_RX_T_APPN); the SMSC redelivers.
            self._counters.reports_deferred += 1
            return CommandStatus.ESME_RX_T_APPN
        item: DeliveryReport | IncomingMessage | None
        try:
            # The message type bits first (is_receipt's own first test): one call less for
            # the usual receipt.
            if pdu.esm_class & 0x3C == _SMSC_RECEIPT or is_receipt(pdu):
                item = self._read_receipt(pdu)
            else:
                item = incoming_from_deliver_sm(pdu, reassembler=self.reassembler, now=now)
        except Exception:  # pragma: no cover - the converters do not raise on odd content
            logger.exception("smpp %s: could not read a deliver_sm", self._name)
            return CommandStatus.ESME_RX_P_APPN
        if item is None:
            # A part held for the rest of its message (or a repeat of one): answered now, or a
            # stop-and-wait SMSC would never send the next part. Held parts live in memory
            # only: if the process stops before the message is complete they are gone (the
            # SMSC has its answer). The completing part is answered after the hand-off below.
            return CommandStatus.ESME_ROK
        self._counters.reports += 1
        # buffer.put, inline (one call less per receipt).
        buffer.items.append((item, self._answer, pdu.sequence_number))
        event = buffer._event
        if event is not None:
            buffer._event = None
            event.set()
        return None

    def _deliver_tracked(self, pdu: DeliverSm, now: float) -> CommandStatus | None:
        """:meth:`deliver` with a store: a receipt goes to the recorder, which answers it once
        the store has it; an incoming message goes to the stream as without a store."""
        recorder = self._recorder
        assert recorder is not None
        # The message type bits first (is_receipt's own first test), and the recorder's
        # `full` inline: once per receipt.
        if pdu.esm_class & 0x3C == _SMSC_RECEIPT or is_receipt(pdu):
            if recorder.paused or len(recorder.reports) >= recorder.capacity:
                # The store is behind (or failed a moment ago): "not now", as a full buffer.
                self._counters.reports_deferred += 1
                return CommandStatus.ESME_RX_T_APPN
            try:
                report = self._read_receipt(pdu)
            except Exception:  # pragma: no cover - the reader does not raise on odd content
                logger.exception("smpp %s: could not read a receipt", self._name)
                return CommandStatus.ESME_RX_P_APPN
            recorder.put(report, self._acknowledge, pdu.sequence_number)
            return None
        buffer = self._buffer
        if (buffer.full and not buffer.make_room()) or buffer.closed:
            self._counters.reports_deferred += 1
            return CommandStatus.ESME_RX_T_APPN
        try:
            item = incoming_from_deliver_sm(pdu, reassembler=self.reassembler, now=now)
        except Exception:  # pragma: no cover - the converters do not raise on odd content
            logger.exception("smpp %s: could not read a deliver_sm", self._name)
            return CommandStatus.ESME_RX_P_APPN
        if item is None:
            return CommandStatus.ESME_ROK  # a held part (see deliver)
        self._counters.reports += 1
        buffer.put(item, self._answer, pdu.sequence_number)
        return None

    def expire(self, now: float) -> None:
        """Multi-part messages whose parts stopped coming: hand over what arrived (its parts
        were answered when they came, so nothing is left to acknowledge)."""
        for expired in self.reassembler.expire(now):
            logger.warning(
                "smpp %s: gave up waiting for parts %s of a message from %s (%s)",
                self._name,
                expired.missing,
                expired.source,
                expired.reason,
            )
            self._counters.reports += 1
            # Even over the buffer's capacity: refusing "for now" is no longer possible.
            self._buffer.put(incoming_from_expired(expired), None)
