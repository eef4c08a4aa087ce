"""One SMPP bind over TCP or TLS, on anyio: the sans-IO :class:`~smscenter.smpp.connection.
SMPPConnection` with a socket, a clock and three tasks.

Shape (mqttproto's, with its gaps fixed):

- **reader**: reads big chunks, feeds them to the connection (many PDUs per read), reacts to the
  events (what an answer does to its job is decided in _inflight.py; reads and writes go
  through _stream.py): a response completes its job part, a throttle answer
  pauses the bind and puts the part back for resending, a ``deliver_sm`` is converted and handed
  to the report buffer (reports.py). The reader never awaits user code.
- **writer**: on each wake-up moves as much queued work into the connection as the window, the
  rate limit and a throttle pause allow, then writes everything queued in one ``send`` (batched
  writes with TCP_NODELAY on; docs/performance.md).
- **timer**: expires requests past ``Timeouts.response`` (their outcome becomes unknown, never a
  silent resend), sends ``enquire_link`` after ``Timeouts.enquire_link`` of silence (the provider
  cuts links idle for 2 minutes, smscentre.com/api/smpp) and declares the link dead when one goes
  unanswered. A timed-out request stops the bind taking work until a probe answers (overdue.py).

Each part of a multi-part incoming message is answered as soon as the reassembler holds it
(an SMSC that sends one part and waits for its answer must not stall); the part that completes
the message is answered once the joined message has been handed over.

Back-pressure on incoming ``deliver_sm``: the report buffer is bounded. A ``deliver_sm_resp`` is
sent only when the application has *taken* the report from the stream and asked for the next
one, so a crash never acknowledges a report nobody saw; when the buffer is full the reader
answers ``ESME_RX_T_APPN`` (temporary application error: the SMSC keeps it and delivers it
again later) instead of blocking, so submit responses keep flowing whatever the consumer does.

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
    BindTimeout,
    ConnectionLost,
    LocalProtocolError,
    ResponseTimeout,
    UnknownOutcomeError,
    ValidationError,
)
from smscenter.models import DeliveryReport, Message, SendResult
from smscenter.smpp.client._inflight import InFlight, Settled
from smscenter.smpp.client._jobs import (
    Job,
    JobQueue,
    JobState,
    check_single,
    noop,
    query_through,
    run_job,
    send_result,
)
from smscenter.smpp.client._ratelimit import RateLimiter, ThrottlePause
from smscenter.smpp.client._shared import Shared
from smscenter.smpp.client._stream import Connector, Link, tcp_connector
from smscenter.smpp.client.overdue import LateAnswerHandler, Overdue
from smscenter.smpp.client.reconcile import (
    ReconcilePolicy,
    take_back,
    too_late,
)
from smscenter.smpp.client.reports import ReportBuffer, ReportIntake, ReportStream
from smscenter.smpp.client.results import QueryResult, SMPPStatistics
from smscenter.smpp.connection import ESME, SMPPConnection, State
from smscenter.smpp.constants import BindMode, CommandId, CommandStatus
from smscenter.smpp.events import (
    BindComplete,
    BindRefused,
    ConnectionClosed,
    DeliverSmReceived,
    EnquireLinkReceived,
    Event,
    LateResponse,
    ProtocolViolation,
    RequestExpired,
    RequestReceived,
    ResponseReceived,
    SubmitsAccepted,
    UnbindComplete,
    UnbindReceived,
)
from smscenter.smpp.pdu import DeliverSm, Pdu
from smscenter.smpp.receipts import ReceiptReader
from smscenter.smpp.statuses import status_error
from smscenter.smpp.submit import SubmitBuilder, SubmitOptions
from smscenter.smpp.system_type import SystemType

__all__ = ("SMPPSession",)

logger = logging.getLogger(__name__)

_SUBMIT_SM = CommandId.SUBMIT_SM


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
        self._current: Job | None = None
        self._current_paid = False
        self._wake_event = anyio.Event()
        self._timer_event = anyio.Event()
        self._timer_at: float | None = None
        self._closed_event = anyio.Event()
        self._idle_event: anyio.Event | None = None
        self._unbound_event = anyio.Event()
        # False once the reader has stopped for any reason (including a cancelled caller's
        # scope): nothing can be read any more, so a graceful unbind must not wait for answers.
        self._reading = True
        self._unbind_sent = False
        self._throttle = ThrottlePause(options.throttle_pause)
        self._taking = False
        # Set by stop_sending (a fleet lease ends): nothing more is written but the goodbye.
        self._halted = False
        self._attached = False
        self._bound = False
        interval = self._timeouts.enquire_link
        # An enquire_link must be answered within this; while answers are overdue, probes are
        # at least this far apart (overdue.py).
        self._probe_timeout = min(self._timeouts.response or interval, interval)
        self._overdue = Overdue(self._probe_timeout)
        self._on_late_answer: LateAnswerHandler | None = options.on_late_answer
        # After the SMSC's unbind: when to stop waiting for answers still in flight.
        self._drain_until: float | None = None
        self._intake = ReportIntake(
            self._reports,
            self._counters,
            shared.reassembler,
            shared.read_receipt,
            self._acknowledge,
            self.name,
        )
        #: Why the session ended (None while it runs or after a clean close).
        self.error: BaseException | None = None
        #: The SMSC ended the bind with an unbind (e.g. another bind of the login without
        #: ``MCONn`` took its place, smscentre.com/api/smpp).
        self.unbound_by_peer = False

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
        if not self._taking or self._overdue.stalled:
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

    def wake(self) -> None:
        """Ask the writer to look for work."""
        event = self._wake_event
        if not event.is_set():
            event.set()

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
            early = await self._bind(link)
            # What came with the bind answer is handled before the tasks start: in order.
            self._handle(early)
            tg = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(tg.cancel_scope.cancel)  # leaving cancels the tasks, then waits
            await tg.start(self._reader, link)
            await tg.start(self._writer, link)
            await tg.start(self._timer)
            if self._own_queue:
                await tg.start(self._watchdog)
            self._stack = stack.pop_all()
        self._bound = True
        if self.mode.can_send:
            self._taking = True
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

    async def _bind(self, link: Link) -> list[Event]:
        conn = self._conn
        creds = self._credentials
        assert creds.login is not None and creds.password is not None
        try:
            conn.send_bind(
                self.mode,
                system_id=creds.login,
                password=creds.password,
                system_type=self.system_type.render(),
            )
        except LocalProtocolError as exc:
            # A field over its limit; the message names the field, never the password's value.
            raise ValueError(f"cannot bind: {exc}") from None
        timeout = self._timeouts.bind
        try:
            with anyio.fail_after(timeout):
                await link.send(conn.data_to_send())
                while True:
                    events = conn.receive_data(await link.receive())
                    for i, event in enumerate(events):
                        if isinstance(event, BindComplete):
                            return events[i + 1 :]
                        if isinstance(event, BindRefused):
                            raise status_error(event.command_status, "bind")
                        if isinstance(event, ConnectionClosed):
                            raise ConnectionLost(
                                f"{self.name} closed the connection during the bind",
                                host=self.name,
                            )
                    out = conn.data_to_send()
                    if out:
                        await link.send(out)
        except TimeoutError:
            raise BindTimeout(
                f"{self.name} did not answer the bind within {timeout} s", host=self.name
            ) from None

    async def _graceful_unbind(self) -> None:
        self._detach()
        if self._closed_event.is_set() or self._conn.state is State.CLOSED:
            return
        if not self._reading:
            await self._unbind_without_reader()
            return
        budget = self._timeouts.unbind
        with anyio.move_on_after(budget):
            while self._inflight.pending or self._current is not None or self._inflight.retry:
                if self._closed_event.is_set() or not self._reading:
                    return
                self._idle_event = anyio.Event()
                await self._idle_event.wait()
            if self._conn.state in (State.BOUND_TX, State.BOUND_RX, State.BOUND_TRX):
                self._conn.send_unbind()
                self._unbind_sent = True
                self.wake()
                await self._unbound_event.wait()
        if self._inflight.pending:
            logger.warning(
                "smpp %s: closing with %d requests unanswered", self.name, len(self._inflight)
            )

    async def _unbind_without_reader(self) -> None:
        """The tasks were cancelled from outside: say goodbye in one write, wait for nothing."""
        link = self._link
        if link is None or self._conn.state not in (
            State.BOUND_TX,
            State.BOUND_RX,
            State.BOUND_TRX,
        ):
            return
        self._conn.send_unbind()
        self._unbind_sent = True
        with anyio.move_on_after(1, shield=True):
            await link.send_quietly(self._conn.data_to_send())

    def _detach(self) -> None:
        self._taking = False
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
        resend, answered_never = self._inflight.fail_all(
            lambda: UnknownOutcomeError(
                f"the link to {self.name} closed before the SMSC answered; the message may "
                "have been sent",
                cause=lost,
            ),
            lambda job, index: take_back(setting, job, index, now),
        )
        leftovers: list[Job] = []
        if self._current is not None:
            leftovers.append(self._current)
            self._current = None
        retry = self._inflight.retry
        leftovers.extend(retry)
        retry.clear()
        # A long message cut mid-window is both a leftover and a resend: back once, not twice.
        leftovers.extend(job for job in resend if job not in leftovers)
        for job in leftovers:
            if job.state is JobState.DONE:
                continue
            if job.error is None and job.todo:
                if job.in_flight:
                    continue  # its last answers will never come: settled above
                job.attempts += 1
                self._queue.push_back(job)
            else:
                job.finish_if_done()
        for job in answered_never:
            if job.state is not JobState.QUEUED:
                job.finish_if_done()
        if resend or leftovers:
            self._queue.wake_one()

    def take_back_unwritten(self) -> Job | None:
        """Hand back the message this bind took from the queue but has not written any part of
        (it waits for the rate limit), so a job that stops can withdraw it; ``None`` if there
        is none. The caller ends it."""
        job = self._current
        if job is None or job.written or job.in_flight or job.state is not JobState.STARTED:
            return None
        self._current, self._current_paid = None, False
        if self._idle_event is not None and not self._inflight.pending and not self._inflight.retry:
            self._idle_event.set()  # a graceful unbind waiting for it need not wait longer
        return job

    def stop_sending(self) -> None:
        """Write no more requests (the fleet lease of this bind ends): the messages this bind
        holds unwritten go back to the queue for the other binds; answers in flight are still
        read, and :meth:`aclose` then unbinds."""
        self._halted = True
        self._detach()
        held = self.take_back_unwritten()
        if held is not None:
            self._queue.push_back(held)
        retry = self._inflight.retry
        for job in [job for job in retry if not job.in_flight]:
            retry.remove(job)
            self._queue.push_back(job)
        self._queue.wake_one()
        if self._idle_event is not None and not self._inflight.pending and not retry:
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
        c = self._counters
        return SMPPStatistics(
            submitted=c.submitted,
            acknowledged=c.acknowledged,
            rejected=c.rejected,
            throttled=c.throttled,
            unknown=c.unknown + (self._queue.unknown if self._own_queue else 0),
            in_flight=len(self._inflight),
            queued=len(self._queue),
            binds_up=1 if self.bound else 0,
            binds=1,
            reports=c.reports,
            reports_deferred=c.reports_deferred,
            rate=self._limiter.rate,
            late_accepted=c.late_accepted,
            late_refused=c.late_refused,
        )

    # --- tasks --------------------------------------------------------------------------------

    async def _reader(
        self, link: Link, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        receive = link.receive
        receive_data = self._conn.receive_data
        handle = self._handle
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
        clock = anyio.current_time
        task_status.started()
        try:
            while not self._closed_event.is_set():
                delay = self._pump(clock())
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
        conn = self._conn
        overdue = self._overdue
        probe_timeout = self._probe_timeout
        task_status.started()
        try:
            while not self._closed_event.is_set():
                now = anyio.current_time()
                expired = conn.expire(now)
                if expired:
                    self._handle(expired)
                if self._intake.reassembler.pending:
                    self._intake.expire(now)
                drain_until = self._drain_until
                if drain_until is not None and now >= drain_until:
                    self._die(
                        ConnectionLost(
                            f"{self.name} unbound and did not answer {len(self._inflight)} "
                            f"requests in flight within {self._timeouts.unbind} s",
                            host=self.name,
                        )
                    )
                    return
                timers = conn.timers(now)
                if timers.link_dead:
                    self._die(
                        ConnectionLost(
                            f"{self.name} did not answer enquire_link within {probe_timeout} s",
                            host=self.name,
                        )
                    )
                    return
                if timers.enquire_link_due or overdue.probe_due(now):
                    self._probe(now)
                    timers = conn.timers(now)
                self._timer_event = anyio.Event()
                nxt = timers.next_check
                for at in (overdue.next_probe(), drain_until):
                    if at is not None and (nxt is None or at < nxt):
                        nxt = at
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

    def _probe(self, now: float) -> None:
        """Send an enquire_link, unless one is out already (never two at once)."""
        overdue = self._overdue
        if overdue.probe_seq is not None or self._conn.state not in (
            State.BOUND_TX,
            State.BOUND_RX,
            State.BOUND_TRX,
        ):
            return
        try:
            seq = self._conn.send_enquire_link(deadline=now + self._probe_timeout)
        except LocalProtocolError:  # pragma: no cover - state raced
            return
        overdue.probe_sent(seq, now)
        self.wake()

    async def _watchdog(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """(Standalone session) time out jobs nobody takes."""
        queue = self._queue
        task_status.started()
        while True:
            event = anyio.Event()
            queue.set_watchdog(event.set)
            now = anyio.current_time()
            nxt = queue.expire(now)
            if nxt is None:
                await event.wait()
            else:
                with anyio.move_on_after(nxt - now):
                    await event.wait()

    # --- the writer's work --------------------------------------------------------------------

    def _pump(self, now: float) -> float | None:
        """Move work into the connection: the parts of every job the window has room for,
        written through one ``send_encoded`` call per run of jobs of one kind (one write).
        Returns how long to wait before trying again when a throttle pause or the rate limit
        holds it back (None: wait for a wake-up)."""
        if self._halted:
            return None
        paused = self._throttle.left(now)
        if paused:
            return paused
        if self._overdue.stalled:
            return None  # an answer is overdue: nothing new until the probe answers
        if self._conn.state not in (State.BOUND_TX, State.BOUND_TRX):
            return None  # (nor while unbinding)
        limiter = self._limiter
        queue = self._queue
        retry = self._inflight.retry
        counters = self._counters
        response = self._timeouts.response
        deadline = now + response if response is not None else None
        job = self._current
        paid = self._current_paid
        sent = False
        # No limit in force: only count what goes out (for the rate a throttle answer halves),
        # once for the whole batch.
        unlimited = limiter.rate is None
        counted = 0
        # Every part (submit_sm, query_sm) takes one window slot: count locally.
        room = self._conn.window_available
        command_id = _SUBMIT_SM
        bodies: list[bytes] = []
        parts: list[tuple[Job, int]] = []
        while room > 0:
            if job is None:
                if retry:
                    job = retry.popleft()
                elif self._taking:
                    job = queue.pop(now)
                    if job is None:
                        break
                    job.attempts += 1
                else:
                    break
                paid = False
            if job.context is not None and too_late(job, now):
                # A resend that a pause held past its duplicate window (ReconcilePolicy):
                # too_late failed it, unwritten.
                counters.unknown += 1
            todo = job.todo
            if not todo:  # failed while waiting: nothing left to write
                if not job.in_flight:  # (else its last answer finishes it)
                    job.finish_if_done()
                job = None
                continue
            if not paid and job.counts_rate:
                if unlimited:
                    counted += len(todo)
                else:
                    wait = limiter.take(len(todo), now)
                    if wait > 0:
                        if bodies:
                            self._write(command_id, bodies, parts, deadline)
                            self._timer_event.set()  # their deadline: let the timer see it
                        self._current, self._current_paid = job, False
                        return wait
            paid = True
            if job.command_id is not command_id:
                if bodies:  # keep the order: what was collected goes first
                    self._write(command_id, bodies, parts, deadline)
                    sent = True
                command_id = job.command_id
            job_parts = job.parts
            if len(todo) == 1:  # nearly every job: one part
                index = todo.pop()
                bodies.append(job_parts[index])
                parts.append((job, index))
                job.in_flight += 1
                room -= 1
            else:
                take = todo[:room]
                del todo[:room]
                for index in take:
                    bodies.append(job_parts[index])
                    parts.append((job, index))
                job.in_flight += len(take)
                room -= len(take)
            job.written = True
            if todo:
                break  # window full in the middle of a long message: finish it first next time
            job = None
        if bodies:
            self._write(command_id, bodies, parts, deadline)
            sent = True
        self._current, self._current_paid = job, paid
        if counted:
            limiter.note(counted, now)
        if self._taking and room <= 0 and len(queue):
            queue.wake_one()  # this bind is full: pass the rest on to one with room
        if sent and self._timer_at is not None and deadline is not None:
            if deadline < self._timer_at:
                self._timer_event.set()
        elif sent and self._timer_at is None:
            self._timer_event.set()
        return None

    def _write(
        self,
        command_id: CommandId,
        bodies: list[bytes],
        parts: list[tuple[Job, int]],
        deadline: float | None,
    ) -> None:
        """Queue the collected parts (``bodies[i]`` is part ``parts[i]``, its job's bookkeeping
        done but for the sequence number) in the connection; empties both lists."""
        try:
            seqs = self._conn.send_encoded(command_id, bodies, deadline=deadline)
        except LocalProtocolError as exc:  # pragma: no cover - _pump checked state and room
            for job, _index in parts:
                job.in_flight -= 1
                job.fail(exc)
                job.todo.clear()
            for job, _index in parts:
                job.finish_if_done()
        else:
            self._inflight.written(seqs, parts)
            if command_id is _SUBMIT_SM:
                self._counters.submitted += len(seqs)
        bodies.clear()
        parts.clear()

    # --- the reader's work --------------------------------------------------------------------

    def _handle(self, events: list[Event]) -> None:
        inflight = self._inflight
        freed = False
        for event in events:
            match event:
                case SubmitsAccepted(accepted=accepted):
                    # The writer first: it refills the window (and the SMSC gets to work on it)
                    # before the callers woken below take their turn with the outcomes.
                    self.wake()
                    inflight.settle_accepted(accepted)
                    freed = True
                case ResponseReceived(request_seq=seq, pdu=pdu):
                    freed = self._answered(seq, pdu) or freed
                case DeliverSmReceived(pdu=pdu):
                    self._on_deliver(pdu)
                case RequestExpired(request_seq=seq):
                    freed = self._expired(seq) or freed
                case LateResponse():
                    self._late(event)
                case EnquireLinkReceived():
                    freed = True  # enquire_link_resp is queued: let the writer send it
                case UnbindComplete():
                    self._unbound_event.set()
                case UnbindReceived():
                    self.unbound_by_peer = True
                    freed = True
                    self._peer_unbound()
                case ConnectionClosed(reason=reason):
                    self._closed(reason)
                case ProtocolViolation(error=error, request_seq=broken):
                    logger.warning("smpp %s: protocol violation: %s", self.name, error)
                    freed = True
                    if broken is not None:  # like a lost answer: it may have been sent
                        inflight.expire(broken, _malformed(error))
                case RequestReceived(pdu=pdu) if pdu.response_class is not None:
                    self._conn.respond(pdu, CommandStatus.ESME_RINVCMDID)
                    freed = True
                case _:  # BindComplete etc. after bind: nothing to do
                    logger.debug("smpp %s: %r", self.name, event)
        if freed:
            self.wake()
        if self._idle_event is not None and not inflight.pending:
            self._idle_event.set()

    def _answered(self, seq: int, pdu: Pdu) -> bool:
        """Any answer but an acceptance of a submit; True when the writer should look again."""
        settled = self._inflight.settle_response(seq, pdu, anyio.current_time(), self._current)
        if settled is Settled.NOT_OURS:
            if self._overdue.answered(seq):
                # The link answers: feed it again.
                logger.info("smpp %s: the SMSC answers again", self.name)
                return True
            return False
        if settled is Settled.THROTTLED:
            self._throttled()
        return True

    def _expired(self, seq: int) -> bool:
        """No answer to ``seq`` in time: its message may have been sent."""
        timeout = self._timeouts.response

        def unknown() -> BaseException:
            return UnknownOutcomeError(
                f"{self.name} did not answer within {timeout} s; the message may have been sent",
                cause=ResponseTimeout(f"no response within {timeout} s", host=self.name),
            )

        entry = self._inflight.expire(seq, unknown)
        if entry is None:
            return False
        if not self._overdue.stalled:
            logger.warning(
                "smpp %s: an answer is overdue; no new work on this bind until it answers "
                "enquire_link",
                self.name,
            )
            self._queue.wake_one()  # what this bind would have taken goes elsewhere
        job, index = entry
        self._overdue.expired(seq, job, index)
        return True

    def _closed(self, reason: str) -> None:
        if reason == "unbind":
            self._die(None)
        elif reason == "eof" and self._unbind_sent:
            # Some SMSCs (smpp34's server among them) close at once on unbind without an
            # unbind_resp: that is the goodbye we asked for, not a lost link.
            logger.info("smpp %s: closed after our unbind (no unbind_resp)", self.name)
            self._die(None)
        else:
            self._die(ConnectionLost(f"the link to {self.name} closed ({reason})", host=self.name))

    def _peer_unbound(self) -> None:
        """The SMSC sent unbind (answered already). With requests in flight the connection
        keeps reading their answers, up to ``Timeouts.unbind``; then the link ends, and the pool
        reconnects as after any lost link."""
        self._detach()
        if self._conn.state is State.CLOSED:
            logger.info("smpp %s: the SMSC unbound", self.name)
            return
        budget = self._timeouts.unbind
        logger.info(
            "smpp %s: the SMSC unbound; reading the answers to %d requests in flight (at most "
            "%s s)",
            self.name,
            len(self._inflight),
            budget,
        )
        if budget is not None:
            self._drain_until = anyio.current_time() + budget
            self._timer_event.set()

    def _late(self, event: LateResponse) -> None:
        """An answer after its request timed out: log it with its message id; a submit's is
        counted and handed to ``on_late_answer`` (its caller already heard "unknown")."""
        pdu = event.pdu
        message_id = getattr(pdu, "message_id", "")
        logger.warning(
            "smpp %s: late %s (sequence %d, status %d, message id %r) after the request timed out",
            self.name,
            pdu.command_id.name.lower(),
            event.request_seq,
            pdu.command_status,
            message_id,
        )
        answer = self._overdue.late(event, self.name)
        if answer is None:
            return
        if answer.accepted:
            self._counters.late_accepted += 1
        else:
            self._counters.late_refused += 1
        handler = self._on_late_answer
        if handler is not None:
            try:
                handler(answer)
            except Exception:
                logger.exception("smpp %s: on_late_answer failed", self.name)

    def _throttled(self) -> None:
        now = anyio.current_time()
        # The shared limiter slows the pool to what the SMSC accepted; this bind then pauses
        # only until the new rate allows the next part (never longer than throttle_pause).
        # When the limiter sets no new rate (too few sends to learn one, or refusals it found
        # not to depend on speed) the full pause applies: "try later" (SMPP 3.4 §5.1.3), not
        # at once, which would spend throttle_retries in a few round trips.
        pause = self._throttle.throttled(now, self._limiter.throttled(now))
        if pause is not None:
            logger.warning(
                "smpp %s: throttled by the SMSC; pausing %.2f s and slowing down", self.name, pause
            )

    def _on_deliver(self, pdu: DeliverSm) -> None:
        status = self._intake.deliver(pdu, anyio.current_time())
        if status is not None:  # answered now (reports.py says why); else when taken
            self._conn.respond(pdu, status)
            self.wake()

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


def _malformed(error: BaseException) -> Callable[[], BaseException]:
    return lambda: UnknownOutcomeError("the answer was malformed", cause=error)
