"""The receiving half of :class:`~smscenter.smpp.connection.SMPPConnection`: bytes read from
the peer in, events out, and the answers the spec requires queued on the way (SMPP 3.4 §2.3,
§4; the h11 shape: :meth:`ReceiveSide.receive_data` never raises, malformed input becomes a
:class:`~smscenter.smpp.events.ProtocolViolation`).

It is a base class of ``SMPPConnection`` (which holds the sending half and the timers) and works
on the same session state: the state, the window of requests awaiting answers, the queue of
bytes to send. State changes go through :meth:`ReceiveSide._apply`, the one place a PDU moves
the session, for both halves. Not used on its own.

(ESME) Successful ``submit_sm_resp`` are taken by the framer without decoding each, and every
acceptance of a ``submit_sm`` of ours in one ``receive_data`` call is reported in one
:class:`~smscenter.smpp.events.SubmitsAccepted`, placed where the first one arrived.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from smscenter.smpp._keepalive import Keepalive
from smscenter.smpp._refusals import broken_answer, cut_short, illegal, malformed, unsolicited
from smscenter.smpp._state import ESME, LEGAL, Role, State, mode_of, next_state
from smscenter.smpp._window import Window
from smscenter.smpp.constants import BindMode, CommandId
from smscenter.smpp.events import (
    BindComplete,
    BindRefused,
    BindRequested,
    ConnectionClosed,
    Event,
    LateResponse,
    OutbindReceived,
    PendingRequest,
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

__all__ = ("BIND_REQUESTS", "ReceiveSide")

logger = logging.getLogger("smscenter.smpp.connection")

BIND_REQUESTS = frozenset(
    {CommandId.BIND_TRANSMITTER, CommandId.BIND_RECEIVER, CommandId.BIND_TRANSCEIVER}
)
_MODE_OF: dict[int, BindMode] = {
    CommandId.BIND_TRANSMITTER: BindMode.TRANSMITTER,
    CommandId.BIND_RECEIVER: BindMode.RECEIVER,
    CommandId.BIND_TRANSCEIVER: BindMode.TRANSCEIVER,
}
# Positional fast constructors (events.py): one event per PDU is created on the hot path.
_REQUEST_EVENTS: dict[int, Callable[[Any], RequestReceived]] = {
    CommandId.DELIVER_SM: new_deliver_sm_received,
    CommandId.SUBMIT_SM: new_submit_sm_received,
    CommandId.DATA_SM: new_data_sm_received,
}
_ENQUIRE_LINK = CommandId.ENQUIRE_LINK
_UNBIND = CommandId.UNBIND
_OUTBIND = CommandId.OUTBIND
_GENERIC_NACK = CommandId.GENERIC_NACK
_SUBMIT_SM = CommandId.SUBMIT_SM
_DELIVER_SM = CommandId.DELIVER_SM
_ROK = 0


class ReceiveSide:
    """The session state both halves share, its changes, and receiving (module docstring).

    The attributes are set by ``SMPPConnection.__init__``.
    """

    role: Role
    _peer: Role
    _state: State
    _legal_out: frozenset[CommandId]
    _legal_in: frozenset[CommandId]
    _bind_mode: BindMode | None
    _window: Window
    _framer: PduFramer
    _keepalive: Keepalive
    #: Encoded PDUs waiting for data_to_send().
    _out: list[bytes]
    _bind_seq: int | None
    _unbind_seq: int | None
    # (ESME) The SMSC unbound while requests of ours were in flight: their answers are still
    # read, and the connection closes once none is left (or the caller gives up).
    _peer_unbound: bool
    # (ESME) Accepted submits of the current receive_data call, and where their event goes.
    _accepted: list[tuple[int, str]]
    _accepted_at: int

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

    def _close(self, events: list[Event], reason: str) -> None:
        self._enter(State.CLOSED)
        unanswered = tuple(
            PendingRequest(sequence_number=seq, command_id=cid) for seq, cid in self._window.drain()
        )
        events.append(ConnectionClosed(reason=reason, unanswered=unanswered))

    def _close_if_drained(self, events: list[Event]) -> None:
        """After the SMSC's unbind: close once nothing of ours awaits an answer."""
        if not self._window and self._state is not State.CLOSED:
            self._close(events, "unbound by peer")

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
        """Turn every complete PDU into its events; with ``scan`` (ESME), successful
        submit_sm_resp are taken by the framer without decoding (:meth:`_take_accepted`).

        Taken acceptances are settled against the window before the next PDU that could
        depend on it; a ``deliver_sm`` cannot (it is a request of the SMSC's), so the
        acceptances a run of receipts is interleaved with are settled once, after it.
        Their events keep their place all the same.
        """
        run: list[tuple[int, str]] = []
        # Where the events of the acceptances in ``run`` begin (-1: run is empty), and for
        # each deliver_sm read meanwhile, how many of them had arrived before it.
        at = -1
        marks: list[int] = []
        accepted = run if scan else None
        while True:
            try:
                pdu = framer.next_pdu(accepted)
            except PduDecodeError as exc:
                if run:
                    self._take_accepted(run, events, len(events) if at < 0 else at, marks)
                    at = -1
                self._on_decode_error(exc, events)
                if exc.fatal:
                    return
                continue
            if pdu is None:
                if run:
                    self._take_accepted(run, events, len(events) if at < 0 else at, marks)
                return
            cid = pdu.command_id
            if run:
                if at < 0:
                    at = len(events)
                if cid is _DELIVER_SM:
                    marks.append(len(run))
                else:
                    self._take_accepted(run, events, at, marks)
                    at = -1
            if cid is _DELIVER_SM and cid in self._legal_in:
                # _on_pdu's first case inline (one call less per receipt); a deliver_sm
                # never moves the state.
                # (command_id DELIVER_SM: a DeliverSm, without an isinstance call)
                events.append(new_deliver_sm_received(pdu))  # type: ignore[arg-type]
                continue
            self._on_pdu(pdu, events)
            if self._state is State.CLOSED:
                return

    def _take_accepted(
        self, run: list[tuple[int, str]], events: list[Event], at: int, marks: list[int]
    ) -> None:
        """Settle the successful submit_sm_resp of ``run`` (emptied with ``marks``): those
        answering a submit_sm of ours are accepted; any other (unsolicited, late, answering
        another request) is reported the usual way, in its place.

        ``events[at:]`` are the events of the deliver_sm read among them (one each), the
        ``i``-th after the first ``marks[i]`` of ``run``.
        """
        window = self._window
        accepted = self._accepted
        count = len(run)
        stop = window.pop_answered(run, 0, _SUBMIT_SM)
        if stop == count:  # the usual case: all of them ours
            if not accepted:
                self._accepted_at = at
            accepted.extend(run)
            run.clear()
            marks.clear()
            return
        # Some are not: from the first stranger on, one at a time, each event in its place
        # among those of the receipts (set aside meanwhile).
        later = events[at:]
        del events[at:]
        if stop:
            if not accepted:
                self._accepted_at = at
            accepted.extend(run[:stop])
        k = 0
        for index in range(stop, count):
            while k < len(marks) and marks[k] <= index:
                events.append(later[k])
                k += 1
            seq, message_id = run[index]
            entry = window.get(seq)
            if entry is not None and entry.command_id is _SUBMIT_SM:
                window.pop(seq)
                if not accepted:
                    self._accepted_at = len(events)
                accepted.append((seq, message_id))
            else:
                self._on_response(SubmitSmResp(sequence_number=seq, message_id=message_id), events)
        events += later[k:]
        run.clear()
        marks.clear()

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
        make = _REQUEST_EVENTS.get(cid)
        if make is not None:  # deliver_sm first: one per receipt
            events.append(make(pdu))
        elif cid == _ENQUIRE_LINK:
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
        elif cid in BIND_REQUESTS:
            assert isinstance(pdu, BindTransmitter | BindReceiver | BindTransceiver)
            events.append(BindRequested(pdu=pdu, mode=_MODE_OF[cid]))
        elif cid == _OUTBIND:
            assert isinstance(pdu, Outbind)
            events.append(OutbindReceived(pdu=pdu))
        else:
            events.append(new_request_received(pdu))

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
