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

import enum
import logging
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from contextlib import AsyncExitStack
from types import TracebackType
from typing import TYPE_CHECKING, Self

import anyio
import attrs

from smscenter.config import Credentials, Limits, ReconnectPolicy, SMPPOptions, Timeouts
from smscenter.exceptions import ConnectionLost, ValidationError
from smscenter.ids import ReceiptIdStyle
from smscenter.models import Message, SendResult
from smscenter.smpp.client._bind import BindSettings
from smscenter.smpp.client._binds import Binds
from smscenter.smpp.client._bulk import send_many
from smscenter.smpp.client._jobs import (
    Job,
    JobQueue,
    new_job,
    noop,
    outcome,
    send_result,
)
from smscenter.smpp.client._ratelimit import RateLimiter
from smscenter.smpp.client._shared import Shared
from smscenter.smpp.client._stream import Connector, hosts, tcp_connector
from smscenter.smpp.client._tracking import STORE_READ_AHEAD, Tracking, check_tracked
from smscenter.smpp.client._waiting import check_single, query_through, run_job, watch_queue
from smscenter.smpp.client.reconcile import ReconcilePolicy
from smscenter.smpp.client.reports import ReportBuffer, ReportStream
from smscenter.smpp.client.results import QueryResult, SendOutcome, SMPPStatistics
from smscenter.smpp.client.session import SMPPSession
from smscenter.smpp.constants import BindMode
from smscenter.smpp.receipt_ids import ReceiptIdMatcher
from smscenter.smpp.submit import SubmitBuilder, SubmitOptions
from smscenter.smpp.system_type import SystemType
from smscenter.store._protocol import MessageStore

if TYPE_CHECKING:
    from smscenter.fleet import Fleet, FleetRate

__all__ = ("ReconcilePolicy", "ReconnectPolicy", "SMPPPool")

logger = logging.getLogger(__name__)


class PoolState(enum.Enum):
    """Where an :class:`SMPPPool` is in its life (shown in its repr)."""

    NEW = "new"
    OPENING = "opening"
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


class SMPPPool:
    """A pool of SMPP binds of one login, as an async context manager.

    ::

        async with SMPPPool("smpp.smscentre.com", 3700, Credentials("acme", "secret"),
                            limits=Limits(connections=2, window=500)) as pool:
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
    resent unless ``SMPPOptions.resend_unknown`` says so (a :class:`ReconcilePolicy` resends it
    only inside the provider's duplicate window, where a resend cannot deliver twice).

    :param host: / :param port: the primary SMSC (the provider: ``smpp.smscentre.com``, 3700;
        TLS on 3443).
    :param credentials: login and plain password.
    :param limits: :class:`~smscenter.config.Limits`: ``connections`` binds (1..9; more than
        one sets ``MCONn`` in ``system_type``), ``window`` requests in flight per bind (the
        provider suggests 1000-2000 for bulk), ``max_rate`` the pool-wide send rate (default
        30/s, the provider's default account limit; None: no client-side limit).
    :param timeouts: :class:`~smscenter.config.Timeouts`.
    :param tls: ``True`` (verified TLS) or an :class:`ssl.SSLContext`.
    :param backup_hosts: hosts (same port) or ``(host, port)`` pairs to fail over to, e.g.
        ``("smpp2.smscentre.com",)``.
    :param mode: transceiver (default), transmitter or receiver.
    :param system_type: extra flags (``ISO``, ``SINGLE``) as a string or
        :class:`~smscenter.smpp.system_type.SystemType`; ``MCONn`` is filled in from
        ``limits.connections``.
    :param reconnect: the :class:`~smscenter.config.ReconnectPolicy`.
    :param submit_options: addressing and other ``submit_sm`` choices.
    :param options: the rarely changed knobs, :class:`~smscenter.config.SMPPOptions`
        (throttling, ``resend_unknown``, ``report_buffer``, ``read_ahead``, ``receipt_ids``,
        ``on_late_answer``).
    :param connect: opens the byte stream to ``(host, port)`` (default: TCP, or TLS as ``tls``
        says): the seam for tests and unusual networks.
    :param store: a :class:`~smscenter.store.MessageStore` (opened by you, e.g.
        ``SQLiteStore(path)``) that tracks every message: each needs a ``client_id`` and one
        recipient; it is recorded ``sending`` before its bytes go out and settled when its
        answer comes; each receipt is written to the store before it is acknowledged to the
        SMSC. ``send_many`` over a store resumes a campaign: see its ``resend_unknown``.
    :param fleet: a :class:`~smscenter.fleet.Fleet` (entered) shared with other workers of the
        login: the send rate and the 0x58 pause become fleet-wide (``max_rate`` stays this
        pool's own ceiling), and each bind holds one of the fleet's ``mcon`` bind slots while
        bound (``MCONn`` with the fleet's n). Entering then also succeeds while every slot is
        held elsewhere: the binds come up as slots free.
    """

    def __init__(
        self,
        host: str,
        port: int,
        credentials: Credentials,
        *,
        limits: Limits | None = None,
        timeouts: Timeouts | None = None,
        tls: bool | ssl.SSLContext = False,
        backup_hosts: Iterable[str | tuple[str, int]] = (),
        mode: BindMode = BindMode.TRANSCEIVER,
        system_type: SystemType | str = "",
        reconnect: ReconnectPolicy | None = None,
        submit_options: SubmitOptions | None = None,
        options: SMPPOptions | None = None,
        connect: Connector | None = None,
        store: MessageStore | None = None,
        fleet: Fleet | None = None,
    ) -> None:
        limits = limits or Limits()
        self._smpp_options = options = options or SMPPOptions()
        self._receipt_ids = ReceiptIdMatcher(options.receipt_ids)
        if credentials.login is None or credentials.password is None:
            raise ValidationError("an SMPP pool needs a login and a plain password")
        st = system_type if isinstance(system_type, SystemType) else SystemType.parse(system_type)
        if limits.connections > 1 or st.connections is not None:
            # smscentre.com/api/smpp: without MCONn a new bind of the same login closes the previous
            # one.
            st = attrs.evolve(st, connections=max(limits.connections, st.connections or 1))
        if fleet is not None:
            # Every bind of the login, in every worker, declares the account's MCONn.
            if limits.connections > fleet.mcon:
                raise ValidationError(f"{limits.connections} binds exceed the fleet's mcon")
            st = attrs.evolve(st, connections=fleet.mcon)
        self._credentials = credentials
        self._limits = limits
        self._timeouts = timeouts = timeouts or Timeouts()
        self._mode = mode
        self.system_type = st
        # With a store: claimed and not yet answered, about three windows per bind (_claims.py).
        ahead = 3 * limits.window * limits.connections
        self._read_ahead = options.read_ahead or (
            max(100, 2 * limits.window * limits.connections)
            if store is None
            # An outcome is yielded (its room in the read-ahead freed) once its settlement is
            # in the store: the sends that ended while a transaction is written hold room
            # too, about as many as are claimed. With less, the claim task finds nothing
            # handed over to claim, and the binds run dry, while the store commits.
            else max(STORE_READ_AHEAD, 4 * ahead)
        )
        self._options = submit_options or SubmitOptions(iso=st.iso)
        self._builder = SubmitBuilder(self._options)
        # How every bind of the pool binds (_bind.py).
        self._bind_settings = BindSettings(
            credentials=credentials,
            mode=mode,
            system_type=st,
            window=limits.window,
            timeouts=timeouts,
            connect=connect or tcp_connector(tls),
            submit_options=self._options,
            options=options,
        )
        self._queue = JobQueue(timeouts.pool)
        self._limiter: RateLimiter | FleetRate = RateLimiter(limits.max_rate)
        if fleet is not None:  # the fleet's rate on Redis first, then this pool's own
            self._limiter = fleet.send_rate(self._limiter, self._wake_binds, self._queue.__len__)
        self._reports = ReportBuffer(
            options.report_buffer or max(1000, 2 * limits.window * limits.connections)
        )
        # One of each for all binds (_shared.py).
        self._shared = Shared(
            queue=self._queue,
            limiter=self._limiter,
            reports=self._reports,
            read_receipt=self._receipt_ids.read,
        )
        self._counters = self._shared.counters
        # With a store: its send tracker and receipt recorder (_tracking.py).
        self._tracking = None
        if store is not None:
            backlog = options.report_buffer or max(self._reports.capacity, STORE_READ_AHEAD)
            self._tracking = Tracking(store, self._counters, self._reports, backlog, ahead)
        self._hosts = hosts(host, port, backup_hosts)
        self._binds = Binds(
            limits.connections,
            self._hosts,
            self._new_session,
            reconnect or ReconnectPolicy(),
            leases=None if fleet is None else fleet.bind_slots,
        )
        self._stack: AsyncExitStack | None = None
        self._state = PoolState.NEW

    def _wake_binds(self) -> None:
        for session in self._binds.sessions():
            session.wake()

    def _new_session(self, host: str, port: int, number: int) -> SMPPSession:
        return SMPPSession._create(
            host, port, self._bind_settings, self._shared, f"{host}:{port}#{number + 1}"
        )

    def __repr__(self) -> str:
        host, port = self._hosts[0]
        c = self._counters
        in_flight = sum(session.in_flight for session in self._binds.sessions())
        return (
            f"<SMPPPool {host}:{port} {self._state.value} binds={self._binds.up()}/"
            f"{len(self._binds)} window={self._limits.window} in_flight={in_flight} "
            f"queued={len(self._queue)} submitted={c.submitted} acknowledged={c.acknowledged} "
            f"rejected={c.rejected}>"
        )

    # --- lifecycle ----------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._state is not PoolState.NEW:
            raise RuntimeError("an SMPPPool can be entered only once")
        self._state = PoolState.OPENING
        binds = self._binds
        try:
            async with AsyncExitStack() as stack:
                tg = await stack.enter_async_context(anyio.create_task_group())
                # Leaving: the supervisors unbind, the tasks are cancelled, then awaited.
                stack.callback(tg.cancel_scope.cancel)
                stack.callback(binds.closing.set)
                await tg.start(watch_queue, self._queue)
                if self._tracking is not None:
                    await self._tracking.start(tg)
                if not isinstance(self._limiter, RateLimiter):  # a fleet's: ask Redis
                    tg.start_soon(self._limiter.run)
                    stack.callback(self._limiter.close)
                binds.start(tg)
                # Wait for the first bind; a refusal "for a while" is retried with backoff, but
                # not past the connect + bind deadlines, and not at all for bad credentials.
                startup = (self._timeouts.connect or 10.0) + (self._timeouts.bind or 10.0)
                with anyio.move_on_after(startup):
                    await binds.ready.wait()
                if binds.up() or binds.waiting():  # (waiting: for a fleet bind slot)
                    self._stack = stack.pop_all()
            if self._stack is None:  # the task group is gone: say why nothing came up
                raise binds.first_error() or ConnectionLost("no bind came up")
        except BaseException:
            self._state = PoolState.CLOSED
            self._reports.close()
            raise
        self._state = PoolState.OPEN
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
        stack, self._stack = self._stack, None
        if stack is None:
            return
        self._state = PoolState.CLOSING
        self._binds.closing.set()
        try:
            with anyio.CancelScope(shield=True):
                await self._binds.done.wait()
                if self._tracking is not None:  # settle and record what the binds left
                    self._queue.fail_all(ConnectionLost("the pool closed before it was sent"))
                    await self._tracking.drain()
            await stack.aclose()
        finally:
            self._queue.fail_all(ConnectionLost("the pool closed before the message was sent"))
            self._reports.close()
            self._state = PoolState.CLOSED

    # --- sending ------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._state not in (PoolState.OPEN, PoolState.OPENING):
            raise RuntimeError(f"the pool is {self._state.value}")
        if not self._mode.can_send:
            raise RuntimeError("a receiver-only pool cannot send")

    def _job(self, message: Message, recipient: str, urgent: bool, index: int = 0) -> Job:
        parts = self._builder.build(message, recipient)
        return new_job(parts, noop, urgent, message=message, recipient=recipient, index=index)

    async def send(
        self, message: Message, *, urgent: bool = False, resend_unknown: bool = False
    ) -> SendResult:
        """Send a message to its one recipient and return its ids (all parts).

        A message with several recipients is refused here (``ValueError``): use
        :meth:`send_many`, which yields one outcome per recipient.

        With a store, it is recorded before it goes out and settled before this returns; one
        sent before is not sent again: its stored ids are returned, or its refusal or
        :class:`~smscenter.exceptions.UnknownOutcomeError` raised (see ``resend_unknown``).

        :param urgent: overtake queued bulk messages (the provider sends such single messages
            first, smscentre.com/api/smpp).
        :param resend_unknown: (with a store) send it even if the store holds it as ``unknown``
            (an earlier send was written and never answered: it may then arrive twice).
        :raises ValueError: several recipients, or SMPP cannot carry the message (with a store:
            no ``client_id``; a :class:`~smscenter.exceptions.ValidationError`).
        :raises APIError: the SMSC refused it (:class:`~smscenter.exceptions.ThrottledError`
            after all resends).
        :raises PoolTimeout: no bind took it within ``Timeouts.pool``.
        :raises UnknownOutcomeError: written but never answered; it may have been sent.
        :raises StoreError: (with a store) it could not be recorded, so it was not sent; or it
            was accepted and its ids could not be recorded, kept and retried (the error says them).
        """
        self._check_open()
        recipient = check_single(message)
        if self._tracking is not None:
            check_tracked(message)
            job = self._job(message, recipient, urgent)
            return await self._tracking.sends.send(self._queue, job, resend_unknown, self._saw)
        job = await run_job(self._queue, self._job(message, recipient, urgent), self._saw)
        if job.error is not None:
            raise job.error
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

    def send_many(
        self,
        messages: Iterable[Message] | AsyncIterable[Message],
        *,
        urgent: bool = False,
        read_ahead: int | None = None,
        resend_unknown: bool = False,
    ) -> AsyncIterator[SendOutcome]:
        """Send many messages; yield one :class:`~smscenter.smpp.client.results.SendOutcome` per
        message and recipient, in completion order.

        The input is read lazily: at most ``read_ahead`` messages are taken and unfinished at
        any time (fewer under a rate limit: what the rate sends in a quarter of
        ``Timeouts.pool``), so a generator of millions stays in bounded memory and queued
        messages do not time out just because the pool paces them. It reads in passes of at
        most 1,024 messages and lets the event loop run between them, so a large read-ahead
        neither holds back the first sends nor stalls the application's other tasks (its
        keepalives, its web handlers) while it is built. Failures are outcome
        values (``outcome.error``), never raised. Leaving the loop early withdraws the messages
        not yet written; use ``contextlib.aclosing`` to make that immediate.

        **With a store**, running it again over the same input resumes it, sending nothing
        twice: each message is claimed in the store (``sending``, durably) before a bind
        writes it, in chunks of about a window; an outcome is yielded once the store has its
        settlement; a message sent before is not sent, its outcome carries the record
        (:attr:`SendOutcome.tracked <smscenter.smpp.client.results.SendOutcome.tracked>`). A
        message without a ``client_id`` or with several recipients gets a
        :class:`~smscenter.exceptions.ValidationError` outcome. If the store cannot record a
        batch, :class:`~smscenter.store.StoreError` is raised: nothing of it was sent.

        :param resend_unknown: (with a store) send again the messages the store holds as
            ``unknown``: written by an earlier run and never answered, so they may arrive
            twice. Off by default: they are reported, not sent.
        """
        return send_many(
            messages,
            urgent=urgent,
            read_ahead=read_ahead,
            default_read_ahead=self._read_ahead,
            read_ahead_now=self._read_ahead_now,
            queue=self._queue,
            builder=self._builder,
            matcher=self._receipt_ids,
            check_open=self._check_open,
            tracker=None if self._tracking is None else self._tracking.sends,
            resend_unknown=resend_unknown,
        )

    def withdraw_queued(self, error: BaseException) -> list[SendOutcome]:
        """Take back, at once, every message no bind has written yet: for a job that stops, so
        that only what is in flight still goes out.

        That is every message waiting in the queue, and one a bind holds back for the rate
        limit. Each ends with ``error`` (one partly written before its bind dropped ends with
        :class:`~smscenter.exceptions.UnknownOutcomeError` instead), and its caller still hears
        of it: :meth:`send` raises it, :meth:`send_many` yields its outcome. Messages already
        written finish as usual, and queries are left alone. ``send_many`` goes on taking
        messages from its input: stop that input too.

        :returns: the outcomes of the withdrawn messages, now (``send_many`` yields them later;
            with a store, once they are settled there as failed, safe to send again).
        """
        queue = self._queue
        jobs = queue.withdraw(_is_a_message)
        # Read ahead and not claimed yet (with a store): no record has them.
        unclaimed = [] if self._tracking is None else self._tracking.sends.claims.withdraw(error)
        # A bind holding a message back for the rate limit has not written it either.
        for session in self._binds.sessions():
            held = session.take_back_unwritten()
            if held is not None and held.message is not None:
                jobs.append(held)
            elif held is not None:  # a query: back to the queue
                queue.push_back(held)
        for job in jobs:
            queue.give_up(job, error)
        return [outcome(job) for job in jobs + unclaimed]

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

        With a store, receipts are acknowledged once the store has them, whether anyone reads
        this stream or not; the stream gets a copy of each, as a live view that leaves copies
        out when it is full (``SMPPOptions.report_buffer`` items): read ``store.changes()`` for
        a feed that misses nothing. Incoming messages work as without a store.
        """
        return ReportStream._create(self._reports)

    def statistics(self) -> SMPPStatistics:
        """The pool's counters now (a frozen snapshot)."""
        return self._counters.snapshot(
            unknown=self._queue.unknown,
            in_flight=sum(session.in_flight for session in self._binds.sessions()),
            queued=len(self._queue),
            binds_up=self._binds.up(),
            binds=len(self._binds),
            reconnects=self._binds.reconnects,
            rate=self._limiter.rate,
        )


def _is_a_message(job: Job) -> bool:
    return job.message is not None  # (not a query)
