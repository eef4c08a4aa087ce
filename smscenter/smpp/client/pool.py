"""``SMPPPool``: 1..9 binds of one login (the provider's ``MCONn``), reconnected when they drop,
sharing one queue, one rate limit and one stream of reports.

Rules of the provider's SMPP page (https://smscentre.com/api/smpp/) this follows:

- more than one simultaneous bind needs ``system_type`` ``MCONn`` on every bind (otherwise the
  provider closes the previous one); the pool sets it from ``connections``;
- a backup server (``smpp2``) takes over when the primary refuses;
- the account's default limit is 30 SMS/s; faster sending is answered with throttling, after
  which the client must resend and slow down;
- all parts of a long message must arrive within a minute: they go through one bind, back to
  back;
- urgent single messages go before mass mailings.
"""

from __future__ import annotations

import logging
import random
import ssl
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from types import TracebackType
from typing import Self

import anyio
import anyio.abc
import attrs

from smscenter._provider import Transport
from smscenter.config import Credentials, Limits, Timeouts
from smscenter.exceptions import (
    APIError,
    ConnectError,
    ConnectionLost,
    LocalProtocolError,
    SMSCenterError,
    ValidationError,
)
from smscenter.ids import ReceiptIdStyle, canonical_message_id
from smscenter.models import Message, SendResult, _make_smpp_result
from smscenter.smpp.client import reconcile
from smscenter.smpp.client._jobs import (
    Job,
    JobQueue,
    JobState,
    check_single,
    noop,
    outcome,
    query_through,
    run_job,
    send_result,
)
from smscenter.smpp.client._ratelimit import RateLimiter
from smscenter.smpp.client.overdue import LateAnswerHandler
from smscenter.smpp.client.reconcile import ReconcilePolicy
from smscenter.smpp.client.reports import ReportBuffer, ReportStream
from smscenter.smpp.client.results import (
    Counters,
    QueryResult,
    SendOutcome,
    SMPPStatistics,
    make_outcome,
)
from smscenter.smpp.client.session import SMPPSession
from smscenter.smpp.constants import BindMode, CommandStatus
from smscenter.smpp.reassembly import Reassembler
from smscenter.smpp.receipt_ids import ReceiptIdMatcher
from smscenter.smpp.submit import SubmitBuilder, SubmitOptions
from smscenter.smpp.system_type import SystemType

__all__ = ("ReconcilePolicy", "ReconnectPolicy", "SMPPPool")

logger = logging.getLogger(__name__)
_SMPP = Transport.SMPP

# Bind refusals after which hammering the server is pointless (smscentre.com/api/smpp / SMPP 3.4
# §5.1.3): already bound (another process holds the login), bind failed, bad password or system_id.
_REFUSALS = frozenset(
    {
        CommandStatus.ESME_RALYBND,
        CommandStatus.ESME_RBINDFAIL,
        CommandStatus.ESME_RINVPASWD,
        CommandStatus.ESME_RINVSYSID,
    }
)


@attrs.frozen(kw_only=True)
class ReconnectPolicy:
    """How a dropped bind is re-established: exponential backoff with jitter.

    :ivar initial: the first pause in seconds; doubled per failed attempt up to ``maximum``.
    :ivar maximum: the longest pause.
    :ivar jitter: the random share (0..1) taken off each pause, so binds do not retry in step.
    :ivar refused: the shortest pause after the SMSC *refused* a bind (already bound, bind
        failed, bad credentials): retrying at once would only hammer it.
    """

    initial: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    maximum: float = attrs.field(default=30.0, validator=attrs.validators.ge(0))
    jitter: float = attrs.field(
        default=0.5, validator=[attrs.validators.ge(0), attrs.validators.le(1)]
    )
    refused: float = attrs.field(default=10.0, validator=attrs.validators.ge(0))

    def delay(self, failures: int, *, refused: bool, random_fraction: float) -> float:
        """The pause before the next attempt after ``failures`` (>= 1) failures in a row."""
        base = min(self.maximum, self.initial * 2.0 ** max(0, failures - 1))
        pause = base * (1 - self.jitter * random_fraction)
        return max(pause, self.refused) if refused else pause


def _hosts(
    host: str, port: int, backups: Iterable[str | tuple[str, int]]
) -> tuple[tuple[str, int], ...]:
    out = [(host, port)]
    for backup in backups:
        out.append((backup, port) if isinstance(backup, str) else (backup[0], int(backup[1])))
    return tuple(out)


@attrs.define(eq=False)
class _Slot:
    number: int
    host_index: int = 0
    session: SMPPSession | None = None
    failures: int = 0
    binds: int = 0
    last_error: BaseException | None = None
    first_round_done: bool = False


class SMPPPool:
    """A pool of SMPP binds of one login, as an async context manager.

    ::

        async with SMPPPool("smpp.smscentre.com", 3700, Credentials("acme", "secret"),
                            connections=2, window=500) as pool:
            result = await pool.send(Message(to="+79991234567", text="Hi"))
            async for outcome in pool.send_many(messages):
                ...

    Entering connects and binds; it returns as soon as one bind is up. It raises the first error
    when every bind failed on every host for a wrong password or login
    (:class:`~smscenter.exceptions.AuthenticationError`) or because nothing accepted the
    connection (:class:`~smscenter.exceptions.ConnectError`), or when no bind came up within
    ``Timeouts.connect + Timeouts.bind`` (other refusals are retried with backoff meanwhile).
    Binds that drop later are re-established in the background with jittered backoff, moving to
    the next backup host after a failure.

    **No message is lost**: each one ends with its ids or an error the caller sees.
    :class:`~smscenter.exceptions.PoolTimeout` and :class:`~smscenter.exceptions.ConnectionLost`
    mean it was never written (safe to send again); :class:`~smscenter.exceptions.
    UnknownOutcomeError` means it was written but not answered and may have been sent; it is not
    resent unless ``resend_unknown`` says so (a :class:`ReconcilePolicy` resends it only inside
    the provider's duplicate window, where a resend cannot deliver twice).

    :param host: / :param port: the primary SMSC (the provider: ``smpp.smscentre.com``, 3700;
        TLS on 3443).
    :param credentials: login and plain password.
    :param connections: binds (1..9); default ``limits.connections``. More than one sets
        ``MCONn`` in ``system_type``.
    :param window: requests in flight per bind; default ``limits.window`` (the provider
        suggests 1000-2000 for bulk).
    :param limits: :class:`~smscenter.config.Limits`; ``max_rate`` is the pool-wide send rate
        (default 30/s, the provider's default account limit; None: no client-side limit).
    :param timeouts: :class:`~smscenter.config.Timeouts`.
    :param tls: ``True`` (verified TLS) or an :class:`ssl.SSLContext`.
    :param backup_hosts: hosts (same port) or ``(host, port)`` pairs to fail over to, e.g.
        ``("smpp2.smscentre.com",)``.
    :param mode: transceiver (default), transmitter or receiver.
    :param system_type: extra flags (``ISO``, ``SINGLE``) as a string or
        :class:`~smscenter.smpp.system_type.SystemType`; ``MCONn`` is filled in from
        ``connections``.
    :param reconnect: the :class:`ReconnectPolicy`.
    :param resend_unknown: what to do with messages written but unanswered when a bind dropped:
        ``False`` (default) ends them with :class:`~smscenter.exceptions.UnknownOutcomeError`;
        a :class:`ReconcilePolicy` resends them on another bind within the provider's
        one-minute duplicate window and reads a duplicate refusal as "it went out the first
        time" (:attr:`~smscenter.models.SendResult.confirmed_by_duplicate`); ``True`` resends
        them without that protection (they may be delivered twice).
    :param report_buffer: how many reports and incoming messages may wait for the consumer
        before the binds answer ``deliver_sm`` with "try later" (default: twice the pool's
        total window, at least 1000: room for a window's worth of receipts arriving at once).
    :param read_ahead: how many messages ``send_many`` keeps taken from its input but not yet
        finished (default: twice the pool's total window).
    :param throttle_pause: / :param throttle_retries: see
        :class:`~smscenter.smpp.client.session.SMPPSession`.
    :param submit_options: addressing and other ``submit_sm`` choices.
    :param receipt_ids: how the SMSC writes the id in a receipt's *text* compared with
        ``submit_sm_resp`` (:class:`~smscenter.ids.ReceiptIdStyle` or its value): ``"same"``,
        ``"decimal-text"`` (hex ids written in decimal), ``"hex-text"`` (decimal ids written
        in hex), or ``"auto"`` (default: detected from receipts that also carry the
        ``receipted_message_id`` TLV and from the ids this pool was given; an id that cannot be
        matched is logged as a warning, never silently mismatched). Receipts with the TLV are
        read from the TLV whatever the option.
    :param on_late_answer: called with a :class:`~smscenter.smpp.client.overdue.LateAnswer` for each
        ``submit_sm_resp`` that arrives after its request timed out (the caller got
        ``UnknownOutcomeError``; this tells whether the SMSC accepted it after all, and with
        which id). Runs on a bind's reader: it must not block.
    """

    def __init__(
        self,
        host: str,
        port: int,
        credentials: Credentials,
        *,
        connections: int | None = None,
        window: int | None = None,
        limits: Limits | None = None,
        timeouts: Timeouts | None = None,
        tls: bool | ssl.SSLContext = False,
        backup_hosts: Iterable[str | tuple[str, int]] = (),
        mode: BindMode = BindMode.TRANSCEIVER,
        system_type: SystemType | str = "",
        reconnect: ReconnectPolicy | None = None,
        resend_unknown: bool | ReconcilePolicy = False,
        report_buffer: int | None = None,
        read_ahead: int | None = None,
        throttle_pause: float = 1.0,
        throttle_retries: int = 20,
        submit_options: SubmitOptions | None = None,
        receipt_ids: ReceiptIdStyle | str = ReceiptIdStyle.AUTO,
        on_late_answer: LateAnswerHandler | None = None,
    ) -> None:
        limits = limits or Limits()
        self._receipt_ids = ReceiptIdMatcher(ReceiptIdStyle(receipt_ids))
        if connections is not None or window is not None:
            limits = attrs.evolve(
                limits,
                connections=connections if connections is not None else limits.connections,
                window=window if window is not None else limits.window,
            )
        if credentials.login is None or credentials.password is None:
            raise ValidationError("an SMPP pool needs a login and a plain password")
        st = system_type if isinstance(system_type, SystemType) else SystemType.parse(system_type)
        if limits.connections > 1 or st.connections is not None:
            # smscentre.com/api/smpp: without MCONn a new bind of the same login closes the previous
            # one.
            st = attrs.evolve(st, connections=max(limits.connections, st.connections or 1))
        self._hosts = _hosts(host, port, backup_hosts)
        self._credentials = credentials
        self._limits = limits
        self._timeouts = timeouts or Timeouts()
        self._tls = tls
        self._mode = mode
        self.system_type = st
        self._reconnect = reconnect or ReconnectPolicy()
        self._resend_unknown = resend_unknown
        self._read_ahead = _read_ahead(read_ahead) or max(
            100, 2 * limits.window * limits.connections
        )
        self._throttle_pause = throttle_pause
        self._throttle_retries = throttle_retries
        self._on_late_answer = on_late_answer
        self._options = submit_options or SubmitOptions(iso=st.iso)
        self._builder = SubmitBuilder(self._options)
        self._queue = JobQueue(self._timeouts.pool)
        # One for all binds: parts of a long incoming message may arrive on different binds
        # (after a reconnect, or with MCONn).
        self._reassembler = Reassembler()
        self._limiter = RateLimiter(limits.max_rate)
        self._reports = ReportBuffer(
            report_buffer or max(1000, 2 * limits.window * limits.connections)
        )
        self._counters = Counters()
        self._slots = [_Slot(number=n) for n in range(limits.connections)]
        self._tg: anyio.abc.TaskGroup | None = None
        self._closing = anyio.Event()
        self._ready = anyio.Event()
        self._supervisors_done = anyio.Event()
        self._running = 0
        self._reconnects = 0
        self._state = "new"

    def __repr__(self) -> str:
        host, port = self._hosts[0]
        up = sum(1 for slot in self._slots if slot.session is not None and slot.session.bound)
        c = self._counters
        in_flight = sum(slot.session.in_flight for slot in self._slots if slot.session is not None)
        return (
            f"<SMPPPool {host}:{port} {self._state} binds={up}/{len(self._slots)} "
            f"window={self._limits.window} in_flight={in_flight} queued={len(self._queue)} "
            f"submitted={c.submitted} acknowledged={c.acknowledged} rejected={c.rejected}>"
        )

    # --- lifecycle ----------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._state != "new":
            raise RuntimeError("an SMPPPool can be entered only once")
        self._state = "opening"
        tg = anyio.create_task_group()
        await tg.__aenter__()
        self._tg = tg
        try:
            tg.start_soon(self._watchdog)
            self._running = len(self._slots)
            for slot in self._slots:
                tg.start_soon(self._supervise, slot)
            # Wait for the first bind; a refusal "for a while" is retried with backoff, but
            # not past the connect + bind deadlines, and not at all for bad credentials.
            startup = (self._timeouts.connect or 10.0) + (self._timeouts.bind or 10.0)
            with anyio.move_on_after(startup):
                await self._ready.wait()
            if not self._binds_up():
                errors = [s.last_error for s in self._slots if s.last_error is not None]
                raise errors[0] if errors else ConnectionLost("no bind came up")
        except BaseException:
            self._closing.set()
            tg.cancel_scope.cancel()
            await tg.__aexit__(None, None, None)
            self._tg = None
            self._state = "closed"
            self._reports.close()
            raise
        self._state = "open"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Unbind every bind gracefully (each waits at most ``Timeouts.unbind`` for answers in
        flight); messages still queued fail with :class:`~smscenter.exceptions.ConnectionLost`."""
        tg, self._tg = self._tg, None
        if tg is None:
            return
        self._state = "closing"
        self._closing.set()
        try:
            with anyio.CancelScope(shield=True):
                await self._supervisors_done.wait()
            tg.cancel_scope.cancel()
            await tg.__aexit__(None, None, None)
        finally:
            self._queue.fail_all(ConnectionLost("the pool closed before the message was sent"))
            self._reports.close()
            self._state = "closed"

    def _binds_up(self) -> int:
        return sum(1 for slot in self._slots if slot.session is not None and slot.session.bound)

    def _check_ready(self) -> None:
        if self._binds_up() or all(
            slot.first_round_done and _permanent(slot.last_error) for slot in self._slots
        ):
            self._ready.set()

    async def _watchdog(self) -> None:
        """Fail queued messages that wait past ``Timeouts.pool`` (also while no bind is up)."""
        queue = self._queue
        while True:
            event = anyio.Event()
            queue.set_watchdog(event.set)
            now = anyio.current_time()
            nxt = queue.expire(now)
            with anyio.move_on_after(None if nxt is None else max(0.0, nxt - now)):
                await event.wait()

    async def _supervise(self, slot: _Slot) -> None:
        try:
            await self._keep_bound(slot)
        finally:
            self._running -= 1
            if not self._running:
                self._supervisors_done.set()

    async def _keep_bound(self, slot: _Slot) -> None:
        hosts = self._hosts
        tried = 0
        while not self._closing.is_set():
            host, port = hosts[slot.host_index]
            session = SMPPSession(
                host,
                port,
                self._credentials,
                mode=self._mode,
                system_type=self.system_type,
                window=self._limits.window,
                timeouts=self._timeouts,
                tls=self._tls,
                queue=self._queue,
                limiter=self._limiter,
                reports=self._reports,
                counters=self._counters,
                submit_options=self._options,
                throttle_pause=self._throttle_pause,
                throttle_retries=self._throttle_retries,
                resend_unknown=self._resend_unknown,
                name=f"{host}:{port}#{slot.number + 1}",
                receipt_reader=self._receipt_ids.read,
                on_late_answer=self._on_late_answer,
                reassembler=self._reassembler,
            )
            refused = False
            try:
                async with session:
                    slot.session = session
                    slot.failures = 0
                    tried = 0
                    slot.binds += 1
                    if slot.binds > 1:
                        self._reconnects += 1
                    slot.first_round_done = True
                    self._ready.set()
                    async with anyio.create_task_group() as tg:
                        tg.start_soon(_wait_then_cancel, self._closing, tg.cancel_scope)
                        await session.wait_closed()
                        tg.cancel_scope.cancel()
                if session.error is not None:
                    slot.last_error = session.error
                slot.failures = 1
                # Unbound by the SMSC: most likely another bind of this login without MCONn
                # took the place (smscentre.com/api/smpp); coming straight back would only kick it
                # in turn.
                refused = session.unbound_by_peer
            except (SMSCenterError, ValueError, OSError, anyio.BrokenResourceError) as exc:
                slot.last_error = exc
                slot.failures += 1
                refused = isinstance(exc, APIError) and exc.code in _REFUSALS
                logger.warning(
                    "smpp pool: bind %d to %s:%d failed: %s", slot.number + 1, host, port, exc
                )
                # Fail over: the next attempt goes to the next host (primary -> smpp2 -> ...),
                # at once; only after a whole round of failures does the backoff apply.
                slot.host_index = (slot.host_index + 1) % len(hosts)
                tried += 1
                if tried < len(hosts) and not self._closing.is_set():
                    continue
                tried = 0
                slot.first_round_done = True
                self._check_ready()
            finally:
                slot.session = None
            if self._closing.is_set():
                return
            pause = self._reconnect.delay(
                slot.failures, refused=refused, random_fraction=random.random()
            )
            logger.info("smpp pool: bind %d reconnects in %.2f s", slot.number + 1, pause)
            with anyio.move_on_after(pause):
                await self._closing.wait()

    # --- sending ------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._state not in ("open", "opening"):
            raise RuntimeError(f"the pool is {self._state}")
        if not self._mode.can_send:
            raise RuntimeError("a receiver-only pool cannot send")

    def _job(self, message: Message, recipient: str, urgent: bool, index: int = 0) -> Job:
        pdus = self._builder.build(message, recipient)
        return Job(
            pdus, callback=noop, urgent=urgent, message=message, recipient=recipient, index=index
        )

    async def send(self, message: Message, *, urgent: bool = False) -> SendResult:
        """Send a message to its one recipient and return its ids (all parts).

        A message with several recipients is refused here (``ValueError``): use
        :meth:`send_many`, which yields one outcome per recipient.

        :param urgent: overtake queued bulk messages (the provider sends such single messages
            first, smscentre.com/api/smpp).
        :raises ValueError: several recipients, or SMPP cannot carry the message.
        :raises APIError: the SMSC refused it (:class:`~smscenter.exceptions.ThrottledError`
            after all resends).
        :raises PoolTimeout: no bind took it within ``Timeouts.pool``.
        :raises UnknownOutcomeError: written but never answered; it may have been sent.
        """
        self._check_open()
        recipient = check_single(message)
        job = await run_job(self._queue, self._job(message, recipient, urgent), self._saw)
        if job.error is not None:
            raise job.error
        if job.context is not None and reconcile.confirmed(job):
            return reconcile.result(job)
        return send_result(job)

    def _saw(self, job: Job) -> None:
        # While the receipt id style is being detected, it learns from the ids sent.
        if self._receipt_ids.learning:
            self._receipt_ids.saw(job.responses)

    @property
    def receipt_id_style(self) -> ReceiptIdStyle:
        """How receipt texts write message ids: the ``receipt_ids`` given, or the style detected
        so far (:attr:`~smscenter.ids.ReceiptIdStyle.AUTO` while still undecided)."""
        return self._receipt_ids.style

    async def send_many(
        self,
        messages: Iterable[Message] | AsyncIterable[Message],
        *,
        urgent: bool = False,
        read_ahead: int | None = None,
    ) -> AsyncIterator[SendOutcome]:
        """Send many messages; yield one :class:`~smscenter.smpp.client.results.SendOutcome` per
        message and recipient, in completion order.

        The input is read lazily: at most ``read_ahead`` messages are taken and unfinished at
        any time (fewer under a rate limit: what the rate sends in a quarter of
        ``Timeouts.pool``), so a generator of millions stays in bounded memory and queued
        messages do not time out just because the pool paces them. Failures are outcome
        values (``outcome.error``), never raised. Leaving the loop early withdraws the messages
        not yet written; use ``contextlib.aclosing`` to make that immediate.
        """
        self._check_open()
        cap = _read_ahead(read_ahead) or self._read_ahead
        queue = self._queue
        build = self._builder.build
        one_part = Job.one_part
        make, make_result = make_outcome, _make_smpp_result
        canonical = canonical_message_id
        done: deque[Job] = deque()
        early: deque[SendOutcome] = deque()
        waiter: list[anyio.Event | None] = [None]

        matcher = self._receipt_ids

        def finished(job: Job) -> None:
            if matcher.learning:  # see _saw: before a receipt in the same read is handled
                matcher.saw(job.responses)
            done.append(job)
            event = waiter[0]
            if event is not None:
                waiter[0] = None
                event.set()

        if isinstance(messages, AsyncIterable):
            async_it: AsyncIterator[Message] | None = aiter(messages)
            sync_it = None
        else:
            async_it = None
            sync_it = iter(messages)
        exhausted = False
        index = 0
        # Jobs queued so far, and outcomes yielded: the difference is what this call holds
        # (queued, in flight, or finished and not yet yielded), bounded by the read-ahead.
        taken = given = 0
        try:
            while True:
                limit = self._read_ahead_now(cap)
                if not exhausted and taken - given < limit:
                    timeout = queue.pool_timeout
                    deadline = None if timeout is None else anyio.current_time() + timeout
                    batch: list[Job] = []
                    room = limit - (taken - given)
                    while len(batch) < room:
                        try:
                            if sync_it is not None:
                                message = next(sync_it)
                            else:
                                assert async_it is not None
                                if batch:
                                    # What the source gave so far goes out before waiting for
                                    # more (a slow source must not hold messages back).
                                    taken += len(batch)
                                    room -= len(batch)
                                    queue.push_many(batch, urgent)
                                    queue.wake_all()
                                    batch = []
                                message = await anext(async_it)
                                if timeout is not None:  # its wait starts now
                                    deadline = anyio.current_time() + timeout
                        except (StopIteration, StopAsyncIteration):
                            exhausted = True
                            break
                        for recipient in message.to:
                            try:
                                pdus = build(message, recipient)
                            except (ValueError, LocalProtocolError) as exc:  # nothing was sent
                                early.append(
                                    SendOutcome(
                                        index=index,
                                        message=message,
                                        recipient=recipient,
                                        error=exc,
                                    )
                                )
                                continue
                            if len(pdus) == 1:
                                job = one_part(
                                    pdus[0], finished, urgent, deadline, message, recipient, index
                                )
                            else:
                                job = Job(
                                    pdus,
                                    callback=finished,
                                    urgent=urgent,
                                    deadline=deadline,
                                    message=message,
                                    recipient=recipient,
                                    index=index,
                                )
                            batch.append(job)
                        index += 1
                    taken += len(batch)
                    queue.push_many(batch, urgent)
                    queue.wake_all()
                while early:
                    yield early.popleft()
                while done:
                    given += 1
                    job = done.popleft()
                    # _outcome's usual case inline: a one-part message accepted.
                    responses = job.responses
                    raw_id = responses[0]
                    if (
                        job.error is None
                        and type(raw_id) is str
                        and len(responses) == 1
                        and job.context is None
                    ):
                        sent = job.message
                        assert sent is not None and job.recipient is not None
                        message_id = canonical(raw_id)
                        yield make(
                            job.index,
                            sent,
                            job.recipient,
                            make_result(
                                message_id,
                                1,
                                None,
                                None,
                                (),
                                (message_id,),
                                sent.client_id,
                                False,
                                _SMPP,
                                raw_id,
                            ),
                            None,
                        )
                    else:
                        yield outcome(job)
                if exhausted and taken == given and not early:
                    return
                if done or early or (not exhausted and taken - given < limit):
                    continue
                event = waiter[0] = anyio.Event()
                await event.wait()
        finally:
            # What is still queued is withdrawn; what was written ends on its bind, unheard.
            queue.withdraw_by(finished)

    def withdraw_queued(self, error: BaseException) -> list[SendOutcome]:
        """Take back, at once, every message no bind has written yet: for a job that stops, so
        that only what is in flight still goes out.

        That is every message waiting in the queue, and one a bind holds back for the rate
        limit. Each ends with ``error`` (one partly written before its bind dropped ends with
        :class:`~smscenter.exceptions.UnknownOutcomeError` instead), and its caller still hears
        of it: :meth:`send` raises it, :meth:`send_many` yields its outcome. Messages already
        written finish as usual, and queries are left alone. ``send_many`` goes on taking
        messages from its input: stop that input too.

        :returns: the outcomes of the withdrawn messages, now (``send_many`` yields them later).
        """
        queue = self._queue
        jobs = [
            job
            for dq in (queue.urgent, queue.bulk)
            for job in dq
            if job.state is JobState.QUEUED and job.message is not None
        ]
        queue.withdraw(jobs)
        # A bind holding a message back for the rate limit has not written it either.
        for slot in self._slots:
            held = slot.session.take_back_unwritten() if slot.session is not None else None
            if held is not None and held.message is not None:
                jobs.append(held)
            elif held is not None:  # a query: back to the queue
                queue.push_back(held)
        for job in jobs:
            queue.give_up(job, error)
        return [outcome(job) for job in jobs]

    def _read_ahead_now(self, cap: int) -> int:
        """How many messages send_many may hold now. Under a rate limit, no more than the rate
        drains in a quarter of ``Timeouts.pool``: queued messages then never wait long enough
        for a PoolTimeout merely because the pool itself paces them."""
        rate, pool = self._limiter.rate, self._timeouts.pool
        if rate is None or pool is None:
            return cap
        return max(1, min(cap, int(rate * pool / 4)))

    async def query(self, message_id: str, *, source_addr: str = "") -> QueryResult:
        """The state of a sent message, asked over SMPP (``query_sm``).

        :raises APIError: the SMSC refused the query (e.g. ``ESME_RQUERYFAIL``).
        """
        self._check_open()
        return await query_through(self._queue, message_id, source_addr)

    def reports(self) -> ReportStream:
        """Delivery reports and incoming messages from every bind, merged, as an async
        iterator and context manager::

            async with pool.reports() as stream:
                async for event in stream:   # DeliveryReport | IncomingMessage
                    ...

        Each ``deliver_sm`` is acknowledged only after your loop body handled its item.
        """
        return ReportStream(self._reports)

    def statistics(self) -> SMPPStatistics:
        """The pool's counters now (a frozen snapshot)."""
        c = self._counters
        return SMPPStatistics(
            submitted=c.submitted,
            acknowledged=c.acknowledged,
            rejected=c.rejected,
            throttled=c.throttled,
            unknown=c.unknown + self._queue.unknown,
            in_flight=sum(s.session.in_flight for s in self._slots if s.session is not None),
            queued=len(self._queue),
            binds_up=self._binds_up(),
            binds=len(self._slots),
            reconnects=self._reconnects,
            reports=c.reports,
            reports_deferred=c.reports_deferred,
            rate=self._limiter.rate,
            late_accepted=c.late_accepted,
            late_refused=c.late_refused,
        )


def _permanent(error: BaseException | None) -> bool:
    """Errors that end the start-up once every host gave them: a wrong password or login, a
    bad configuration, nothing listening (retrying cannot cure the first two, and a caller
    with a typo in the host should not wait for the deadline)."""
    if isinstance(error, ValueError | ConnectError):
        return True
    return isinstance(error, APIError) and error.code in (
        CommandStatus.ESME_RINVPASWD,
        CommandStatus.ESME_RINVSYSID,
    )


async def _wait_then_cancel(event: anyio.Event, scope: anyio.CancelScope) -> None:
    await event.wait()
    scope.cancel()


def _read_ahead(value: int | None) -> int | None:
    """Check a ``read_ahead``: ``send_many`` waits for room below it, so one under 1 would
    wait forever."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValidationError(f"read_ahead must be a positive int or None, got {value!r}")
    return value
