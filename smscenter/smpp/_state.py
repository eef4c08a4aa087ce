"""The SMPP session states and their transitions, as data (SMPP 3.4 §2.2 - §2.4).

:data:`TRANSITIONS` says, for the side that *sends* a PDU and the session state it is sent in,
which PDUs are legal and the state the session is in afterwards. Both ends of a link read the
same table: the sender when it sends, the receiver when the PDU arrives. :data:`LEGAL` (what
each side may send in each state) is derived from it, and so is :data:`MOVERS` (the few PDUs
that change the state at all: binds, unbinds and their answers).

The session (``SMPPConnection``) applies a transition in one place; two rules it adds:

- a bind response moves the session only when it grants the bind (SMPP 3.4 §4.1: a refused
  bind leaves it open for another try);
- an ESME that receives the SMSC's unbind while requests of its own are still unanswered stays
  UNBINDING after its unbind_resp, reading those answers, and closes once none is left
  (SMPP 3.4 §4.2: answers written before the unbind still settle requests).
"""

from __future__ import annotations

import enum

from smscenter.smpp.constants import BindMode, CommandId

__all__ = (
    "BOUND_STATES",
    "ESME",
    "LEGAL",
    "MOVERS",
    "SMSC",
    "TRANSITIONS",
    "Role",
    "State",
    "bound_state",
    "mode_of",
    "next_state",
)


class Role(enum.Enum):
    """Which end of the link a connection plays."""

    ESME = "esme"
    SMSC = "smsc"


ESME = Role.ESME
SMSC = Role.SMSC


class State(enum.Enum):
    """Session states (SMPP 3.4 §2.2), plus UNBINDING: while our unbind awaits its answer, or
    (an ESME) after the SMSC's unbind, while answers to our requests in flight may still come."""

    OPEN = "open"
    BOUND_TX = "bound_tx"
    BOUND_RX = "bound_rx"
    BOUND_TRX = "bound_trx"
    UNBINDING = "unbinding"
    CLOSED = "closed"


C = CommandId
_ANY_TIME = {C.ENQUIRE_LINK, C.ENQUIRE_LINK_RESP, C.GENERIC_NACK}
_ESME_TX = {C.SUBMIT_SM, C.DATA_SM, C.QUERY_SM, C.CANCEL_SM, C.REPLACE_SM, C.SUBMIT_MULTI}
_SMSC_TX = {
    C.SUBMIT_SM_RESP,
    C.DATA_SM_RESP,
    C.QUERY_SM_RESP,
    C.CANCEL_SM_RESP,
    C.REPLACE_SM_RESP,
    C.SUBMIT_MULTI_RESP,
}
_SMSC_RX = {C.DELIVER_SM, C.DATA_SM, C.ALERT_NOTIFICATION}
_ESME_RX = {C.DELIVER_SM_RESP, C.DATA_SM_RESP}
_ALL_RESPONSES = {c for c in CommandId if c & 0x80000000}
_BIND_REQUESTS = {C.BIND_TRANSMITTER, C.BIND_RECEIVER, C.BIND_TRANSCEIVER}

_BOUND_BY_MODE = {
    BindMode.TRANSMITTER: State.BOUND_TX,
    BindMode.RECEIVER: State.BOUND_RX,
    BindMode.TRANSCEIVER: State.BOUND_TRX,
}
_MODE_BY_STATE = {state: mode for mode, state in _BOUND_BY_MODE.items()}
_BIND_RESPONSE_MODE = {
    C.BIND_TRANSMITTER_RESP: BindMode.TRANSMITTER,
    C.BIND_RECEIVER_RESP: BindMode.RECEIVER,
    C.BIND_TRANSCEIVER_RESP: BindMode.TRANSCEIVER,
}
BOUND_STATES = frozenset(_MODE_BY_STATE)


def _stay(state: State, commands: set[CommandId]) -> dict[CommandId, State]:
    return dict.fromkeys(commands, state)


def _bound(state: State, sent: set[CommandId]) -> dict[CommandId, State]:
    # Either side may unbind a bound session (SMPP 3.4 §4.2). Its receiver is UNBINDING too
    # from then on, so the unbind_resp that ends the session is sent and read in UNBINDING; one
    # in a bound state answers nothing and changes nothing.
    bound = _stay(state, _ANY_TIME | {CommandId.UNBIND_RESP} | sent)
    return {**bound, CommandId.UNBIND: State.UNBINDING}


_UNBINDING = {
    # Only answers (to requests still in flight), unbind and keepalive pass (SMPP 3.4 §2.3).
    **_stay(State.UNBINDING, _ALL_RESPONSES | {C.UNBIND, C.ENQUIRE_LINK}),
    C.UNBIND_RESP: State.CLOSED,
}

#: (sending role, state) -> command_id -> the state after that PDU (SMPP 3.4 §2.3, §2.4).
#: A command_id missing from a row may not be sent by that side in that state: sending it is a
#: ``LocalProtocolError``, receiving it is answered with ``ESME_RINVBNDSTS``.
TRANSITIONS: dict[tuple[Role, State], dict[CommandId, State]] = {
    (ESME, State.OPEN): _stay(State.OPEN, _ANY_TIME | _BIND_REQUESTS),
    (SMSC, State.OPEN): {
        **_stay(State.OPEN, _ANY_TIME | {C.OUTBIND}),
        **{cid: _BOUND_BY_MODE[mode] for cid, mode in _BIND_RESPONSE_MODE.items()},
    },
    (ESME, State.BOUND_TX): _bound(State.BOUND_TX, _ESME_TX),
    (SMSC, State.BOUND_TX): _bound(State.BOUND_TX, _SMSC_TX),
    (ESME, State.BOUND_RX): _bound(State.BOUND_RX, _ESME_RX),
    (SMSC, State.BOUND_RX): _bound(State.BOUND_RX, _SMSC_RX),
    (ESME, State.BOUND_TRX): _bound(State.BOUND_TRX, _ESME_TX | _ESME_RX),
    (SMSC, State.BOUND_TRX): _bound(State.BOUND_TRX, _SMSC_TX | _SMSC_RX),
    (ESME, State.UNBINDING): _UNBINDING,
    (SMSC, State.UNBINDING): _UNBINDING,
    (ESME, State.CLOSED): {},
    (SMSC, State.CLOSED): {},
}
del C

#: state -> sending role -> command_ids that side may send in that state (from TRANSITIONS).
LEGAL: dict[State, dict[Role, frozenset[CommandId]]] = {
    state: {role: frozenset(TRANSITIONS[role, state]) for role in Role} for state in State
}

#: The command_ids that can change a session's state; every other PDU leaves it as it is, so
#: the connection's per-message paths need no transition at all.
MOVERS = frozenset(
    cid
    for (_role, state), row in TRANSITIONS.items()
    for cid, after in row.items()
    if after is not state
)


def next_state(sender: Role, state: State, command_id: CommandId, *, ok: bool = True) -> State:
    """The state after ``sender`` sent ``command_id`` in ``state`` (a legal PDU).

    :param ok: for a response, whether it has status 0 and is not a generic_nack; a refused
        bind changes nothing (SMPP 3.4 §4.1).
    """
    if not ok and command_id in _BIND_RESPONSE_MODE:
        return state
    return TRANSITIONS[sender, state][command_id]


def mode_of(state: State) -> BindMode | None:
    """The bind mode of a bound state (None for the others)."""
    return _MODE_BY_STATE.get(state)


def bound_state(mode: BindMode) -> State:
    """The state a session bound in ``mode`` is in."""
    return _BOUND_BY_MODE[mode]
