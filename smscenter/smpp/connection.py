"""The SMPP session state machine, sans-IO: bytes in, events out, bytes to send out.

One class, :class:`SMPPConnection`, serves both ends of the wire: ``role=Role.ESME`` is our
client, ``role=Role.SMSC`` is the SMSC side of the embedded simulator. It owns no socket, no
clock and no task (the h11 / mqttproto style):

- :meth:`~SMPPConnection.receive_data` takes bytes as read (``b""`` means EOF) and returns
  events; automatic answers (enquire_link_resp, unbind_resp, generic_nack, error responses to
  PDUs illegal in the current state) are queued at the same time. That half lives in
  :mod:`smscenter.smpp._receive` (a base class: both halves share the session state).
- :meth:`~SMPPConnection.send_encoded` is the one request path: it numbers, registers and
  queues requests whose bodies are already encoded (``send`` and the ``send_*`` helpers
  encode a PDU and go through it); :meth:`~SMPPConnection.data_to_send` drains everything
  queued as one ``bytes`` (one write per batch: small writes with Nagle on are what slows SMPP
  clients, docs/performance.md).
- Time comes in as ``now`` floats: requests carry deadlines, :meth:`~SMPPConnection.expire`
  reports what ran out, :meth:`~SMPPConnection.timers` says when an enquire_link is due and
  whether the link is dead.

Which PDU may be sent by which side in which state, and the state after it, is one table,
``TRANSITIONS`` in :mod:`smscenter.smpp._state` (SMPP 3.4 §2.3 and §2.4; :data:`LEGAL` is derived
from it); sending an illegal one is a ``LocalProtocolError``, receiving one is answered with
``ESME_RINVBNDSTS`` (``ESME_RALYBND`` for a second bind) and reported as
:class:`~smscenter.smpp.events.ProtocolViolation`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from smscenter.exceptions import LocalProtocolError
from smscenter.smpp._codec import HEADER, PDU_CLASSES
from smscenter.smpp._keepalive import Keepalive, Timers
from smscenter.smpp._receive import BIND_REQUESTS, ReceiveSide
from smscenter.smpp._state import BOUND_STATES, ESME, LEGAL, SMSC, Role, State
from smscenter.smpp._window import Window
from smscenter.smpp.constants import (
    DEFAULT_MAX_PDU_LENGTH,
    HEADER_LENGTH,
    INTERFACE_VERSION,
    MAX_SEQUENCE_NUMBER,
    BindMode,
    CommandId,
    CommandStatus,
)
from smscenter.smpp.events import Event, RequestExpired
from smscenter.smpp.framer import PduFramer
from smscenter.smpp.pdu import BindReceiver, BindTransceiver, BindTransmitter, Outbind, Pdu

__all__ = (
    "ESME",
    "LEGAL",
    "SMSC",
    "Role",
    "SMPPConnection",
    "State",
    "Timers",
    "WindowFull",
)


class WindowFull(LocalProtocolError):
    """A request was sent while the window was full; wait for a response first."""


_BIND_RESPONSES = frozenset(c | 0x80000000 for c in BIND_REQUESTS)
_BIND_CLASSES: dict[BindMode, type[BindTransmitter | BindReceiver | BindTransceiver]] = {
    BindMode.TRANSMITTER: BindTransmitter,
    BindMode.RECEIVER: BindReceiver,
    BindMode.TRANSCEIVER: BindTransceiver,
}
# Control requests are tracked (they expire) but never wait for a window slot.
_UNCOUNTED = frozenset({CommandId.ENQUIRE_LINK, CommandId.UNBIND, *BIND_REQUESTS})
# Requests that have no response PDU.
_NO_RESPONSE = frozenset({CommandId.OUTBIND, CommandId.ALERT_NOTIFICATION})
# How many packers of field-less responses answer() keeps per connection (one per
# (command_id, command_status) actually answered: a handful).
_MAX_TEMPLATES = 64
_ENQUIRE_LINK = CommandId.ENQUIRE_LINK
_UNBIND = CommandId.UNBIND
_pack_header = HEADER.pack
_ROK = 0


class SMPPConnection(ReceiveSide):
    """One SMPP session, either end, with no I/O.

    :param role: :attr:`Role.ESME` (client) or :attr:`Role.SMSC` (server side).
    :param window: how many requests (submit_sm, deliver_sm, query_sm...) may await their
        response at once; enquire_link, bind and unbind do not count.
    :param enquire_link_interval: seconds without anything sent after which an enquire_link is
        due (the provider drops links idle for 2 minutes, smscentre.com/api/smpp).
    :param max_pdu_length: the largest command_length accepted from the peer.

    (ESME) Every successful ``submit_sm_resp`` to a ``submit_sm`` of ours is reported in the
    one :class:`~smscenter.smpp.events.SubmitsAccepted` of its ``receive_data`` call; every
    other response as a :class:`~smscenter.smpp.events.ResponseReceived`.
    """

    def __init__(
        self,
        role: Role,
        *,
        window: int = 10,
        enquire_link_interval: float = 30.0,
        max_pdu_length: int = DEFAULT_MAX_PDU_LENGTH,
    ) -> None:
        self._keepalive = Keepalive(enquire_link_interval)
        self.role = role
        self._peer = SMSC if role is ESME else ESME
        self._state = State.OPEN
        self._legal_out = LEGAL[State.OPEN][role]
        self._legal_in = LEGAL[State.OPEN][self._peer]
        self._window = Window(window)
        self._framer = PduFramer(max_pdu_length)
        self._out: list[bytes] = []
        self._next_seq = 1
        # Whether sequence numbers have wrapped around (only then can a fresh one be in use).
        self._wrapped = False
        self._bind_mode: BindMode | None = None
        self._bind_seq: int | None = None
        self._unbind_seq: int | None = None
        # (ESME) The SMSC unbound while requests of ours were in flight: their answers are still
        # read, and the connection closes once none is left (or the caller gives up).
        self._peer_unbound = False
        # (ESME) Accepted submits of the current receive_data call, and where their event goes.
        self._accepted: list[tuple[int, str]] = []
        self._accepted_at = 0
        # How answer() packs a field-less response, by (command_id, command_status).
        self._answers: dict[tuple[int, int], tuple[Callable[..., bytes], int, bytes]] = {}

    def __repr__(self) -> str:
        return (
            f"<SMPPConnection role={self.role.name} state={self._state.name} "
            f"in_flight={len(self._window)}/{self._window.capacity}>"
        )

    # --- introspection -----------------------------------------------------------------------

    @property
    def state(self) -> State:
        """The current session state."""
        return self._state

    @property
    def bind_mode(self) -> BindMode | None:
        """How the session is bound (None before the bind completes)."""
        return self._bind_mode

    @property
    def in_flight(self) -> int:
        """Counted requests awaiting a response."""
        return self._window.in_flight

    @property
    def window_available(self) -> int:
        """How many more counted requests may be sent now."""
        return self._window.available

    # --- state --------------------------------------------------------------------------------

    # --- sending ------------------------------------------------------------------------------

    def _allocate(self, count: int) -> list[int]:
        """``count`` fresh sequence numbers, in order (SMPP 3.4 §3.2: 1..0x7FFFFFFF)."""
        seq = self._next_seq
        end = seq + count
        if end <= MAX_SEQUENCE_NUMBER and not self._wrapped:
            # Until the numbers first wrap around, a fresh one cannot be in flight.
            self._next_seq = end
            return list(range(seq, end))
        window = self._window
        seqs: list[int] = []
        for _ in range(count):
            while True:  # skip numbers still in flight after a wrap-around
                if seq > MAX_SEQUENCE_NUMBER:
                    seq = 1
                    self._wrapped = True
                if seq not in window:
                    break
                seq += 1
            seqs.append(seq)
            seq += 1
        if seq > MAX_SEQUENCE_NUMBER:
            seq = 1
            self._wrapped = True
        self._next_seq = seq
        return seqs

    def _check_out(self, command_id: CommandId) -> None:
        if command_id not in self._legal_out:
            raise LocalProtocolError(
                f"{self.role.name} may not send {command_id.name.lower()} in state "
                f"{self._state.name}"
            )

    def send_encoded(
        self, command_id: CommandId, bodies: Sequence[bytes], *, deadline: float | None = None
    ) -> list[int]:
        """Queue requests of one kind whose bodies (everything after the header) are already
        encoded; return their sequence numbers, in order. The one request path: every ``send*``
        method ends here.

        :param deadline: the ``now`` value after which :meth:`expire` reports them (None:
            never).
        :raises LocalProtocolError: a response, or not legal in this state (nothing queued);
            :class:`WindowFull` when the window has no room for all of them (none is queued).
        """
        if command_id not in self._legal_out or command_id & 0x80000000:
            if command_id & 0x80000000:
                raise LocalProtocolError(f"{command_id.name.lower()} is a response: use respond()")
            self._check_out(command_id)
        count = len(bodies)
        window = self._window
        counted = command_id not in _UNCOUNTED
        if counted:
            if window.available < count and command_id not in _NO_RESPONSE:
                raise WindowFull(
                    f"the window of {window.capacity} outstanding requests has room for "
                    f"{window.available}, not {count}"
                )
        else:
            # Control requests drive the session: one at a time.
            if count != 1:
                raise LocalProtocolError(f"{command_id.name.lower()} goes alone")
            if command_id in BIND_REQUESTS and self._bind_seq is not None:
                raise LocalProtocolError("a bind is already outstanding")
        seqs = self._allocate(count)
        # Registered before the bytes can leave (data_to_send), all under one entry.
        if command_id not in _NO_RESPONSE:
            window.add(seqs, command_id, deadline, counted)
        pack = _pack_header
        if count == 1:
            body = bodies[0]
            self._out.append(pack(HEADER_LENGTH + len(body), command_id, 0, seqs[0]) + body)
        else:
            append = self._out.append
            for seq, body in zip(seqs, bodies):  # noqa: B905 - one number per body
                append(pack(HEADER_LENGTH + len(body), command_id, 0, seq) + body)
        if count:
            self._keepalive.sent = True
        if not counted:
            seq = seqs[0]
            if command_id == _ENQUIRE_LINK:
                self._keepalive.probe_sent(seq, deadline)
            elif command_id == _UNBIND:
                self._unbind_seq = seq
                self._apply(self.role, command_id)
            else:
                self._bind_seq = seq
        return seqs

    def send(self, pdu: Pdu, *, deadline: float | None = None) -> int:
        """Queue a request and return the sequence number it was given.

        :param pdu: any request PDU; its ``sequence_number`` is ignored and replaced.
        :param deadline: the ``now`` value after which :meth:`expire` reports it (None: never).
        :raises LocalProtocolError: the PDU is not a request, not legal in this state, or a
            field is over its limit; :class:`WindowFull` when the window has no room.
        """
        cid = pdu.command_id
        if cid & 0x80000000:
            raise LocalProtocolError(f"{type(pdu).__name__} is a response: use respond()")
        self._check_out(cid)
        # Encoded first: a bad field fails before anything is numbered or registered.
        body = pdu.encode()[HEADER_LENGTH:]
        return self.send_encoded(cid, (body,), deadline=deadline)[0]

    def send_bind(
        self,
        mode: BindMode,
        *,
        system_id: str,
        password: str,
        system_type: str = "",
        interface_version: int = INTERFACE_VERSION,
        addr_ton: int = 0,
        addr_npi: int = 0,
        address_range: str = "",
        deadline: float | None = None,
    ) -> int:
        """(ESME) Queue a bind request; :class:`~smscenter.smpp.events.BindComplete` or
        :class:`~smscenter.smpp.events.BindRefused` follows.

        :raises LocalProtocolError: not OPEN, or a bind is already outstanding.
        """
        cls = _BIND_CLASSES[mode]
        return self.send(
            cls(
                system_id=system_id,
                password=password,
                system_type=system_type,
                interface_version=interface_version,
                addr_ton=addr_ton,
                addr_npi=addr_npi,
                address_range=address_range,
            ),
            deadline=deadline,
        )

    def send_enquire_link(self, *, deadline: float | None = None) -> int:
        """Queue an enquire_link; if it is not answered by ``deadline`` the link is dead."""
        return self.send_encoded(_ENQUIRE_LINK, (b"",), deadline=deadline)[0]

    def send_unbind(self, *, deadline: float | None = None) -> int:
        """Queue an unbind; the connection is UNBINDING until unbind_resp arrives (responses to
        requests still in flight are accepted meanwhile)."""
        return self.send_encoded(_UNBIND, (b"",), deadline=deadline)[0]

    def send_outbind(self, *, system_id: str, password: str = "") -> int:
        """(SMSC) Ask the ESME to bind."""
        return self.send(Outbind(system_id=system_id, password=password))

    def respond(
        self, request: Pdu, command_status: int = CommandStatus.ESME_ROK, **fields: Any
    ) -> None:
        """Queue the response to ``request``, e.g. ``conn.respond(deliver_sm)`` or
        ``conn.respond(submit_sm, message_id="42")``.

        :raises LocalProtocolError: the request has no response PDU, or it is not legal now.
        """
        cls = request.response_class
        if cls is None:
            raise LocalProtocolError(f"{type(request).__name__} has no response PDU")
        seq = request.sequence_number
        if not fields and cls.command_id not in _BIND_RESPONSES and 0 <= seq <= 0xFFFFFFFF:
            self.answer(cls.command_id, (seq,), command_status)
            return
        self.send_response(cls(sequence_number=seq, command_status=command_status, **fields))

    def answer(
        self,
        command_id: CommandId,
        sequence_numbers: Iterable[int],
        command_status: int = CommandStatus.ESME_ROK,
    ) -> None:
        """Queue the response ``command_id`` with no fields set (e.g. ``deliver_sm_resp``) to
        each of these requests: what :meth:`respond` does for one without fields, for many at
        once (a client answers the receipts the application took in one go).

        :raises LocalProtocolError: not a response, a bind response (use :meth:`respond`), or
            not legal now (nothing queued).
        """
        if not command_id & 0x80000000 or command_id in _BIND_RESPONSES:
            raise LocalProtocolError(f"answer() queues field-less responses, not {command_id!r}")
        self._check_out(command_id)
        key = (command_id, command_status)
        packer = self._answers.get(key)
        if packer is None:
            # Encoded once per (command_id, command_status): a header and the empty fields.
            cls = PDU_CLASSES[command_id]
            body = cls(command_status=command_status).encode()[HEADER_LENGTH:]
            if len(self._answers) >= _MAX_TEMPLATES:
                self._answers.clear()
            packer = self._answers[key] = (
                struct.Struct(f">IIII{len(body)}s").pack,
                HEADER_LENGTH + len(body),
                body,
            )
        pack, length, body = packer
        append = self._out.append
        for seq in sequence_numbers:
            append(pack(length, command_id, command_status, seq, body))
        self._keepalive.sent = True

    def send_response(self, pdu: Pdu) -> None:
        """Queue a response (or generic_nack) exactly as given, sequence number included.

        A successful bind response sent by the SMSC binds the session.

        :raises LocalProtocolError: not a response, not legal in this state, or a bad field.
        """
        cid = pdu.command_id
        if not cid & 0x80000000:
            raise LocalProtocolError(f"{type(pdu).__name__} is a request: use send()")
        self._check_out(cid)
        self._out.append(pdu.encode())
        self._keepalive.sent = True
        if cid in _BIND_RESPONSES:
            # (unbind_resp is the connection's own answer to an unbind: see _on_pdu.)
            self._apply(self.role, cid, ok=pdu.command_status == _ROK)

    def accept_bind(self, request: Pdu, *, system_id: str) -> None:
        """(SMSC) Accept a bind request: answer ROK and become bound in its mode."""
        self.respond(request, system_id=system_id)

    def reject_bind(self, request: Pdu, command_status: int) -> None:
        """(SMSC) Refuse a bind request (e.g. ``ESME_RINVPASWD``); the session stays OPEN."""
        if command_status == CommandStatus.ESME_ROK:
            raise ValueError("a refusal needs a non-zero command_status")
        self.respond(request, command_status)

    def data_to_send(self) -> bytes:
        """Everything queued since the last call, as one ``bytes`` (b"" when nothing)."""
        out = self._out
        if not out:
            return b""
        data = out[0] if len(out) == 1 else b"".join(out)
        out.clear()
        return data

    # --- time ---------------------------------------------------------------------------------

    def expire(self, now: float) -> list[Event]:
        """Report (and forget) every request whose deadline is at or before ``now``.

        A response that still arrives later is reported as
        :class:`~smscenter.smpp.events.LateResponse`.
        """
        events: list[Event] = []
        for seq, cid in self._window.expire(now):
            if seq == self._bind_seq:
                self._bind_seq = None
            events.append(RequestExpired(request_seq=seq, request_command_id=cid))
        if self._peer_unbound:
            self._close_if_drained(events)
        return events

    def timers(self, now: float) -> Timers:
        """Keepalive bookkeeping at ``now`` (:class:`~smscenter.smpp._keepalive.Timers`)."""
        bound = self._state in BOUND_STATES
        return self._keepalive.timers(now, bound=bound, next_deadline=self._window.next_deadline())

    def next_timer(self, now: float) -> float | None:
        """When :meth:`timers` / :meth:`expire` should next be called (None: nothing pending)."""
        return self.timers(now).next_check
