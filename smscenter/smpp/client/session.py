"""One SMPP bind over TCP or TLS, on anyio, as an async context manager: :class:`SMPPSession`.

Its parts, lifecycle (connect, bind, unbind, the end of the link) and reader, writer and timer
tasks are its base class's, in _bind.py; here are its public constructor, what the pool's queue
asks of a bind, and the operations an application calls.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable

from smscenter.config import Credentials, SMPPOptions, Timeouts
from smscenter.exceptions import ValidationError
from smscenter.models import DeliveryReport, Message, SendResult
from smscenter.smpp.client._bind import Bind, BindSettings
from smscenter.smpp.client._jobs import (
    JobQueue,
    new_job,
    noop,
    send_result,
)
from smscenter.smpp.client._ratelimit import RateLimiter
from smscenter.smpp.client._shared import Shared
from smscenter.smpp.client._stream import Connector, tcp_connector
from smscenter.smpp.client._waiting import check_single, query_through, run_job
from smscenter.smpp.client.reports import ReportBuffer, ReportStream
from smscenter.smpp.client.results import QueryResult, SMPPStatistics
from smscenter.smpp.constants import BindMode
from smscenter.smpp.pdu import DeliverSm
from smscenter.smpp.receipts import ReceiptReader
from smscenter.smpp.submit import SubmitOptions
from smscenter.smpp.system_type import SystemType

__all__ = ("SMPPSession",)


class SMPPSession(Bind):
    """One bind to an SMSC, as an async context manager.

    Most applications use :class:`~smscenter.smpp.client.pool.SMPPPool` (which runs one or more of
    these and reconnects them); a session is one bind and ends when its link does. Entering
    connects and binds; leaving (or :meth:`aclose`) unbinds; :meth:`wait_closed` waits for the
    link to end (these and the tasks are its base class's, _bind.py).

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
        if not isinstance(system_type, SystemType):
            system_type = SystemType.parse(system_type)
        settings = BindSettings(
            credentials=credentials,
            mode=mode,
            system_type=system_type,
            window=window,
            timeouts=timeouts,
            connect=connect or tcp_connector(tls),
            submit_options=submit_options or SubmitOptions(iso=system_type.iso),
            options=options,
        )
        shared = Shared(
            queue=JobQueue(timeouts.pool),
            limiter=RateLimiter(max_rate),
            reports=ReportBuffer(options.report_buffer or 1000),
            read_receipt=receipt_reader or ReceiptReader().report,
            owned=True,
        )
        super().__init__(host, port, settings, shared, name or f"{host}:{port}")

    @classmethod
    def _create(
        cls, host: str, port: int, settings: BindSettings, shared: Shared, name: str
    ) -> SMPPSession:
        """For the pool: a bind sharing ``shared`` with the pool's other binds, all bound as
        ``settings`` says (plumbing stays off the public signature, as trio's ``_create``)."""
        self = cls.__new__(cls)
        Bind.__init__(self, host, port, settings, shared, name)
        return self

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
            new_job(parts, noop, urgent, message=message, recipient=recipient),
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
