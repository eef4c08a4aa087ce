"""The session's transitions are data (smpp/_state.py): the permission table is derived from
them, and only binds, unbinds and their answers move a session."""

from __future__ import annotations

from smscenter.smpp._state import LEGAL, MOVERS, TRANSITIONS, Role, State, next_state
from smscenter.smpp.constants import CommandId


def test_legal_is_the_keys_of_the_transitions() -> None:
    assert set(TRANSITIONS) == {(role, state) for role in Role for state in State}
    for (role, state), row in TRANSITIONS.items():
        assert LEGAL[state][role] == frozenset(row)
    assert LEGAL[State.CLOSED][Role.ESME] == frozenset()


def test_only_binds_and_unbinds_move_a_session() -> None:
    assert {
        CommandId.BIND_TRANSMITTER_RESP,
        CommandId.BIND_RECEIVER_RESP,
        CommandId.BIND_TRANSCEIVER_RESP,
        CommandId.UNBIND,
        CommandId.UNBIND_RESP,
    } == MOVERS


def test_the_steps_of_a_session() -> None:
    esme, smsc = Role.ESME, Role.SMSC
    state = State.OPEN
    state = next_state(esme, state, CommandId.BIND_RECEIVER)
    assert state is State.OPEN  # until the answer
    assert next_state(smsc, state, CommandId.BIND_RECEIVER_RESP, ok=False) is State.OPEN
    state = next_state(smsc, state, CommandId.BIND_RECEIVER_RESP)
    assert state is State.BOUND_RX
    assert next_state(smsc, state, CommandId.DELIVER_SM) is State.BOUND_RX
    assert CommandId.SUBMIT_SM not in TRANSITIONS[esme, state]  # a receiver does not submit
    # A stray unbind_resp in a bound state answers nothing and changes nothing.
    assert next_state(smsc, state, CommandId.UNBIND_RESP) is State.BOUND_RX
    state = next_state(smsc, state, CommandId.UNBIND)
    assert state is State.UNBINDING
    assert next_state(smsc, state, CommandId.DELIVER_SM_RESP) is State.UNBINDING
    assert next_state(esme, state, CommandId.UNBIND_RESP) is State.CLOSED
