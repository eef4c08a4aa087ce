"""The SMPP session state machine, sans-IO: bytes in, events out, bytes to send out.

One class, :class:`SMPPConnection`, serves both ends of the wire: ``role=Role.ESME`` is our
client, ``role=Role.SMSC`` is the SMSC side of the embedded simulator. It owns no socket, no
clock and no task (the h11 / mqttproto style):

- :meth:`~SMPPConnection.receive_data` takes bytes as read (``b""`` means EOF) and returns
  events; automatic answers (enquire_link_resp, unbind_resp, generic_nack, error responses to
  PDUs illegal in the current state) are queued at the same time.
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

import logging
from collections.abc import Callable, Sequence
from typing import Any

from smscenter.exceptions import LocalProtocolError
from smscenter.smpp._codec import HEADER, U32, cstr_limit
from smscenter.smpp._keepalive import Keepalive, Timers
from smscenter.smpp._refusals import broken_answer, cut_short, illegal, malformed, unsolicited
from smscenter.smpp._state import (
    BOUND_STATES,
    ESME,
    LEGAL,
    SMSC,
    Role,
    State,
    mode_of,
    next_state,
)
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
from smscenter.smpp.events import (
    BindComplete,
    BindRefused,
    BindRequested,
    ConnectionClosed,
    Event,
    LateResponse,
    OutbindReceived,
    PendingRequest,
    RequestExpired,
    RequestReceived,
    UnbindComplete,
    UnbindReceived,
    new_data_sm_received,
    new_deliver_sm_received,
    new_enquire_link_received,
    new_request_received,
    new_response_received,
    new_submit_sm_received,
    new_submits_accepted,
)
from smscenter.smpp.framer import PduFramer
from smscenter.smpp.pdu import (
    BindReceiver,
    BindTransceiver,
    BindTransmitter,
    EnquireLinkResp,
    Outbind,
    Pdu,
    PduDecodeError,
    SubmitSmResp,
    UnbindResp,
)

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

logger = logging.getLogger(__name__)


class WindowFull(LocalProtocolError):
    """A request was sent while the window was full; wait for a response first."""


_BIND_REQUESTS = frozenset(
    {CommandId.BIND_TRANSMITTER, CommandId.BIND_RECEIVER, CommandId.BIND_TRANSCEIVER}
)
_BIND_RESPONSES = frozenset(c | 0x80000000 for c in _BIND_REQUESTS)
_BIND_CLASSES: dict[BindMode, type[BindTransmitter | BindReceiver | BindTransceiver]] = {
    BindMode.TRANSMITTER: BindTransmitter,
    BindMode.RECEIVER: BindReceiver,
    BindMode.TRANSCEIVER: BindTransceiver,
}
_MODE_OF: dict[int, BindMode] = {
    CommandId.BIND_TRANSMITTER: BindMode.TRANSMITTER,
    CommandId.BIND_RECEIVER: BindMode.RECEIVER,
    CommandId.BIND_TRANSCEIVER: BindMode.TRANSCEIVER,
}
# Control requests are tracked (they expire) but never wait for a window slot.
_UNCOUNTED = frozenset({CommandId.ENQUIRE_LINK, CommandId.UNBIND, *_BIND_REQUESTS})
# Requests that have no response PDU.
_NO_RESPONSE = frozenset({CommandId.OUTBIND, CommandId.ALERT_NOTIFICATION})
# Positional fast constructors (events.py): one event per PDU is created on the hot path.
_REQUEST_EVENTS: dict[int, Callable[[Any], RequestReceived]] = {
    CommandId.DELIVER_SM: new_deliver_sm_received,
    CommandId.SUBMIT_SM: new_submit_sm_received,
    CommandId.DATA_SM: new_data_sm_received,
}
# How many encoded field-less responses respond() keeps per connection (one per
# (command_id, command_status) actually answered: a handful).
_MAX_TEMPLATES = 64
_ENQUIRE_LINK = CommandId.ENQUIRE_LINK
_UNBIND = CommandId.UNBIND
_OUTBIND = CommandId.OUTBIND
_GENERIC_NACK = CommandId.GENERIC_NACK
_SUBMIT_SM_RESP = CommandId.SUBMIT_SM_RESP
_SUBMIT_SM = CommandId.SUBMIT_SM
_pack_header = HEADER.pack
# message_id's C-string limit, NUL included (SMPP 3.4 §4.4.2).
_MESSAGE_ID_LIMIT = cstr_limit(SubmitSmResp, "message_id")
_ROK = 0


class SMPPConnection:
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
        # Encoded field-less responses by (command_id, command_status), sequence number 0.
        self._templates: dict[tuple[int, int], bytes] = {}

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

    def _apply(self, sender: Role, command_id: CommandId, *, ok: bool = True) -> State:
        """Move the session as the transition table says for this PDU (sent by ``sender``):
        the one place a PDU changes the state (only binds, unbinds and their answers can)."""
        state = next_state(sender, self._state, command_id, ok=ok)
        if state is not self._state:
            self._enter(state)
        return state

    def _enter(self, state: State) -> None:
        self._state = state
        self._legal_out = LEGAL[state][self.role]
        self._legal_in = LEGAL[state][self._peer]
        mode = mode_of(state)
        if mode is not None:
            self._bind_mode = mode

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
            if command_id in _BIND_REQUESTS and self._bind_seq is not None:
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
        cid = cls.command_id
        seq = request.sequence_number
        if not fields and cid not in _BIND_RESPONSES and 0 <= seq <= 0xFFFFFFFF:
            # The answer sent most (deliver_sm_resp to every receipt): a cached encoding with
            # the sequence number patched in, no PDU object built.
            self._check_out(cid)
            key = (cid, command_status)
            template = self._templates.get(key)
            if template is None:
                if len(self._templates) >= _MAX_TEMPLATES:
                    self._templates.clear()
                template = cls(command_status=command_status).encode()
                self._templates[key] = template
            self._out.append(template[:12] + U32.pack(seq) + template[16:])
            self._keepalive.sent = True
            return
        self.send_response(cls(sequence_number=seq, command_status=command_status, **fields))

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

    def _close_if_drained(self, events: list[Event]) -> None:
        """After the SMSC's unbind: close once nothing of ours awaits an answer."""
        if not self._window and self._state is not State.CLOSED:
            self._close(events, "unbound by peer")

    def timers(self, now: float) -> Timers:
        """Keepalive bookkeeping at ``now`` (:class:`~smscenter.smpp._keepalive.Timers`)."""
        bound = self._state in BOUND_STATES
        return self._keepalive.timers(now, bound=bound, next_deadline=self._window.next_deadline())

    def next_timer(self, now: float) -> float | None:
        """When :meth:`timers` / :meth:`expire` should next be called (None: nothing pending)."""
        return self.timers(now).next_check

    # --- receiving ----------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> list[Event]:
        """Feed bytes read from the peer; ``b""`` means the peer closed (EOF).

        Returns the events, in order; answers the spec requires are queued for
        :meth:`data_to_send`. Malformed input never raises: it becomes a
        :class:`~smscenter.smpp.events.ProtocolViolation` (and, when framing is lost, a
        :class:`~smscenter.smpp.events.ConnectionClosed`).
        """
        if self._state is State.CLOSED:
            return []
        events: list[Event] = []
        if not data:
            if self._framer.buffered:
                events.append(cut_short(self._framer.buffered))
            self._close(events, "eof")
            return events
        framer = self._framer
        framer.feed(data)
        accepted = self._accepted
        self._receive(framer, events, self.role is ESME)
        if accepted:
            # One event for every accepted submit of this read, where the first one arrived.
            events.insert(self._accepted_at, new_submits_accepted(tuple(accepted)))
            accepted.clear()
        if self._peer_unbound:
            self._close_if_drained(events)
        return events

    def _receive(self, framer: PduFramer, events: list[Event], scan: bool) -> None:
        """Turn every complete PDU into its events; with ``scan`` (ESME), runs of successful
        submit_sm_resp are read by the framer without decoding (:meth:`_take_accepted`)."""
        run: list[tuple[int, str]] = []
        while True:
            if scan and framer.take_accepted(_SUBMIT_SM_RESP, _MESSAGE_ID_LIMIT, run):
                self._take_accepted(run, events)
                run = []
            try:
                pdu = framer.next_pdu()
            except PduDecodeError as exc:
                self._on_decode_error(exc, events)
                if exc.fatal:
                    return
                continue
            if pdu is None:
                return
            self._on_pdu(pdu, events)
            if self._state is State.CLOSED:
                return

    def _take_accepted(self, run: list[tuple[int, str]], events: list[Event]) -> None:
        """A run of successful submit_sm_resp: those answering a submit_sm of ours are
        accepted; any other (unsolicited, late, answering another request) is reported the
        usual way, in its place."""
        window = self._window
        accepted = self._accepted
        index, count = 0, len(run)
        while index < count:
            stop = window.pop_answered(run, index, _SUBMIT_SM)
            if stop > index:
                if not accepted:
                    self._accepted_at = len(events)
                accepted.extend(run if stop - index == count else run[index:stop])
            if stop < count:
                seq, message_id = run[stop]
                self._on_response(SubmitSmResp(sequence_number=seq, message_id=message_id), events)
                stop += 1
            index = stop

    def _close(self, events: list[Event], reason: str) -> None:
        self._enter(State.CLOSED)
        unanswered = tuple(
            PendingRequest(sequence_number=seq, command_id=cid) for seq, cid in self._window.drain()
        )
        events.append(ConnectionClosed(reason=reason, unanswered=unanswered))

    def _on_decode_error(self, exc: PduDecodeError, events: list[Event]) -> None:
        cid = exc.command_id
        seq = exc.sequence_number or 0
        # A broken response is never answered, but the request it answers is over.
        ended = cid is not None and bool(cid & 0x80000000) and self._window.pop(seq) is not None
        answer, violation = malformed(exc, seq if ended else None)
        if answer is not None:
            self._out.append(answer)
        logger.warning("smpp: malformed PDU from peer: %s", exc)
        events.append(violation)
        if exc.fatal:
            self._close(events, "protocol error")

    def _on_pdu(self, pdu: Pdu, events: list[Event]) -> None:
        cid = pdu.command_id
        if cid & 0x80000000:
            self._on_response(pdu, events)
            return
        seq = pdu.sequence_number
        if cid not in self._legal_in:
            answer, violation = illegal(pdu, self._state, self._peer)
            if answer is not None:
                self._out.append(answer)
            events.append(violation)
            return
        if cid == _ENQUIRE_LINK:
            self._out.append(EnquireLinkResp(sequence_number=seq).encode())
            events.append(new_enquire_link_received(seq))
        elif cid == _UNBIND:
            self._apply(self._peer, cid)
            self._out.append(UnbindResp(sequence_number=seq).encode())
            events.append(UnbindReceived(sequence_number=seq))
            if self.role is ESME and self._window and self._unbind_seq is None:
                # SMPP 3.4 §4.2: the SMSC ends the session, but answers it wrote right after its
                # unbind settle requests of ours that would otherwise end unknown: keep reading
                # them (UNBINDING lets only responses in) until none is outstanding.
                self._peer_unbound = True
            elif self._apply(self.role, CommandId.UNBIND_RESP) is State.CLOSED:
                self._close(events, "unbound by peer")
        elif cid in _BIND_REQUESTS:
            assert isinstance(pdu, BindTransmitter | BindReceiver | BindTransceiver)
            events.append(BindRequested(pdu=pdu, mode=_MODE_OF[cid]))
        elif cid == _OUTBIND:
            assert isinstance(pdu, Outbind)
            events.append(OutbindReceived(pdu=pdu))
        else:
            make = _REQUEST_EVENTS.get(cid, new_request_received)
            events.append(make(pdu))

    def _on_response(self, pdu: Pdu, events: list[Event]) -> None:
        cid = pdu.command_id
        seq = pdu.sequence_number
        window = self._window
        entry = window.get(seq)
        if entry is None:
            late = window.pop_expired(seq)
            if late is not None:
                events.append(LateResponse(request_seq=seq, request_command_id=late, pdu=pdu))
            else:
                events.append(unsolicited(pdu))
            return
        request_cid = entry.command_id
        broken = broken_answer(pdu, request_cid)
        if broken is not None and broken.request_seq is None:
            events.append(broken)  # not an answer to that request: it still waits
            return
        window.pop(seq)
        if broken is not None:
            events.append(broken)  # the request is over, its outcome unknown
            return
        # A response to a request we really sent is accepted in any state (the state may have
        # moved on, e.g. to UNBINDING); unsolicited ones were reported above.
        self._keepalive.answered(seq)
        status = pdu.command_status
        if seq == self._bind_seq:
            self._bind_seq = None
            ok = status == _ROK and cid != _GENERIC_NACK
            self._apply(self._peer, cid, ok=ok)
            if ok:
                mode = _MODE_OF[request_cid]
                system_id = getattr(pdu, "system_id", "")
                events.append(BindComplete(mode=mode, system_id=system_id, pdu=pdu))
            else:
                events.append(BindRefused(command_status=status, pdu=pdu))
            return
        if seq == self._unbind_seq:
            self._unbind_seq = None
            if isinstance(pdu, UnbindResp):
                events.append(UnbindComplete(pdu=pdu))
                if self._apply(self._peer, cid) is State.CLOSED:
                    self._close(events, "unbind")
                return
        if status == _ROK and type(pdu) is SubmitSmResp and pdu.message_id:
            # An acceptance that did not come through the framer's scan (TLVs, say): the same
            # one event for all of this read.
            accepted = self._accepted
            if not accepted:
                self._accepted_at = len(events)
            accepted.append((seq, pdu.message_id))
            return
        events.append(new_response_received(seq, request_cid, pdu))
