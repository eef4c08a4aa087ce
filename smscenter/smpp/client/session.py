"""One SMPP bind over TCP or TLS, on anyio: the sans-IO :class:`~smscenter.smpp.connection.
SMPPConnection` with a socket, a clock and three tasks, started in one task group with
``tg.start`` (mqttproto's shape, with its gaps fixed). The decisions are sync code elsewhere:

- **reader**: reads big chunks, feeds them to the connection (many PDUs per read) and hands the
  events to the bind's :class:`~smscenter.smpp.client._dispatch.Dispatch` (what each answer,
  ``deliver_sm`` or unbind does). It never awaits user code: a full report buffer is answered
  "try later" (reports.py), so submit responses keep flowing whatever the consumer does.
- **writer**: on each wake-up lets the :class:`~smscenter.smpp.client._pump.Pump` move as much
  queued work into the connection as the window, the rate limit and a throttle pause allow,
  then writes everything queued in one ``send`` (TCP_NODELAY on; docs/performance.md).
- **timer**: lets the dispatch expire requests past ``Timeouts.response`` (unknown outcome,
  never a silent resend), probe with ``enquire_link`` and find a dead link; then sleeps until
  the next deadline.

Reads and writes go through _stream.py (the one place stream errors become the library's).
Nothing outlives the ``async with``: leaving it unbinds gracefully (waiting at most
``Timeouts.unbind`` for answers still in flight) and every job ends with ids or an error.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Any, Self

import anyio
import anyio.abc

from smscenter.config import Credentials, SMPPOptions, Timeouts
from smscenter.exceptions import (
    ConnectionLost,
    LocalProtocolError,
    UnknownOutcomeError,
    ValidationError,
)
from smscenter.models import DeliveryReport, Message, SendResult
from smscenter.smpp.client._dispatch import Dispatch
from smscenter.smpp.client._handshake import bind
from smscenter.smpp.client._inflight import InFlight
from smscenter.smpp.client._jobs import (
    Job,
    JobQueue,
    check_single,
    noop,
    query_through,
    run_job,
    send_result,
    watch_queue,
)
from smscenter.smpp.client._pump import Pump
from smscenter.smpp.client._ratelimit import RateLimiter, ThrottlePause
from smscenter.smpp.client._shared import Shared
from smscenter.smpp.client._stream import Connector, Link, tcp_connector
from smscenter.smpp.client.overdue import Overdue
from smscenter.smpp.client.reconcile import ReconcilePolicy, take_back
from smscenter.smpp.client.reports import ReportBuffer, ReportIntake, ReportStream
from smscenter.smpp.client.results import QueryResult, SMPPStatistics
from smscenter.smpp.connection import ESME, SMPPConnection, State
from smscenter.smpp.constants import BindMode, CommandStatus
from smscenter.smpp.pdu import DeliverSm
from smscenter.smpp.receipts import ReceiptReader
from smscenter.smpp.submit import SubmitBuilder, SubmitOptions
from smscenter.smpp.system_type import SystemType

__all__ = ("SMPPSession",)

logger = logging.getLogger(__name__)

_BOUND = (State.BOUND_TX, State.BOUND_RX, State.BOUND_TRX)


class SMPPSession:
    """One bind to an SMSC, as an async context manager.

    Most applications use :class:`~smscenter.smpp.client.pool.SMPPPool` (which runs one or more of
    these and reconnects them); a session is one bind and ends when its link does.

    :param host: / :param port: the SMSC (the provider: ``smpp.smscentre.com`` 3700, TLS 3443).
    :param credentials: login and plain password (SMPP passwords are at most 8 characters).
    :param mode: transceiver (default), transmitter or receiver.
    :param system_type: the provider's flags (``MCONn``, ``ISO``, ``SINGLE``;
    smscentre.com/api/smpp).
    :param window: requests in flight at once on this bind.
    :param timeouts: connect, bind, response, pool, enquire_link, unbind.
    :param tls: ``True`` for TLS with certificate verification, or an :class:`ssl.SSLContext`.
    :param max_rate: messages per second (None: no limit).
    :param submit_options: addressing and other ``submit_sm`` choices.
    :param options: the rarely changed knobs (:class:`~smscenter.config.SMPPOptions`:
        throttling, ``resend_unknown``, ``report_buffer`` (default 1000 here),
        ``on_late_answer``; ``read_ahead`` and ``receipt_ids`` are the pool's).
    :param name: how logs and errors name this bind (default ``host:port``).
    :param receipt_reader: turns a receipt ``deliver_sm`` into a report (default: the
        session's own :meth:`ReceiptReader.report <smscenter.smpp.receipts.ReceiptReader.report>`).
    :param connect: opens the byte stream to ``(host, port)`` (default: TCP, or TLS as
        ``tls`` says); the seam for tests (a memory stream) and unusual networks.
    :raises ValueError: credentials without a plain password.
    """

    def __init__(
        self,
        host: str,
        port: int,
        credentials: Credentials,
        *,
        mode: BindMode = BindMode.TRANSCEIVER,
        system_type: SystemType | str = "",
        window: int = 300,
        timeouts: Timeouts | None = None,
        tls: bool | ssl.SSLContext = False,
        max_rate: float | None = None,
        submit_options: SubmitOptions | None = None,
        options: SMPPOptions | None = None,
        name: str | None = None,
        receipt_reader: Callable[[DeliverSm], DeliveryReport] | None = None,
        connect: Connector | None = None,
    ) -> None:
        if credentials.login is None or credentials.password is None:
            raise ValidationError("an SMPP bind needs a login and a plain password")
        timeouts = timeouts or Timeouts()
        options = options or SMPPOptions()
        shared = Shared(
            queue=JobQueue(timeouts.pool),
            limiter=RateLimiter(max_rate),
            reports=ReportBuffer(options.report_buffer or 1000),
            read_receipt=receipt_reader or ReceiptReader().report,
            owned=True,
        )
        self._init(
            host,
            port,
            credentials,
            shared,
            mode=mode,
            system_type=system_type,
            window=window,
            timeouts=timeouts,
            tls=tls,
            submit_options=submit_options,
            options=options,
            name=name,
            connect=connect,
        )

    @classmethod
    def _create(
        cls, host: str, port: int, credentials: Credentials, shared: Shared, **knobs: Any
    ) -> SMPPSession:
        """For the pool: a bind sharing ``shared`` with the pool's other binds; ``knobs`` as
        :meth:`__init__` takes them (plumbing stays off the public signature, as trio's
        ``_create``)."""
        self = cls.__new__(cls)
        self._init(host, port, credentials, shared, **knobs)
        return self

    def _init(
        self,
        host: str,
        port: int,
        credentials: Credentials,
        shared: Shared,
        *,
        mode: BindMode = BindMode.TRANSCEIVER,
        system_type: SystemType | str = "",
        window: int = 300,
        timeouts: Timeouts | None = None,
        tls: bool | ssl.SSLContext = False,
        submit_options: SubmitOptions | None = None,
        options: SMPPOptions | None = None,
        name: str | None = None,
        connect: Connector | None = None,
    ) -> None:
        options = options or SMPPOptions()
        self.host = host
        self.port = port
        self.mode = mode
        self.system_type = (
            system_type if isinstance(system_type, SystemType) else SystemType.parse(system_type)
        )
        self.name = name or f"{host}:{port}"
        self._credentials = credentials
        self._window_size = window
        self._timeouts = timeouts or Timeouts()
        self._connector = connect or tcp_connector(tls)
        # A lone session owns its queue and report buffer: it ends them when it ends.
        self._own_queue = self._own_reports = shared.owned
        self._queue = shared.queue
        self._limiter = shared.limiter
        self._reports = shared.reports
        self._counters = shared.counters
        self._options = submit_options or SubmitOptions(iso=self.system_type.iso)
        self._builder = SubmitBuilder(self._options)
        self._resend_unknown: bool | ReconcilePolicy = options.resend_unknown
        self._conn = SMPPConnection(
            ESME,
            window=window,
            enquire_link_interval=self._timeouts.enquire_link,
        )
        self._link: Link | None = None
        self._stack: AsyncExitStack | None = None
        self._inflight = InFlight(self._counters, options.throttle_retries)
        self._wake_event = anyio.Event()
        self._timer_event = anyio.Event()
        self._timer_at: float | None = None
        self._closed_event = anyio.Event()
        self._idle_event: anyio.Event | None = None
        self._unbound_event = anyio.Event()
        # False once the reader has stopped for any reason (including a cancelled caller's
        # scope): nothing can be read any more, so a graceful unbind must not wait for answers.
        self._reading = True
        self._attached = False
        self._bound = False
        interval = self._timeouts.enquire_link
        # An enquire_link must be answered within this; while answers are overdue, probes are
        # at least this far apart (overdue.py).
        probe_timeout = min(self._timeouts.response or interval, interval)
        self._overdue = Overdue(probe_timeout)
        self._pump = Pump(
            self._conn,
            self._queue,
            self._limiter,
            self._inflight,
            self._counters,
            ThrottlePause(options.throttle_pause),
            self._overdue,
            self._timeouts.response,
            self._wrote,
        )
        self._intake = ReportIntake(
            self._reports,
            self._counters,
            shared.reassembler,
            shared.read_receipt,
            self._acknowledge,
            self.name,
        )
        self._dispatch = Dispatch(
            self._pump,
            self._intake,
            name=self.name,
            timeouts=self._timeouts,
            probe_timeout=probe_timeout,
            on_late_answer=options.on_late_answer,
            clock=anyio.current_time,
            wake=self.wake,
            poke_timer=self._poke_timer,
            detach=self._detach,
            die=self._die,
            unbound=self._unbound_event.set,
            idle=self._idle,
        )
        #: Why the session ended (None while it runs or after a clean close).
        self.error: BaseException | None = None

    def __repr__(self) -> str:
        state = "bound" if self._bound else ("closed" if self._closed_event.is_set() else "open")
        return (
            f"<SMPPSession {self.name} {self.mode.value} {state} "
            f"in_flight={self._conn.in_flight}/{self._window_size} pending={len(self._inflight)}>"
        )

    # --- for the queue ------------------------------------------------------------------------

    @property
    def capacity_left(self) -> int:
        """Free window slots (0 while closing, or while an answer is overdue)."""
        if not self._pump.taking or self._overdue.stalled:
            return 0
        return self._conn.window_available

    @property
    def in_flight(self) -> int:
        """Requests awaiting their response."""
        return len(self._inflight)

    @property
    def bound(self) -> bool:
        """True while the bind is up and taking work."""
        return self._bound and not self._closed_event.is_set()

    @property
    def unbound_by_peer(self) -> bool:
        """The SMSC ended the bind with an unbind (e.g. another bind of the login without
        ``MCONn`` took its place, smscentre.com/api/smpp)."""
        return self._dispatch.unbound_by_peer

    def wake(self) -> None:
        """Ask the writer to look for work."""
        event = self._wake_event
        if not event.is_set():
            event.set()

    def _poke_timer(self) -> None:
        self._timer_event.set()

    def _wrote(self, deadline: float | None) -> None:
        """The pump wrote requests due by ``deadline``: the timer must see it if it sleeps
        past it (or sleeps with nothing to wait for)."""
        timer_at = self._timer_at
        if timer_at is None or (deadline is not None and deadline < timer_at):
            self._timer_event.set()

    def _idle(self) -> None:
        if self._idle_event is not None:
            self._idle_event.set()  # a graceful unbind waiting for answers need not wait

    # --- lifecycle ----------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        async with AsyncExitStack() as stack:
            link = self._link = await Link.open(
                self._connector,
                self.host,
                self.port,
                connect_timeout=self._timeouts.connect,
                name=self.name,
            )
            stack.push_async_callback(link.aclose)
            early = await bind(
                link,
                self._conn,
                self.mode,
                self._credentials,
                self.system_type.render(),
                within=self._timeouts.bind,
                name=self.name,
            )
            # What came with the bind answer is handled before the tasks start: in order.
            self._dispatch.handle(early)
            tg = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(tg.cancel_scope.cancel)  # leaving cancels the tasks, then waits
            await tg.start(self._reader, link)
            await tg.start(self._writer, link)
            await tg.start(self._timer)
            if self._own_queue:
                await tg.start(watch_queue, self._queue)
            self._stack = stack.pop_all()
        self._bound = True
        if self.mode.can_send:
            self._pump.taking = True
            self._queue.attach(self)
            self._attached = True
        self.wake()
        logger.info("smpp %s: bound as %s", self.name, self.mode.value)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Unbind gracefully: stop taking work, wait (at most ``Timeouts.unbind``) for answers
        in flight, unbind, close. Anything still unanswered ends as an unknown outcome."""
        stack, self._stack = self._stack, None
        if stack is None:
            return
        try:
            with anyio.CancelScope(shield=True):
                await self._graceful_unbind()
            await stack.aclose()
        finally:
            self._finish_all()
            if self._own_queue:
                self._queue.fail_all(ConnectionLost("the session closed", host=self.name))
            if self._own_reports:
                self._reports.close()

    async def wait_closed(self) -> None:
        """Wait until the link ends (dropped, unbound by the SMSC, or dead)."""
        await self._closed_event.wait()

    async def _graceful_unbind(self) -> None:
        self._detach()
        if self._closed_event.is_set() or self._conn.state is State.CLOSED:
            return
        if not self._reading:
            await self._unbind_without_reader()
            return
        budget = self._timeouts.unbind
        with anyio.move_on_after(budget):
            while self._pump.busy:
                if self._closed_event.is_set() or not self._reading:
                    return
                self._idle_event = anyio.Event()
                await self._idle_event.wait()
            if self._conn.state in _BOUND:
                self._conn.send_unbind()
                self._dispatch.unbind_sent = True
                self.wake()
                await self._unbound_event.wait()
        if self._inflight.pending:
            logger.warning(
                "smpp %s: closing with %d requests unanswered", self.name, len(self._inflight)
            )

    async def _unbind_without_reader(self) -> None:
        """The tasks were cancelled from outside: say goodbye in one write, wait for nothing."""
        link = self._link
        if link is None or self._conn.state not in _BOUND:
            return
        self._conn.send_unbind()
        self._dispatch.unbind_sent = True
        with anyio.move_on_after(1, shield=True):
            await link.send_quietly(self._conn.data_to_send())

    def _detach(self) -> None:
        self._pump.taking = False
        if self._attached:
            self._attached = False
            self._queue.detach(self)
            self._queue.wake_one()  # let another bind pick up what this one leaves

    def _die(self, error: BaseException | None) -> None:
        """The link is over: stop everything and settle every job."""
        if self._closed_event.is_set():
            return
        if error is not None and self.error is None:
            self.error = error
            logger.warning("smpp %s: link lost: %s", self.name, error)
        self._bound = False
        self._detach()
        self._closed_event.set()
        self._unbound_event.set()
        self.wake()
        self._timer_event.set()
        if self._idle_event is not None:
            self._idle_event.set()
        self._finish_all()
        if self._own_queue:
            # A lone session has nobody to hand its queue to: what was never written fails
            # with a definite ConnectionLost (safe to send again).
            self._queue.fail_all(
                self.error or ConnectionLost(f"the bind to {self.name} closed", host=self.name)
            )

    def _finish_all(self) -> None:
        lost = self.error or ConnectionLost(f"the bind to {self.name} closed", host=self.name)
        now = anyio.current_time()
        setting = self._resend_unknown
        self._pump.settle_all(
            lambda: UnknownOutcomeError(
                f"the link to {self.name} closed before the SMSC answered; the message may "
                "have been sent",
                cause=lost,
            ),
            lambda job, index: take_back(setting, job, index, now),
        )

    def take_back_unwritten(self) -> Job | None:
        """Hand back the message this bind took from the queue but has not written any part of
        (it waits for the rate limit), so a job that stops can withdraw it; ``None`` if there
        is none. The caller ends it."""
        job = self._pump.take_back_unwritten()
        if job is not None and self._idle_event is not None and not self._pump.busy:
            self._idle_event.set()  # a graceful unbind waiting for it need not wait longer
        return job

    def hold_until(self, stop_at: Callable[[], float]) -> None:
        """Write nothing once ``stop_at()`` (monotonic, moved on by each lease renewal) has
        passed, checked before every write: a worker frozen past it sends nothing on waking,
        even before its lease task has run."""
        self._pump.halt_at = stop_at

    def stop_sending(self) -> None:
        """Write no more requests (the fleet lease of this bind ends): the messages this bind
        holds unwritten go back to the queue for the other binds; answers in flight are still
        read, and :meth:`aclose` then unbinds."""
        self._detach()
        self._pump.halt()
        inflight = self._inflight
        if self._idle_event is not None and not inflight.pending and not inflight.retry:
            self._idle_event.set()

    # --- public operations --------------------------------------------------------------------

    async def send(self, message: Message, *, urgent: bool = False) -> SendResult:
        """Send a message to its one recipient; return its ids.

        :param urgent: overtake queued bulk messages.
        :raises ValueError: the message has several recipients or SMPP cannot carry it.
        :raises APIError: the SMSC refused it (e.g. ThrottledError after all resends).
        :raises PoolTimeout: it waited longer than ``Timeouts.pool`` for a free slot.
        :raises UnknownOutcomeError: written but never answered; it may have been sent.
        """
        if not self.mode.can_send:
            raise RuntimeError("a receiver bind cannot send")
        recipient = check_single(message)
        parts = self._builder.build(message, recipient)
        job = await run_job(
            self._queue,
            Job(parts, noop, urgent, message=message, recipient=recipient),
        )
        if job.error is not None:
            raise job.error
        return send_result(job)

    async def query(self, message_id: str, *, source_addr: str = "") -> QueryResult:
        """Ask the SMSC for a message's state (``query_sm``).

        :raises APIError: the SMSC refused the query (e.g. unknown id).
        """
        return await query_through(self._queue, message_id, source_addr)

    def reports(self) -> ReportStream:
        """The delivery reports and incoming messages this bind receives."""
        return ReportStream._create(self._reports)

    def statistics(self) -> SMPPStatistics:
        """This session's counters now."""
        return self._counters.snapshot(
            unknown=self._queue.unknown if self._own_queue else 0,
            in_flight=len(self._inflight),
            queued=len(self._queue),
            binds_up=1 if self.bound else 0,
            binds=1,
            rate=self._limiter.rate,
        )

    # --- tasks --------------------------------------------------------------------------------

    async def _reader(
        self, link: Link, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        receive = link.receive
        receive_data = self._conn.receive_data
        handle = self._dispatch.handle
        task_status.started()
        try:
            while True:
                data = await receive()  # b"": the link ended (or broke: _stream.py)
                handle(receive_data(data))
                if not data or self._closed_event.is_set():
                    break
        except anyio.get_cancelled_exc_class():
            # Cancelled from outside (e.g. the caller's deadline around the pool): nobody reads
            # answers now, so wake whatever waits for one instead of letting it sit out its
            # timeout.
            self._reading = False
            self._unbound_event.set()
            if self._idle_event is not None:
                self._idle_event.set()
            raise
        except Exception as exc:  # a bug must not leave callers waiting forever
            logger.exception("smpp %s: reader failed", self.name)
            self._die(ConnectionLost(f"reader failed: {exc!r}", host=self.name))
        self._reading = False
        self._die(None)

    async def _writer(
        self, link: Link, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        send = link.send
        conn = self._conn
        pump = self._pump.pump
        clock = anyio.current_time
        task_status.started()
        try:
            while not self._closed_event.is_set():
                delay = pump(clock())
                data = conn.data_to_send()
                if data:
                    await send(data)
                if delay is not None:
                    with anyio.move_on_after(delay):
                        await self._wake_event.wait()
                else:
                    await self._wake_event.wait()
                self._wake_event = anyio.Event()
            data = conn.data_to_send()  # e.g. unbind_resp to the SMSC's unbind
            if data:
                with anyio.move_on_after(1):
                    await send(data)
        except anyio.get_cancelled_exc_class():
            raise
        except ConnectionLost as exc:  # the link broke (_stream.py maps every cause)
            self._die(exc)
        except Exception as exc:
            logger.exception("smpp %s: writer failed", self.name)
            self._die(ConnectionLost(f"writer failed: {exc!r}", host=self.name))

    async def _timer(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        tick = self._dispatch.tick
        closed = self._closed_event
        task_status.started()
        try:
            while not closed.is_set():
                now = anyio.current_time()
                nxt = tick(now)
                if closed.is_set():
                    return  # the link ended (a dead link, the wait after an unbind ran out)
                self._timer_event = anyio.Event()
                self._timer_at = nxt
                if nxt is None:
                    await self._timer_event.wait()
                else:
                    with anyio.move_on_after(max(0.0, nxt - now)):
                        await self._timer_event.wait()
        except anyio.get_cancelled_exc_class():
            raise
        except Exception as exc:  # pragma: no cover - a bug
            logger.exception("smpp %s: timer failed", self.name)
            self._die(ConnectionLost(f"timer failed: {exc!r}", host=self.name))

    # --- the reports' acknowledgements -------------------------------------------------------

    def _acknowledge(
        self, pdus: tuple[DeliverSm, ...], status: CommandStatus = CommandStatus.ESME_ROK
    ) -> None:
        """The application took the item made of ``pdus``: answer them (if the link lives).
        A store that failed to record a receipt answers ``status`` "try later" instead."""
        if self._closed_event.is_set():
            return
        try:
            for pdu in pdus:
                self._conn.respond(pdu, status)
        except LocalProtocolError:  # pragma: no cover - closed meanwhile
            return
        self.wake()
