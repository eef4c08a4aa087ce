"""The machinery of one SMPP bind over TCP or TLS, on anyio: the sans-IO :class:`~smscenter.smpp.
connection.SMPPConnection` with a socket, a clock and three tasks, started in one task group with
``tg.start`` (mqttproto's shape, with its gaps fixed). :class:`~smscenter.smpp.client.session.
SMPPSession` is this plus its public constructor and operations. The decisions are sync code
elsewhere:

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
from collections.abc import Callable
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Self

import anyio
import anyio.abc
import attrs

from smscenter.config import Credentials, SMPPOptions, Timeouts
from smscenter.exceptions import ConnectionLost, LocalProtocolError, UnknownOutcomeError
from smscenter.smpp.client._dispatch import Dispatch
from smscenter.smpp.client._handshake import bind
from smscenter.smpp.client._inflight import InFlight
from smscenter.smpp.client._jobs import Job
from smscenter.smpp.client._pump import Pump
from smscenter.smpp.client._ratelimit import ThrottlePause
from smscenter.smpp.client._shared import Shared
from smscenter.smpp.client._stream import Connector, Link
from smscenter.smpp.client._waiting import watch_queue
from smscenter.smpp.client.overdue import Overdue
from smscenter.smpp.client.reconcile import take_back
from smscenter.smpp.client.reports import ReportIntake
from smscenter.smpp.connection import ESME, SMPPConnection, State
from smscenter.smpp.constants import BindMode, CommandId, CommandStatus
from smscenter.smpp.submit import SubmitBuilder, SubmitOptions
from smscenter.smpp.system_type import SystemType

__all__ = ("Bind", "BindSettings")

# The session's name, as before the split: logging configured for it keeps working.
logger = logging.getLogger("smscenter.smpp.client.session")

_BOUND = (State.BOUND_TX, State.BOUND_RX, State.BOUND_TRX)
_DELIVER_SM_RESP = CommandId.DELIVER_SM_RESP


@attrs.frozen(kw_only=True)
class BindSettings:
    """How to bind, the same for every bind of a pool (the pool builds it once; a lone
    :class:`~smscenter.smpp.client.session.SMPPSession` from its arguments, defaults filled in).

    :ivar connect: opens the byte stream (TCP, TLS, or a test's memory stream).
    :ivar submit_options: addressing and other ``submit_sm`` choices.
    :ivar options: the rarely changed knobs (throttling, ``resend_unknown``, ``on_late_answer``).
    """

    credentials: Credentials
    mode: BindMode
    system_type: SystemType
    window: int
    timeouts: Timeouts
    connect: Connector
    submit_options: SubmitOptions
    options: SMPPOptions


class Bind:
    """One bind's parts, lifecycle and tasks (see the module docstring); what the application
    calls is on its subclass :class:`~smscenter.smpp.client.session.SMPPSession`.

    :param shared: the queue, rate limit, report buffer and counters (the pool's, or a lone
        session's own when ``shared.owned``).
    :param name: how logs and errors name this bind.
    """

    def __init__(
        self, host: str, port: int, settings: BindSettings, shared: Shared, name: str
    ) -> None:
        options = settings.options
        self.host = host
        self.port = port
        self.mode = settings.mode
        self.system_type = settings.system_type
        self.name = name
        self._settings = settings
        self._window_size = settings.window
        self._timeouts = settings.timeouts
        # A lone session owns its queue and report buffer: it ends them when it ends.
        self._own_queue = self._own_reports = shared.owned
        self._queue = shared.queue
        self._limiter = shared.limiter
        self._reports = shared.reports
        self._counters = shared.counters
        self._builder = SubmitBuilder(settings.submit_options)
        self._conn = SMPPConnection(
            ESME,
            window=settings.window,
            enquire_link_interval=self._timeouts.enquire_link,
        )
        self._link: Link | None = None
        self._stack: AsyncExitStack | None = None
        self._inflight = InFlight(self._counters, options.throttle_retries)
        self._wake_event = anyio.Event()
        # Whether _wake_event is set (a flag read per wake-up, cheaper than asking the event).
        self._woken = False
        # deliver_sm the application took (their sequence numbers): answered ESME_ROK by the
        # writer's next write, all of them together.
        self._answers: list[int] = []
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
            self._answer,
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

    # --- wake-ups -----------------------------------------------------------------------------

    def wake(self) -> None:
        """Ask the writer to look for work."""
        if not self._woken:
            self._woken = True
            self._wake_event.set()

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
                self._settings.connect,
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
                self._settings.credentials,
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
                self._queue_answers()  # the receipts taken so far are answered before it
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
        self._queue_answers()
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
        setting = self._settings.options.resend_unknown
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
        answers = self._answers
        clock = anyio.current_time
        task_status.started()
        try:
            while not self._closed_event.is_set():
                delay = pump(clock())
                if answers:
                    self._queue_answers()
                data = conn.data_to_send()
                if data:
                    await send(data)
                if delay is not None:
                    with anyio.move_on_after(delay):
                        await self._wake_event.wait()
                else:
                    await self._wake_event.wait()
                self._wake_event = anyio.Event()
                self._woken = False
            self._queue_answers()
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

    def _answer(self, seq: int) -> None:
        """The application took the report or message of ``deliver_sm`` ``seq``: answer it
        ESME_ROK with the writer's next write (one write for all it took meanwhile)."""
        self._answers.append(seq)
        if not self._woken:
            self._woken = True
            self._wake_event.set()

    def _acknowledge(
        self, sequence_numbers: tuple[int, ...], status: CommandStatus = CommandStatus.ESME_ROK
    ) -> None:
        """The store recorded the receipts of these ``deliver_sm``: answer them as
        :meth:`_answer` does. A store that failed to record a receipt answers ``status`` "try
        later" instead."""
        if status == CommandStatus.ESME_ROK:
            self._answers.extend(sequence_numbers)
        elif not self._closed_event.is_set():
            try:
                self._conn.answer(_DELIVER_SM_RESP, sequence_numbers, status)
            except LocalProtocolError:  # pragma: no cover - closed meanwhile
                return
        self.wake()

    def _queue_answers(self) -> None:
        """Queue the deliver_sm_resp of every deliver_sm taken since the last write."""
        answers = self._answers
        if not answers:
            return
        try:
            self._conn.answer(_DELIVER_SM_RESP, answers)
        except LocalProtocolError:  # the session is over: the SMSC delivers them again
            pass
        answers.clear()
