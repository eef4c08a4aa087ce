"""The simulator's SMPP half: the SMSC side of SMPP 3.4 on anyio streams, sharing the HTTP
half's state (accounts, message store, balance, statuses, incoming messages).

One :class:`SMPPServer` serves any number of client connections; each one is driven by its own
sans-IO :class:`~smscenter.smpp.connection.SMPPConnection` with ``role=Role.SMSC`` (the same
core as the client's; it serves any anyio ByteStream). Every read is parsed whole and all
its answers leave in one write, with no task per PDU, so the simulator is not the bottleneck of
a benchmark.

The provider's rules reproduced here come from the provider's SMPP page
(https://smscentre.com/api/smpp/): bind checks against the account's login and password,
MCON1..MCON9 (without it a new bind of the same login closes the old one), ``ISO`` (data_coding 0
read as ISO-8859-1 instead of GSM) and ``SINGLE`` (one id and one receipt per part), the throughput
limit (30 SMS/s per account, answered with ESME_RTHROTTLED), duplicate refusal within a minute (an
identical ``submit_sm``, part by part, answered with ``error_statuses[9]``: the provider does not
document that status), receipts as deliver_sm with the standard TLVs, the provider's
0x2000-0x2004 and the ``id:.. sub:.. dlvrd:..`` text, only to binds that receive and only when
registered_delivery asks, the HLR receipt layout, and the 2-minute idle cut. Knobs and faults live
on :class:`SMPPBehaviour`
(``sim.behaviour.smpp``).

This module holds the server: listening, sessions, binds and the event dispatch. Its parts live
beside it: the knobs and counters (:mod:`~smscenter.testing._smpp_knobs`), one connection
(:mod:`~smscenter.testing._smpp_session`), submit_sm and query_sm
(:mod:`~smscenter.testing._smpp_submit`), receipts, incoming messages and their queue
(:mod:`~smscenter.testing._smpp_deliver`).
"""

from __future__ import annotations

import logging
import ssl
import time
from collections import deque
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import anyio
import anyio.abc
from anyio.streams.tls import TLSListener

from smscenter.smpp.connection import State
from smscenter.smpp.constants import CommandId, CommandStatus
from smscenter.smpp.events import (
    BindRequested,
    ConnectionClosed,
    EnquireLinkReceived,
    RequestReceived,
    ResponseReceived,
    SubmitSmReceived,
    UnbindReceived,
)
from smscenter.smpp.pdu import QuerySm
from smscenter.smpp.system_type import SystemType
from smscenter.testing._login_rules import LoginWatch
from smscenter.testing._smpp_deliver import DeliveryHandling
from smscenter.testing._smpp_knobs import (
    DEFAULT_ERROR_STATUSES,
    SMPPBehaviour,
    SMPPCounters,
    SMPPSessionInfo,
)
from smscenter.testing._smpp_session import _Delivery, _PartGroup, _Session, _Throttle
from smscenter.testing._smpp_submit import SubmitHandling, _Duplicates
from smscenter.testing._state import (
    SimError,
    SimulatorState,
)

__all__ = (
    "DEFAULT_ERROR_STATUSES",
    "SMPPBehaviour",
    "SMPPCounters",
    "SMPPServer",
    "SMPPSessionInfo",
)

logger = logging.getLogger(__name__)

S = CommandStatus
_DELIVER_SM = int(CommandId.DELIVER_SM)


class SMPPServer(SubmitHandling, DeliveryHandling):
    """The SMSC side of the simulator. Usually reached as ``sim.smpp``.

    :param state: the simulator's shared state.
    :param behaviour: the knobs (``sim.behaviour.smpp``).
    """

    def __init__(self, state: SimulatorState, behaviour: Callable[[], SMPPBehaviour]) -> None:
        self.state = state
        self._behaviour = behaviour
        self.counters = SMPPCounters()
        #: Per-login counters across all connections (binds at once, rate, connections).
        self.logins = LoginWatch()
        #: SMPP access passwords per login (SMPP 3.4 §5.2.2 allows at most 8 characters, so
        #: the provider has separate "passwords for access", smscentre.com/api/smpp).
        self.passwords: dict[str, str] = {}
        self._sessions: set[_Session] = set()
        self._pending: dict[str, deque[_Delivery]] = {}
        self._groups: dict[tuple[str, str, str, int, int], _PartGroup] = {}
        self._throttles: dict[str, _Throttle] = {}
        # Messages throttle_every refused last time (login, destination, text): let through next.
        self._just_throttled: set[tuple[str, str, bytes]] = set()
        self._rr = 0
        self._batching = False
        self._dirty: set[str] = set()
        self._stamp: tuple[int, str] = (-1, "")
        self._cost_tlvs: dict[Decimal, tuple[int, bytes]] = {}
        self._mo_ref = 0
        self._unsubscribe: list[Callable[[], None]] = []
        self._duplicates = _Duplicates()
        #: The id the last submit was accepted with (None: not accepted).
        self._accepted_id: int | None = None

    @property
    def behaviour(self) -> SMPPBehaviour:
        """The current knobs."""
        return self._behaviour()

    # --- serving ------------------------------------------------------------------------------

    async def serve(
        self,
        host: str,
        port: int,
        ssl_context: ssl.SSLContext | None = None,
        *,
        task_status: anyio.abc.TaskStatus[tuple[str, int]] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Listen on ``host:port`` (TLS when ``ssl_context`` is given) until cancelled.

        ``task_status.started`` gets the ``(host, port)`` actually bound.
        """
        tcp = await anyio.create_tcp_listener(local_host=host, local_port=port)
        bound = tcp.listeners[0].extra(anyio.abc.SocketAttribute.local_port)
        listener: anyio.abc.Listener[Any] = tcp
        if ssl_context is not None:
            listener = TLSListener(tcp, ssl_context, standard_compatible=False)
        self.subscribe()
        try:
            async with listener:
                task_status.started((host, bound))
                await listener.serve(self.serve_stream)
        finally:
            self.unsubscribe()

    def subscribe(self) -> None:
        """Hear status changes and incoming messages of the shared state (done by serve)."""
        if not self._unsubscribe:
            self._unsubscribe = [
                self.state.subscribe_status(self._on_status),
                self.state.subscribe_incoming(self._on_incoming),
            ]

    def unsubscribe(self) -> None:
        """Stop hearing the shared state."""
        for undo in self._unsubscribe:
            undo()
        self._unsubscribe = []

    async def serve_stream(self, stream: anyio.abc.ByteStream) -> None:
        """Serve one client connection on any anyio byte stream until it closes."""
        session = _Session(self, stream)
        self._sessions.add(session)
        try:
            await session.serve()
        except Exception:  # one broken connection must not take the listener down
            logger.exception("smpp simulator: connection of %r failed", session.login)
        finally:
            self._sessions.discard(session)
            if session.record is not None:
                self.logins.closed(session.record, time.monotonic())
            self._session_ended(session)
            await anyio.aclose_forcefully(stream)

    # --- introspection ------------------------------------------------------------------------

    def sessions(self, login: str | None = None) -> list[SMPPSessionInfo]:
        """The bound connections (of one login)."""
        return [
            SMPPSessionInfo(login=s.login, mode=s.conn.bind_mode, system_type=s.system_type)
            for s in self._sessions
            if s.bound
            and s.login is not None
            and s.conn.bind_mode is not None
            and (login is None or s.login == login)
        ]

    def pending(self, login: str) -> int:
        """Receipts and incoming messages of ``login`` waiting for a receiving bind."""
        return len(self._pending.get(login, ()))

    def disconnect_all(self) -> None:
        """Close every connection at once (a server crash, as clients see it)."""
        for session in list(self._sessions):
            session.abort()

    # --- events -------------------------------------------------------------------------------

    def handle_events(self, session: _Session, events: list[Any]) -> bool:
        """Act on one read's events; False when a fault knob drops the connection."""
        behaviour = self.behaviour
        limit = behaviour.drop_after_pdus
        # deliver_sm queued while handling one read go out together, after its answers.
        self._batching = True
        try:
            if not self._handle(session, events, behaviour, limit):
                return False
        finally:
            self._batching = False
            dirty, self._dirty = self._dirty, set()
            for login in dirty:
                self._pump(login)
        session.push(session.answered)
        session.answered = 0
        return True

    def _handle(
        self, session: _Session, events: list[Any], behaviour: SMPPBehaviour, limit: int | None
    ) -> bool:
        conn = session.conn
        counters = self.counters
        answered = 0
        for event in events:
            kind = type(event)
            if kind is not ConnectionClosed:
                session.pdus += 1
                if limit is not None and session.pdus >= limit:
                    session.answered += answered
                    return False
            if kind is SubmitSmReceived:
                counters.submits += 1
                if session.record is not None:
                    self.logins.submitted(session.record, time.monotonic())
                if behaviour.swallow_submits:
                    counters.swallowed += 1
                    session.unanswered += 1
                    continue
                session.unanswered += 1
                answered += 1
                self._on_submit(session, event.pdu, behaviour)
            elif kind is ResponseReceived:
                if event.request_command_id == _DELIVER_SM:
                    self._on_delivered(session, event.request_seq, event.pdu.command_status)
            elif kind is EnquireLinkReceived:
                counters.enquire_links += 1
            elif kind is BindRequested:
                self._on_bind(session, event, behaviour)
            elif kind is UnbindReceived:
                counters.unbinds += 1
                if session.record is not None:
                    self.logins.unbind(session.record, time.monotonic())
            elif kind is ConnectionClosed:
                pass
            elif isinstance(event, RequestReceived):
                pdu = event.pdu
                if isinstance(pdu, QuerySm):
                    counters.queries += 1
                    self._on_query(session, pdu)
                elif pdu.response_class is not None and conn.state is not State.CLOSED:
                    # smscentre.com/api/smpp: submit_multi "is not yet implemented"; nor are the
                    # others.
                    conn.respond(pdu, S.ESME_RINVCMDID)
        if session.unanswered > counters.max_in_flight:
            counters.max_in_flight = session.unanswered
        session.answered += answered
        return True

    def _on_bind(self, session: _Session, event: BindRequested, behaviour: SMPPBehaviour) -> None:
        pdu = event.pdu
        login = pdu.system_id
        counters = self.counters
        counters.bind_attempts[login] += 1
        refusal: int | None = None
        if behaviour.refuse_binds > 0:
            behaviour.refuse_binds -= 1
            refusal = behaviour.bind_refusal_status
        elif (
            behaviour.refuse_binds_until is not None
            and time.monotonic() < behaviour.refuse_binds_until
        ):
            refusal = behaviour.bind_refusal_status
        elif login not in self.state.accounts:
            refusal = S.ESME_RINVSYSID
        elif pdu.password != self.passwords.get(login):
            # smscentre.com/api/smpp: the password is one created on "Passwords for access"; the
            # account's own password works too when it fits the 8 characters SMPP allows.
            try:
                self.state.check_password(login, pdu.password)
            except SimError:
                refusal = S.ESME_RINVPASWD
        try:
            system_type = SystemType.parse(pdu.system_type)
        except ValueError:
            system_type = SystemType()
        if refusal is None:
            others = [
                s for s in self._sessions if s is not session and s.bound and s.login == login
            ]
            if system_type.connections is not None:
                # MCONn: up to n binds at once; the n+1th is refused (the older ones stay).
                if len(others) >= system_type.connections:
                    refusal = behaviour.mcon_refusal_status
            else:
                # smscentre.com/api/smpp: one connection per login; a new one terminates the
                # previous one.
                for other in others:
                    counters.kicked[login] += 1
                    other.kick()
        if refusal is not None:
            counters.bind_refusals[login] += 1
            session.conn.reject_bind(pdu, refusal)
            return
        session.conn.accept_bind(pdu, system_id=behaviour.system_id)
        session.login = login
        session.record = self.logins.bound(login, pdu.system_type, time.monotonic())
        session.system_type = system_type
        counters.binds[login] += 1
        if session.can_receive:
            # Flush right after bind_resp, not before it.
            session.push()
            self._pump(login)
