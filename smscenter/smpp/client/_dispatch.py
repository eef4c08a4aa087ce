"""The reader's and the timer's decisions for one bind: what each event the connection reports
does, and what is due when time passes.

Pure and synchronous, like :mod:`~smscenter.smpp.client._inflight` and
:mod:`~smscenter.smpp.client._pump`: no socket, no task; the clock comes in as a callable (the
session passes ``anyio.current_time``; a test passes its own). What it cannot do itself it asks
of the session through the callables it was given (wake the writer, poke the timer, stop taking
work, end the link, ...). The session's reader task feeds it every batch of events, its timer
task calls :meth:`Dispatch.tick`.

- an answer settles its job part (:mod:`~smscenter.smpp.client._inflight`); a throttle answer
  pauses the bind and slows the pool; an answer to the probe of an overdue bind lets it take
  work again (overdue.py);
- a ``deliver_sm`` becomes a report or an incoming message (reports.py), answered now or once
  the application has taken it;
- a request past ``Timeouts.response`` ends as an unknown outcome, never a silent resend, and
  the bind takes no new work until it answers an ``enquire_link``;
- the SMSC's unbind: answers still in flight are read for up to ``Timeouts.unbind`` (SMPP 3.4
  §4.2), then the link ends;
- an ``enquire_link`` goes out after ``Timeouts.enquire_link`` of silence (the provider cuts
  links idle for 2 minutes, smscentre.com/api/smpp), and the link is dead when one goes
  unanswered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from smscenter.exceptions import (
    ConnectionLost,
    LocalProtocolError,
    ResponseTimeout,
    UnknownOutcomeError,
)
from smscenter.smpp.client._inflight import Settled
from smscenter.smpp.connection import State
from smscenter.smpp.constants import CommandStatus
from smscenter.smpp.events import (
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

if TYPE_CHECKING:
    from smscenter.config import Timeouts
    from smscenter.smpp.client._pump import Pump
    from smscenter.smpp.client.overdue import LateAnswerHandler
    from smscenter.smpp.client.reports import ReportIntake
    from smscenter.smpp.pdu import Pdu

__all__ = ("Dispatch",)

# The session's logger: what happens on one bind is logged under one name.
logger = logging.getLogger("smscenter.smpp.client.session")

_BOUND = (State.BOUND_TX, State.BOUND_RX, State.BOUND_TRX)


class Dispatch:
    """What the events of one bind's connection do.

    :param pump: the bind's writer side (its connection, queue, in-flight parts, counters,
        rate limiter, throttle pause and overdue watch are this dispatch's too).
    :param intake: turns a ``deliver_sm`` into a report or an incoming message.
    :param name: how logs and errors name the bind.
    :param timeouts: ``response`` (in the error of an expired request), ``unbind`` (how long
        answers are read after the SMSC's unbind).
    :param probe_timeout: how long an ``enquire_link`` may go unanswered.
    :param on_late_answer: called with each late answer to a submit.
    :param clock: the current time (``anyio.current_time``).
    :param wake: ask the writer to look for work (a window slot freed, an answer queued).
    :param poke_timer: ask the timer to look at its next deadline again.
    :param detach: stop taking work from the queue.
    :param die: end the link (None: a clean end) and settle every job.
    :param unbound: our unbind was answered.
    :param idle: nothing is in flight any more (after a batch of events).
    """

    __slots__ = (
        "_clock",
        "_conn",
        "_counters",
        "_detach",
        "_die",
        "_idle",
        "_inflight",
        "_intake",
        "_limiter",
        "_on_late_answer",
        "_overdue",
        "_poke_timer",
        "_probe_timeout",
        "_pump",
        "_queue",
        "_throttle",
        "_timeouts",
        "_unbound",
        "_wake",
        "drain_until",
        "name",
        "unbind_sent",
        "unbound_by_peer",
    )

    def __init__(
        self,
        pump: Pump,
        intake: ReportIntake,
        *,
        name: str,
        timeouts: Timeouts,
        probe_timeout: float,
        on_late_answer: LateAnswerHandler | None,
        clock: Callable[[], float],
        wake: Callable[[], None],
        poke_timer: Callable[[], None],
        detach: Callable[[], None],
        die: Callable[[BaseException | None], None],
        unbound: Callable[[], None],
        idle: Callable[[], None],
    ) -> None:
        self._pump = pump
        self._conn = pump.conn
        self._inflight = pump.inflight
        self._overdue = pump.overdue
        self._queue = pump.queue
        self._counters = pump.counters
        self._limiter = pump.limiter
        self._throttle = pump.throttle
        self._intake = intake
        self.name = name
        self._timeouts = timeouts
        self._probe_timeout = probe_timeout
        self._on_late_answer = on_late_answer
        self._clock = clock
        self._wake = wake
        self._poke_timer = poke_timer
        self._detach = detach
        self._die = die
        self._unbound = unbound
        self._idle = idle
        #: We sent unbind (an EOF after it is the goodbye, not a lost link).
        self.unbind_sent = False
        #: The SMSC ended the bind with an unbind.
        self.unbound_by_peer = False
        #: After the SMSC's unbind: when to stop waiting for answers still in flight.
        self.drain_until: float | None = None

    # --- the reader's events ------------------------------------------------------------------

    def handle(self, events: list[Event]) -> None:
        """Act on what one ``receive_data`` (or ``expire``) call reported, in order."""
        inflight = self._inflight
        freed = False
        # The clock is read once per batch, for the deliver_sm of one read share it (a receipt
        # per message made anyio.current_time() a visible share of the CPU per receipt).
        now: float | None = None
        deliver = self._intake.deliver
        for event in events:
            match event:
                # The most frequent first: with a receipt per message, one per message.
                case DeliverSmReceived(pdu=pdu):
                    if now is None:
                        now = self._clock()
                    status = deliver(pdu, now)
                    if status is not None:  # answered now (reports.py says why); else when taken
                        self._conn.respond(pdu, status)
                        freed = True
                case SubmitsAccepted(accepted=accepted):
                    # The writer first: it refills the window (and the SMSC gets to work on it)
                    # before the callers woken below take their turn with the outcomes.
                    self._wake()
                    inflight.settle_accepted(accepted)
                    freed = True
                case ResponseReceived(request_seq=seq, pdu=pdu):
                    freed = self._answered(seq, pdu) or freed
                case RequestExpired(request_seq=seq):
                    freed = self._expired(seq) or freed
                case LateResponse():
                    self._late(event)
                case EnquireLinkReceived():
                    freed = True  # enquire_link_resp is queued: let the writer send it
                case UnbindComplete():
                    self._unbound()
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
            self._wake()
        if not inflight.pending:
            self._idle()

    def _answered(self, seq: int, pdu: Pdu) -> bool:
        """Any answer but an acceptance of a submit; True when the writer should look again."""
        settled = self._inflight.settle_response(seq, pdu, self._clock(), self._pump.current)
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
        name = self.name

        def unknown() -> BaseException:
            return UnknownOutcomeError(
                f"{name} did not answer within {timeout} s; the message may have been sent",
                cause=ResponseTimeout(f"no response within {timeout} s", host=name),
            )

        entry = self._inflight.expire(seq, unknown)
        if entry is None:
            return False
        if not self._overdue.stalled:
            logger.warning(
                "smpp %s: an answer is overdue; no new work on this bind until it answers "
                "enquire_link",
                name,
            )
            self._queue.wake_one()  # what this bind would have taken goes elsewhere
        job, index = entry
        self._overdue.expired(seq, job, index)
        return True

    def _closed(self, reason: str) -> None:
        if reason == "unbind":
            self._die(None)
        elif reason == "eof" and self.unbind_sent:
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
            self.drain_until = self._clock() + budget
            self._poke_timer()

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
        now = self._clock()
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

    # --- the timer's work ---------------------------------------------------------------------

    def tick(self, now: float) -> float | None:
        """Everything due at ``now``: expired requests, stale parts of incoming messages, the
        end of the wait after the SMSC's unbind, a dead link, an ``enquire_link`` to send.
        Returns when to look again (None: when poked); a link that ends here ends through
        ``die``."""
        conn = self._conn
        overdue = self._overdue
        expired = conn.expire(now)
        if expired:
            self.handle(expired)
        intake = self._intake
        if intake.reassembler.pending:
            intake.expire(now)
        drain_until = self.drain_until
        if drain_until is not None and now >= drain_until:
            self._die(
                ConnectionLost(
                    f"{self.name} unbound and did not answer {len(self._inflight)} "
                    f"requests in flight within {self._timeouts.unbind} s",
                    host=self.name,
                )
            )
            return None
        timers = conn.timers(now)
        if timers.link_dead:
            self._die(
                ConnectionLost(
                    f"{self.name} did not answer enquire_link within {self._probe_timeout} s",
                    host=self.name,
                )
            )
            return None
        if timers.enquire_link_due or overdue.probe_due(now):
            self._probe(now)
            timers = conn.timers(now)
        nxt = timers.next_check
        for at in (overdue.next_probe(), drain_until):
            if at is not None and (nxt is None or at < nxt):
                nxt = at
        return nxt

    def _probe(self, now: float) -> None:
        """Send an enquire_link, unless one is out already (never two at once)."""
        overdue = self._overdue
        if overdue.probe_seq is not None or self._conn.state not in _BOUND:
            return
        try:
            seq = self._conn.send_enquire_link(deadline=now + self._probe_timeout)
        except LocalProtocolError:  # pragma: no cover - state raced
            return
        overdue.probe_sent(seq, now)
        self._wake()


def _malformed(error: BaseException) -> Callable[[], BaseException]:
    return lambda: UnknownOutcomeError("the answer was malformed", cause=error)
