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
"""

from __future__ import annotations

import logging
import ssl
import struct
import time
from collections import Counter, deque
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote_plus

import anyio
import anyio.abc
import attrs
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from anyio.streams.tls import TLSListener

from smscenter._provider import COMMENT_SEPARATOR, MOSCOW
from smscenter.models import DeliveryError, DeliveryReport, MessageKind, MessageStatus
from smscenter.smpp.connection import Role, SMPPConnection, State
from smscenter.smpp.constants import BindMode, CommandId, CommandStatus, Tag
from smscenter.smpp.events import (
    BindRequested,
    ConnectionClosed,
    EnquireLinkReceived,
    RequestReceived,
    ResponseReceived,
    SubmitSmReceived,
    UnbindReceived,
)
from smscenter.smpp.pdu import DeliverSm, QuerySm, SubmitSm
from smscenter.smpp.provider_text import parse_provider_text
from smscenter.smpp.reassembly import split_user_data
from smscenter.smpp.receipts import render_receipt_text
from smscenter.smpp.system_type import SystemType
from smscenter.smpp.text import (
    choose_encoding,
    concat_udh,
    decode_text,
    encode_text,
    split_encoded,
)
from smscenter.smpp.times import absolute_time
from smscenter.smpp.tlv import Tlv
from smscenter.testing import _state as st
from smscenter.testing._login_rules import ConnectionRecord, LoginWatch
from smscenter.testing._state import (
    IncomingRecord,
    SendRequest,
    SentMessage,
    SimError,
    SimulatorState,
    StatusChange,
    lookup_operator,
)

__all__ = ("SMPPBehaviour", "SMPPCounters", "SMPPServer", "SMPPSessionInfo")

logger = logging.getLogger(__name__)

S = CommandStatus

#: Provider error codes (what :meth:`SimulatorState.send` raises) -> submit_sm_resp status.
DEFAULT_ERROR_STATUSES: dict[int, int] = {
    1: S.ESME_RSUBMITFAIL,  # bad parameters / empty message
    3: S.ESME_RSUBMITFAIL,  # not enough money
    6: S.ESME_RSUBMITFAIL,  # forbidden text or sender
    7: S.ESME_RINVDSTADR,  # invalid number
    8: S.ESME_RINVDSTADR,  # undeliverable number
    9: S.ESME_RSUBMITFAIL,  # identical message within a minute
}

_KIND_TYPES = {
    MessageKind.SMS: st.TYPE_SMS,
    MessageKind.HLR: st.TYPE_HLR,
    MessageKind.PING: st.TYPE_PING,
    MessageKind.EMAIL: st.TYPE_MAIL,
    MessageKind.CALL: st.TYPE_CALL,
    MessageKind.VIBER: st.TYPE_VIBER,
    MessageKind.SOCIAL: st.TYPE_SOC,
    MessageKind.TELEGRAM: st.TYPE_SOC,
    MessageKind.BOT: st.TYPE_SOC,
}
_EXTRA_LINES = {
    MessageKind.EMAIL: "\nsubj:",
    MessageKind.CALL: "\nvoice:",
    MessageKind.BOT: "\nbot:",
}
# esm_class (SMPP 3.4 §5.2.12): 0x04 delivery receipt, 0x40 short_message starts with a UDH.
_ESM_RECEIPT = 0x04
_ESM_UDHI = 0x40
# A part group that has not completed within this many seconds is dropped (smscentre.com/api/smpp:
# "all SMS parts must be transmitted to the server within a minute").
_PART_TIMEOUT = 60.0
_SUBMIT_RESP_HEADER = struct.Struct(">IIII")
_SUBMIT_SM_RESP = int(CommandId.SUBMIT_SM_RESP)
_DELIVER_SM = int(CommandId.DELIVER_SM)
# message_state DELIVERED, network_error_code GSM/0, flag 0 (SMS), parts 1, no extra status.
_DELIVERED_TLVS: tuple[tuple[int, bytes], ...] = (
    (0x0427, b"\x02"),
    (0x0423, b"\x03\x00\x00"),
    (0x2001, b"\x00\x00"),
    (0x2002, b"\x00\x01"),
    (0x2004, b"\x00\x00"),
)


@attrs.define
class SMPPBehaviour:
    """Knobs of the SMPP half (``sim.behaviour.smpp``); change them at any time.

    Limits and timing:

    :ivar throughput: submit_sm PDUs per second allowed per account (smscentre.com/api/smpp: 30 by
    default);
        beyond it the answer is ESME_RTHROTTLED (0x58). ``None`` turns the limit off.
    :ivar throughput_by_login: per-account overrides of :attr:`throughput` (the provider raises
        an account's limit on request), ``None`` values switching it off for that login.
    :ivar idle_timeout: seconds without anything received after which a connection is cut
        (smscentre.com/api/smpp: 2 minutes). ``None`` never cuts.
    :ivar receipts: send receipts (deliver_sm) at all.
    :ivar intermediate_receipts: also report the move to "transmitted" (ENROUTE); the provider
        reports final statuses only.
    :ivar deliver_incoming: deliver incoming messages (``sim.inject_incoming``) as deliver_sm to
        a receiving bind (smscentre.com/api/smpp: "Send incoming SMS via SMPP connection" is
        ticked).
    :ivar record: store, bill and check each message (the default). ``False`` is a benchmark
        mode: submits get fresh ids and an immediate DELIVRD receipt when one is asked for;
        nothing is stored or billed and no duplicate or funds check runs.
    :ivar receipt_window: deliver_sm PDUs awaiting deliver_sm_resp per connection; the rest
        wait in the account's queue.
    :ivar error_statuses: provider error code -> submit_sm_resp status for refused submits.
        ``error_statuses[9]`` is the duplicate refusal's status (ESME_RSUBMITFAIL by default;
        the provider does not document the one it uses): a ``submit_sm`` identical to one
        accepted within ``sim.behaviour.duplicate_window`` seconds (the provider: a minute;
        0 turns the check off) is refused with it.
    :ivar duplicate_with_id: a duplicate refusal carries the first message's id in its
        ``message_id`` (SMPP 3.4 leaves the body out of an error response; some SMSCs fill it).
    :ivar system_id: the SMSC's system_id in bind responses.

    Faults:

    :ivar response_delay: write every answer this many seconds late (the link keeps reading).
    :ivar stop_answering: read everything and answer nothing (enquire_link included): the link
        looks dead. Nothing read meanwhile is stored.
    :ivar swallow_submits: submit_sm PDUs are read and dropped unanswered (not stored); other
        PDUs are answered as usual.
    :ivar drop_after_pdus: close each connection once it has received this many PDUs (the bind
        included): the last one and anything after it in the same read are neither handled nor
        answered. ``None``: never.
    :ivar drop_loses_answers: with :attr:`drop_after_pdus`, the connection is cut without
        writing the answers still queued, those of the PDUs handled in the dropping read
        included: those submits were stored and billed, and the client cannot know it (the
        rest of the read was never received). ``False``: the answers go out before the cut.
    :ivar malformed: answer the next ``malformed`` submit_sm with a broken PDU instead of their
        submit_sm_resp (see :attr:`malformed_kind`).
    :ivar malformed_kind: ``"response"``: a submit_sm_resp whose message_id lacks its NUL (a
        decode error the client can attribute to the request); ``"frame"``: a header claiming a
        command_length of 8, which breaks the framing (the client must close the link).
    :ivar throttle_every: answer every n-th submit_sm (counted per server) with
        ESME_RTHROTTLED whatever the rate: ``2`` throttles half of them. ``None``: off. With
        ``n > 1`` a message throttled on its last attempt is let through on the next, so a
        resend cannot fall in step with the count and be throttled forever.
    :ivar refuse_binds: refuse the next this-many bind attempts with
        :attr:`bind_refusal_status`.
    :ivar refuse_binds_until: refuse binds until this :func:`time.monotonic` instant (see
        :meth:`refuse_binds_for`).
    :ivar bind_refusal_status: the status of refused binds (ESME_RBINDFAIL).
    :ivar mcon_refusal_status: the status of a bind beyond its MCONn allowance (ESME_RALYBND).
    """

    throughput: float | None = 30.0
    throughput_by_login: dict[str, float | None] = attrs.field(factory=dict)
    idle_timeout: float | None = 120.0
    receipts: bool = True
    intermediate_receipts: bool = False
    deliver_incoming: bool = True
    record: bool = True
    receipt_window: int = 1000
    error_statuses: dict[int, int] = attrs.field(factory=lambda: dict(DEFAULT_ERROR_STATUSES))
    duplicate_with_id: bool = False
    system_id: str = "smscenter"
    response_delay: float = 0.0
    stop_answering: bool = False
    swallow_submits: bool = False
    drop_after_pdus: int | None = None
    drop_loses_answers: bool = False
    malformed: int = 0
    malformed_kind: str = "response"
    throttle_every: int | None = None
    refuse_binds: int = 0
    refuse_binds_until: float | None = None
    bind_refusal_status: int = S.ESME_RBINDFAIL
    mcon_refusal_status: int = S.ESME_RALYBND

    def refuse_binds_for(self, seconds: float) -> None:
        """Refuse every bind for the next ``seconds`` (real time)."""
        self.refuse_binds_until = time.monotonic() + seconds


@attrs.define
class SMPPCounters:
    """What the SMPP half has seen, for assertions (``sim.smpp.counters``).

    :ivar bind_attempts: bind requests per login; :ivar binds: successful ones per login;
        :ivar bind_refusals: refused ones per login; :ivar kicked: binds closed because a newer
        bind of the same login came without MCON.
    :ivar submits: submit_sm PDUs received; :ivar accepted: answered with ESME_ROK;
        :ivar refused: answered with an error other than throttling; :ivar throttled: answered
        with ESME_RTHROTTLED; :ivar swallowed: dropped unanswered by a fault knob.
    :ivar max_in_flight: the most submit_sm of one connection received and not yet answered.
    :ivar receipts_sent: / :ivar receipts_acked: receipt deliver_sm written / answered ROK.
    :ivar incoming_sent: / :ivar incoming_acked: the same for incoming (MO) messages.
    :ivar queries: query_sm received; :ivar enquire_links: enquire_link received;
        :ivar unbinds: unbind received; :ivar idle_cuts: connections cut for idleness;
        :ivar drops: connections closed by ``drop_after_pdus``.
    :ivar duplicates: submit_sm refused as identical to one accepted within the duplicate
        window (also counted in ``refused``).
    """

    bind_attempts: Counter[str] = attrs.field(factory=Counter)
    binds: Counter[str] = attrs.field(factory=Counter)
    bind_refusals: Counter[str] = attrs.field(factory=Counter)
    kicked: Counter[str] = attrs.field(factory=Counter)
    submits: int = 0
    accepted: int = 0
    refused: int = 0
    throttled: int = 0
    swallowed: int = 0
    max_in_flight: int = 0
    receipts_sent: int = 0
    receipts_acked: int = 0
    incoming_sent: int = 0
    incoming_acked: int = 0
    queries: int = 0
    enquire_links: int = 0
    unbinds: int = 0
    idle_cuts: int = 0
    drops: int = 0
    duplicates: int = 0


class _Duplicates:
    """Submits accepted within the duplicate window, by content: the provider's SMPP page
    (https://smscentre.com/api/smpp/) says "the server does not accept more than one identical
    request to send SMS messages within a minute". Each ``submit_sm`` is a request, so a long
    message's parts count one by one."""

    __slots__ = ("_first", "_order")

    def __init__(self) -> None:
        self._first: dict[tuple[object, ...], tuple[float, int]] = {}
        self._order: deque[tuple[float, tuple[object, ...]]] = deque()

    @staticmethod
    def key(login: str, pdu: SubmitSm) -> tuple[object, ...]:
        """What makes two submits identical: everything but the sequence number and timing."""
        return (
            login,
            pdu.service_type,
            pdu.source_addr_ton,
            pdu.source_addr_npi,
            pdu.source_addr,
            pdu.dest_addr_ton,
            pdu.dest_addr_npi,
            pdu.destination_addr,
            pdu.esm_class,
            pdu.protocol_id,
            pdu.data_coding,
            pdu.short_message,
            pdu.tlv(Tag.MESSAGE_PAYLOAD),
            pdu.tlv(Tag.SAR_MSG_REF_NUM),
            pdu.tlv(Tag.SAR_SEGMENT_SEQNUM),
        )

    def find(self, key: tuple[object, ...], now: float, window: float) -> int | None:
        """The id of an identical submit accepted less than ``window`` seconds ago, if any."""
        if window <= 0:
            return None
        first, order = self._first, self._order
        while order and order[0][0] <= now - window:
            at, old = order.popleft()
            if first.get(old, (None, 0))[0] == at:
                del first[old]
        hit = first.get(key)
        return hit[1] if hit is not None and hit[0] > now - window else None

    def remember(self, key: tuple[object, ...], now: float, window: float, message_id: int) -> None:
        """An accepted submit starts its window."""
        if window > 0:
            self._first[key] = (now, message_id)
            self._order.append((now, key))


@attrs.frozen(kw_only=True)
class SMPPSessionInfo:
    """A bound SMPP connection as tests see it (``sim.smpp.sessions()``)."""

    login: str
    mode: BindMode
    system_type: SystemType


@attrs.frozen(kw_only=True)
class _Origin:
    """The ``origin`` of a message submitted over SMPP (what its receipt needs)."""

    server: SMPPServer
    registered_delivery: int
    source: str
    destination: str


class _Delivery:
    """A deliver_sm (or the parts of a long incoming message) waiting for a receiving bind."""

    __slots__ = ("build", "failed", "incoming", "outstanding")

    def __init__(self, build: Callable[[_Session], list[DeliverSm]], *, incoming: bool) -> None:
        self.build = build
        self.incoming = incoming
        self.outstanding: set[int] = set()
        self.failed = False


class _PartGroup:
    """Parts of one long message arriving over one login (non-SINGLE binds)."""

    __slots__ = ("first_at", "id", "parts", "total")

    def __init__(self, message_id: int, total: int, now: float) -> None:
        self.id = message_id
        self.total = total
        self.parts: dict[int, str] = {}
        self.first_at = now


class _Throttle:
    """A token bucket: ``rate`` per second, bursts up to ``rate``."""

    __slots__ = ("last", "tokens")

    def __init__(self, rate: float, now: float) -> None:
        self.tokens = max(rate, 1.0)
        self.last = now

    def take(self, rate: float, now: float) -> bool:
        self.tokens = min(max(rate, 1.0), self.tokens + (now - self.last) * rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class _Session:
    """One client connection: an SMPPConnection(role=SMSC) between a reader and a writer."""

    def __init__(self, server: SMPPServer, stream: anyio.abc.ByteStream) -> None:
        self.server = server
        self.stream = stream
        self.conn = SMPPConnection(
            Role.SMSC, window=max(1, server.behaviour.receipt_window), enquire_link_interval=1e9
        )
        self.login: str | None = None
        self.record: ConnectionRecord | None = None
        self.system_type = SystemType()
        self.pdus = 0
        self.unanswered = 0
        self.answered = 0
        self.deliveries: dict[int, _Delivery] = {}
        send, receive = anyio.create_memory_object_stream[tuple[float, bytes, int]](float("inf"))
        self._out_send: MemoryObjectSendStream[tuple[float, bytes, int]] = send
        self._out_receive: MemoryObjectReceiveStream[tuple[float, bytes, int]] = receive
        self._reader_scope = anyio.CancelScope()
        self._group: anyio.abc.TaskGroup | None = None

    @property
    def bound(self) -> bool:
        return self.conn.state in (State.BOUND_TX, State.BOUND_RX, State.BOUND_TRX)

    @property
    def can_receive(self) -> bool:
        return self.conn.state in (State.BOUND_RX, State.BOUND_TRX)

    # --- output -------------------------------------------------------------------------------

    def push(self, answered: int = 0) -> None:
        """Hand everything the connection queued to the writer (one chunk)."""
        data = self.conn.data_to_send()
        behaviour = self.server.behaviour
        if behaviour.stop_answering:
            self.unanswered -= answered
            return
        if not data and not answered:
            return
        due = time.monotonic() + behaviour.response_delay if behaviour.response_delay > 0 else 0.0
        try:
            self._out_send.send_nowait((due, data, answered))
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass

    def push_raw(self, data: bytes) -> None:
        """Queue bytes the connection did not encode (a fault knob's broken PDU)."""
        self.push()
        if not self.server.behaviour.stop_answering:
            try:
                self._out_send.send_nowait((0.0, data, 0))
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                pass

    async def write_loop(self) -> None:
        receive = self._out_receive
        stream = self.stream
        held: tuple[float, bytes, int] | None = None
        try:
            while True:
                if held is None:
                    try:
                        item = await receive.receive()
                    except anyio.EndOfStream:
                        return
                else:
                    item, held = held, None
                due, data, count = item
                if due:
                    delay = due - time.monotonic()
                    if delay > 0:
                        await anyio.sleep(delay)
                chunks = [data]
                now = time.monotonic()
                while True:  # coalesce everything already due into one write
                    try:
                        item = receive.receive_nowait()
                    except (anyio.WouldBlock, anyio.EndOfStream):
                        break
                    if item[0] > now:
                        held = item  # not due yet: it waits for its turn
                        break
                    chunks.append(item[1])
                    count += item[2]
                payload = chunks[0] if len(chunks) == 1 else b"".join(chunks)
                if payload:
                    await stream.send(payload)
                self.unanswered -= count
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            self.abort()

    def kick(self) -> None:
        """Unbind (a newer bind of the same login came without MCON), then close."""
        if self.conn.state in (State.BOUND_TX, State.BOUND_RX, State.BOUND_TRX):
            self.conn.send_unbind()
            self.push()
        self._reader_scope.cancel()

    def abort(self) -> None:
        """Close at once, without flushing."""
        self._reader_scope.cancel()
        if self._group is not None:
            self._group.cancel_scope.cancel()

    # --- input --------------------------------------------------------------------------------

    async def serve(self) -> None:
        try:
            async with anyio.create_task_group() as group:
                self._group = group
                group.start_soon(self.write_loop)
                with self._reader_scope:
                    await self.read_loop()
                self._out_send.close()
                # Let the writer flush what is queued (unbind_resp, a kick's unbind), but not
                # forever.
                group.cancel_scope.deadline = anyio.current_time() + 2.0
        finally:
            self._out_send.close()
            self._out_receive.close()

    async def read_loop(self) -> None:
        server = self.server
        stream = self.stream
        conn = self.conn
        while conn.state is not State.CLOSED:
            idle = server.behaviour.idle_timeout
            try:
                if idle is None:
                    data = await stream.receive(65536)
                else:
                    with anyio.move_on_after(idle) as scope:
                        data = await stream.receive(65536)
                    if scope.cancelled_caught:
                        server.counters.idle_cuts += 1
                        logger.info("smpp simulator: idle connection of %r cut", self.login)
                        return
            except anyio.EndOfStream:
                data = b""
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                return
            events = conn.receive_data(data)
            if server.behaviour.stop_answering:
                conn.data_to_send()
                self.pdus += len(events)
                continue
            if not server.handle_events(self, events):
                server.counters.drops += 1
                if server.behaviour.drop_loses_answers:
                    conn.data_to_send()  # the answers of this read never leave
                    self.abort()  # nor do those still queued
                    return
                self.push(self.answered)
                return
            if not data:
                return


class SMPPServer:
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

    # --- submit_sm ----------------------------------------------------------------------------

    def _refuse(self, session: _Session, pdu: SubmitSm, status: int) -> None:
        self.counters.refused += 1
        session.conn.respond(pdu, status)

    def _accept(self, session: _Session, pdu: SubmitSm, message_id: int) -> None:
        behaviour = self.behaviour
        if behaviour.malformed > 0:
            behaviour.malformed -= 1
            self._malformed(session, pdu.sequence_number, behaviour.malformed_kind)
            return
        self.counters.accepted += 1
        self._accepted_id = message_id
        session.conn.respond(pdu, message_id=str(message_id))

    def _malformed(self, session: _Session, seq: int, kind: str) -> None:
        # Written past the connection's encoder (which never writes a broken PDU); the
        # connection has queued nothing for this request.
        if kind == "frame":
            data = _SUBMIT_RESP_HEADER.pack(8, _SUBMIT_SM_RESP, 0, seq)
        else:
            data = _SUBMIT_RESP_HEADER.pack(19, _SUBMIT_SM_RESP, 0, seq) + b"123"
        session.push_raw(data)

    def _throttle_again(self, login: str, pdu: SubmitSm) -> bool:
        key = (login, pdu.destination_addr, pdu.short_message)
        if key in self._just_throttled:
            self._just_throttled.discard(key)
            return False
        if len(self._just_throttled) >= 100_000:  # resends that never came: forget them
            self._just_throttled.clear()
        self._just_throttled.add(key)
        return True

    def _on_submit(self, session: _Session, pdu: SubmitSm, behaviour: SMPPBehaviour) -> None:
        login = session.login
        assert login is not None  # only bound sessions get submit_sm events
        every = behaviour.throttle_every
        if (
            every is not None
            and every > 0
            and self.counters.submits % every == 0
            and (every == 1 or self._throttle_again(login, pdu))
        ):
            self.counters.throttled += 1
            self.logins.throttle(login, time.monotonic())
            session.conn.respond(pdu, S.ESME_RTHROTTLED)
            return
        overrides = behaviour.throughput_by_login
        rate = overrides[login] if overrides and login in overrides else behaviour.throughput
        if rate is not None:
            now = time.monotonic()
            bucket = self._throttles.get(login)
            if bucket is None:
                bucket = self._throttles[login] = _Throttle(rate, now)
            if not bucket.take(rate, now):
                self.counters.throttled += 1
                self.logins.throttle(login, time.monotonic())
                session.conn.respond(pdu, S.ESME_RTHROTTLED)
                return
        if not behaviour.record:
            message_id = self.state.allocate_id()
            self._accept(session, pdu, message_id)
            if pdu.registered_delivery & 0x01 and behaviour.receipts:
                self._instant_receipt(login, pdu, message_id)
            return
        duplicates = self._duplicates
        key = duplicates.key(login, pdu)
        first = duplicates.find(key, self.state.now(), self.state.behaviour.duplicate_window)
        if first is not None:
            # The provider's SMPP page: an identical request within a minute is not accepted.
            self.counters.duplicates += 1
            status = behaviour.error_statuses.get(9, S.ESME_RSUBMITFAIL)
            self.counters.refused += 1
            if behaviour.duplicate_with_id:
                session.conn.respond(pdu, status, message_id=str(first))
            else:
                session.conn.respond(pdu, status)
            return
        self._accepted_id = None
        self._handle_submit(session, pdu)
        accepted = self._last_accepted()
        if accepted is not None:
            duplicates.remember(
                key, self.state.now(), self.state.behaviour.duplicate_window, accepted
            )

    def _last_accepted(self) -> int | None:
        """The id the last submit handled was accepted with (None: refused or unanswered)."""
        return self._accepted_id

    def _handle_submit(self, session: _Session, pdu: SubmitSm) -> None:
        data, part = split_user_data(pdu)
        coding = pdu.data_coding
        binary = coding == 2 or 0xF4 <= coding <= 0xF7
        if binary:
            text = data.hex().upper()
        else:
            # smscentre.com/api/smpp: with system_type ISO the default alphabet is ISO-8859-1, not
            # GSM.
            text = decode_text(data, 4 if coding == 0 and session.system_type.iso else coding)
        if part is not None and part.total > 1:
            if session.system_type.single:
                # SINGLE: every part is a message of its own, with its own id and receipt.
                self._store(session, pdu, text, binary, part=(part.reference, part.seq))
            else:
                self._on_part(session, pdu, text, binary, part.reference, part.total, part.seq)
            return
        self._store(session, pdu, text, binary)

    def _on_part(
        self,
        session: _Session,
        pdu: SubmitSm,
        text: str,
        binary: bool,
        reference: int,
        total: int,
        seq: int,
    ) -> None:
        # smscentre.com/api/smpp: without SINGLE, every part of a long message gets the same id and
        # the glued message gets one receipt. It is stored (and billed) once its last part arrives.
        login = session.login
        assert login is not None
        now = time.monotonic()
        key = (login, pdu.source_addr, pdu.destination_addr, reference, total)
        group = self._groups.get(key)
        if group is None:
            for old_key in [k for k, g in self._groups.items() if now - g.first_at > _PART_TIMEOUT]:
                logger.info("smpp simulator: parts of %s never completed", old_key)
                del self._groups[old_key]
            account = self.state.accounts.get(login)
            price = self.state.price(st.TYPE_SMS) * total
            if account is not None and account.balance + (account.credit or 0) < price:
                self._refuse(session, pdu, self.behaviour.error_statuses.get(3, S.ESME_RSUBMITFAIL))
                return
            group = self._groups[key] = _PartGroup(self.state.allocate_id(), total, now)
        group.parts[seq] = text
        if len(group.parts) < total:
            self._accept(session, pdu, group.id)
            return
        del self._groups[key]
        glued = "".join(group.parts[i] for i in sorted(group.parts))
        self._store(session, pdu, glued, binary, message_id=group.id)

    def _store(
        self,
        session: _Session,
        pdu: SubmitSm,
        text: str,
        binary: bool,
        *,
        part: tuple[int, int] | None = None,
        message_id: int | None = None,
    ) -> None:
        login = session.login
        assert login is not None
        kind = None
        if binary:
            type_ = st.TYPE_BIN
            body = text
        else:
            parsed = parse_provider_text(text)
            type_ = _KIND_TYPES.get(parsed.kind, st.TYPE_SMS)
            if parsed.kind.value in st.UNTYPED_KINDS:
                kind = parsed.kind.value  # __TGM__ / __BOT__: not "social" (smscentre.com/api/smpp)
            body = text if parsed.kind is MessageKind.SMS else parsed.text
            if parsed.kind is MessageKind.SMS:
                coding = pdu.data_coding
                if 0x10 <= coding <= 0x1F and coding & 0x03 == 0:  # message class 0: flash
                    type_ = st.TYPE_FLASH
            else:
                extra = parsed.subject or parsed.voice or parsed.bot
                line = _EXTRA_LINES.get(parsed.kind)
                if extra is not None and line is not None:
                    body += line + extra
                if parsed.comment is not None:
                    body += COMMENT_SEPARATOR + parsed.comment
        source = pdu.source_addr
        destination = pdu.destination_addr
        request = SendRequest(
            phones=(destination,),
            text=body,
            type=type_,
            kind=kind,
            sender=source or None,
            client_id=None if message_id is None else str(message_id),
            fingerprint=("smpp", destination, source, type_, text, part),
            transport="smpp",
            origin=_Origin(
                server=self,
                registered_delivery=pdu.registered_delivery,
                source=source,
                destination=destination,
            ),
            receipt_requested=bool(pdu.registered_delivery & 0x03),
            hex_binary=binary,
        )
        try:
            outcome = self.state.send(login, request)
        except SimError as exc:
            status = self.behaviour.error_statuses.get(exc.code, S.ESME_RSUBMITFAIL)
            self._refuse(session, pdu, status)
            return
        except KeyError:  # the account was removed meanwhile
            self._refuse(session, pdu, S.ESME_RSYSERR)
            return
        self._accept(session, pdu, outcome.id)

    # --- query_sm -----------------------------------------------------------------------------

    def _on_query(self, session: _Session, pdu: QuerySm) -> None:
        login = session.login
        message = None
        if login is not None and pdu.message_id.isdigit():
            message = self.state.find(login, pdu.message_id, None)
        if message is None:
            session.conn.respond(pdu, S.ESME_RQUERYFAIL)
            return
        status = MessageStatus.from_code(message.status)
        final_date = ""
        if message.is_final:
            final_date = absolute_time(datetime.fromtimestamp(message.changed_at, MOSCOW))
        session.conn.respond(
            pdu,
            message_id=pdu.message_id,
            final_date=final_date,
            message_state=status.message_state,
            error_code=min(message.err, 255),
        )

    # --- receipts -----------------------------------------------------------------------------

    def _on_status(self, change: StatusChange) -> None:
        message = change.message
        origin = message.origin
        if not isinstance(origin, _Origin) or origin.server is not self:
            return
        behaviour = self.behaviour
        if not (behaviour.receipts and message.receipt_requested):
            # smscentre.com/api/smpp: without registered_delivery the status goes to HTTP only.
            return
        # Several changes may be applied by one poll: read the one this call is about, not the
        # message's latest status.
        new = change.new_status
        final = new in st.FINAL_STATUSES
        if not final and not (behaviour.intermediate_receipts and new == st.ST_TRANSMITTED):
            return
        status = MessageStatus.from_code(new)
        if origin.registered_delivery & 0x03 == 2 and not status.is_failure:
            return  # receipt on failure only (SMPP 3.4 §5.2.17)
        snapshot = (new, message.err if final else 0, change.at)
        self._queue(
            message.login,
            _Delivery(lambda _session: [self._receipt_pdu(message, *snapshot)], incoming=False),
        )

    def _receipt_pdu(
        self, message: SentMessage, status_code: int, err: int, at: float
    ) -> DeliverSm:
        status = MessageStatus.from_code(status_code)
        origin = message.origin
        assert isinstance(origin, _Origin)
        parts = message.parts or 1
        if message.type == st.TYPE_HLR and message.hlr is not None:
            hlr = message.hlr
            text = (
                f"id:{message.id} stat:{status.smpp_word} err:{err:03d} imsi:{hlr.imsi} "
                f"msc:{hlr.msc} mcc:{hlr.mcc} mnc:{hlr.mnc} cn:{quote_plus(hlr.cn)} "
                f"net:{quote_plus(hlr.net)} rcn:{quote_plus(hlr.rcn)} rnet:{quote_plus(hlr.rnet)}"
            )
        else:
            report = DeliveryReport(
                message_id=str(message.id),
                status=status,
                error=DeliveryError(err),
                submitted_at=datetime.fromtimestamp(message.submitted_at, MOSCOW),
                changed_at=datetime.fromtimestamp(at, MOSCOW),
                parts=parts,
                delivered_parts=parts if status.is_delivered else 0,
            )
            text = render_receipt_text(report)
        tlvs: list[tuple[int, bytes]] = [
            Tlv.of(Tag.RECEIPTED_MESSAGE_ID, str(message.id)),
            Tlv.of(Tag.MESSAGE_STATE, status.message_state),
            # SMPP 3.4 §5.3.2.31: network type (3 = GSM), then the 2-octet error code.
            (Tag.NETWORK_ERROR_CODE, bytes((3,)) + min(err, 0xFFFF).to_bytes(2, "big")),
            Tlv.of(Tag.COST, Decimal(message.cost)),
            Tlv.of(Tag.FLAG, message.flag & 0xFFFF),
            Tlv.of(Tag.PARTS, min(parts, 0xFFFF)),
        ]
        if message.reported_type is None:
            # A kind with no type number (Telegram, bot): no flag rather than a wrong type.
            tlvs = [t for t in tlvs if t[0] != Tag.FLAG]
        operator = lookup_operator(message.phone)
        # smscentre.com/api/smpp: MCC+MNC is "Var. max 5".
        if operator is not None and len(operator[3] + operator[4]) <= 5:
            tlvs.append(Tlv.of(Tag.MCCMNC, operator[3] + operator[4]))
        # smscentre.com/api/smpp, TLV 0x2004: 2 read, 4 link clicked (the HTTP statuses of the same
        # numbers).
        tlvs.append(Tlv.of(Tag.EXTRA_STATUS, status_code if status_code in (2, 4) else 0))
        return DeliverSm(
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr=message.phone[:20],
            destination_addr=origin.source,
            esm_class=_ESM_RECEIPT,
            short_message=text.encode("latin-1", "replace"),
            tlvs=tuple(tlvs),
        )

    def _instant_receipt(self, login: str, pdu: SubmitSm, message_id: int) -> None:
        # Benchmark mode: an immediate DELIVRD receipt, nothing stored; built directly (same
        # layout as _receipt_pdu) because it runs once per message.
        now = self.state.now()
        second = int(now)
        if self._stamp[0] != second:
            date = datetime.fromtimestamp(second, MOSCOW).strftime("%y%m%d%H%M")
            self._stamp = (second, date)
        date = self._stamp[1]
        mid = str(message_id)
        price = self.state.price(st.TYPE_SMS)
        cost = self._cost_tlvs.get(price)
        if cost is None:
            cost = self._cost_tlvs[price] = Tlv.of(Tag.COST, price)
        receipt = DeliverSm(
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr=pdu.destination_addr,
            destination_addr=pdu.source_addr,
            esm_class=_ESM_RECEIPT,
            short_message=(
                f"id:{mid} sub:001 dlvrd:001 submit date:{date} done date:{date} "
                "stat:DELIVRD err:000"
            ).encode(),
            tlvs=((0x001E, mid.encode() + b"\0"), *_DELIVERED_TLVS, cost),
        )
        self._queue(login, _Delivery(lambda _session: [receipt], incoming=False))

    # --- incoming messages --------------------------------------------------------------------

    def _on_incoming(self, record: IncomingRecord) -> None:
        if not self.behaviour.deliver_incoming:
            return
        self._mo_ref = (self._mo_ref + 1) & 0xFF
        reference = self._mo_ref
        self._queue(
            record.login,
            _Delivery(
                lambda session: self._incoming_pdus(session, record, reference), incoming=True
            ),
        )

    def _incoming_pdus(
        self, session: _Session, record: IncomingRecord, reference: int
    ) -> list[DeliverSm]:
        encoding = choose_encoding(record.text, iso=session.system_type.iso)
        parts = split_encoded(encode_text(record.text, encoding), encoding)
        common: dict[str, Any] = {
            "source_addr_ton": 1,
            "source_addr_npi": 1,
            "source_addr": record.phone[:20],
            "dest_addr_ton": 1 if record.to_phone.isdigit() else 0,
            "dest_addr_npi": 1 if record.to_phone.isdigit() else 0,
            "destination_addr": record.to_phone[:20],
            "data_coding": encoding.data_coding,
        }
        if len(parts) == 1:
            return [DeliverSm(short_message=parts[0], **common)]
        total = len(parts)
        return [
            DeliverSm(
                esm_class=_ESM_UDHI,
                short_message=concat_udh(reference, total, i) + part,
                **common,
            )
            for i, part in enumerate(parts, 1)
        ]

    # --- delivery queue -----------------------------------------------------------------------

    def _queue(self, login: str, delivery: _Delivery) -> None:
        self._pending.setdefault(login, deque()).append(delivery)
        if self._batching:
            self._dirty.add(login)
        else:
            self._pump(login)

    def _pump(self, login: str) -> None:
        """Hand queued deliver_sm of ``login`` to its receiving binds, round robin."""
        pending = self._pending.get(login)
        if not pending:
            return
        receivers = [s for s in self._sessions if s.login == login and s.can_receive]
        if not receivers:
            return
        touched: set[_Session] = set()
        counters = self.counters
        while pending:
            chosen = None
            for offset in range(len(receivers)):
                candidate = receivers[(self._rr + offset) % len(receivers)]
                if candidate.conn.window_available > 0:
                    chosen = candidate
                    break
            if chosen is None:
                break
            self._rr += 1
            delivery = pending[0]
            pdus = delivery.build(chosen)
            if chosen.conn.window_available < len(pdus):
                break
            pending.popleft()
            delivery.failed = False
            for pdu in pdus:
                seq = chosen.conn.send(pdu)
                delivery.outstanding.add(seq)
                chosen.deliveries[seq] = delivery
            if delivery.incoming:
                counters.incoming_sent += 1
            else:
                counters.receipts_sent += len(pdus)
            touched.add(chosen)
        for session in touched:
            session.push()

    def _on_delivered(self, session: _Session, seq: int, status: int) -> None:
        delivery = session.deliveries.pop(seq, None)
        if delivery is None:
            return
        delivery.outstanding.discard(seq)
        if status != S.ESME_ROK:
            delivery.failed = True
        elif not delivery.incoming:
            self.counters.receipts_acked += 1
        if delivery.outstanding:
            return
        if delivery.failed:
            # The client could not take it now (e.g. its queue was full): deliver it again.
            assert session.login is not None
            self._pending.setdefault(session.login, deque()).append(delivery)
        elif delivery.incoming:
            self.counters.incoming_acked += 1
        if session.login is not None:
            self._dirty.add(session.login)

    def _session_ended(self, session: _Session) -> None:
        # deliver_sm never answered go back to the front of the queue: nothing is lost.
        login = session.login
        if login is None or not session.deliveries:
            if login is not None:
                self._pump(login)
            return
        seen: list[_Delivery] = []
        for delivery in session.deliveries.values():
            if delivery not in seen:
                seen.append(delivery)
        session.deliveries.clear()
        queue = self._pending.setdefault(login, deque())
        for delivery in reversed(seen):
            delivery.outstanding.clear()
            delivery.failed = False
            queue.appendleft(delivery)
        self._pump(login)
