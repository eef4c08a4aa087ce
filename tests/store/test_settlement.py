"""Settlement.failed decides the state of a send that ended without ids, once, for every
transport: what may have gone out is unknown, what the provider refused for the account (not
the message) is safe to send again, a refusal of the message itself is final."""

from __future__ import annotations

import pytest

from smscenter import exceptions as exc
from smscenter.store import Settlement, TrackedState


@pytest.mark.parametrize(
    ("error", "state"),
    [
        (exc.UnknownOutcomeError("written, never answered"), TrackedState.UNKNOWN),
        (exc.DuplicateRequestError(9), TrackedState.UNKNOWN),
        (exc.InsufficientFundsError(3), TrackedState.FAILED),
        (exc.AuthenticationError(2), TrackedState.FAILED),
        (exc.IPBlockedError(4), TrackedState.FAILED),
        (exc.ThrottledError(0x58), TrackedState.FAILED),
        (exc.PoolTimeout("no bind took it"), TrackedState.FAILED),
        (exc.ConnectionLost("dropped before writing"), TrackedState.FAILED),
        (exc.ValidationError("bad text"), TrackedState.FAILED),
        (exc.InvalidRecipientError(7), TrackedState.REFUSED),
        (exc.MessageForbiddenError(6), TrackedState.REFUSED),
        (exc.SMPPStatusError(0x45), TrackedState.REFUSED),
    ],
)
def test_failed_states(error: BaseException, state: TrackedState) -> None:
    settlement = Settlement.failed(42, error)
    assert settlement.state is state
    assert settlement.client_id == "42"
    assert settlement.error is not None and type(error).__name__ in settlement.error
    assert settlement.error_code == getattr(error, "code", None)


def test_only_what_nothing_reached_may_be_sent_again() -> None:
    may = {s for s in TrackedState if s.may_send}
    assert may == {TrackedState.QUEUED, TrackedState.FAILED}
    assert Settlement.failed(1, exc.InsufficientFundsError(3)).state.may_send
    assert not Settlement.failed(1, exc.InvalidRecipientError(7)).state.may_send


def test_the_fast_makers_build_what_the_constructors_build() -> None:
    """The pool's positional makers (one PlannedSend and one Settlement per message) give
    values equal to, and of the class of, the keyword constructors'."""
    from decimal import Decimal

    from smscenter import SendResult, Transport
    from smscenter.store import PlannedSend
    from smscenter.store._model import make_planned, make_settlement

    planned = make_planned("m1", "79990000001", Transport.SMPP)
    assert type(planned) is PlannedSend
    assert planned == PlannedSend(client_id="m1", recipient="79990000001", transport=Transport.SMPP)
    result = SendResult(message_id="42", parts=2, part_ids=("42", "43"), cost=Decimal("1.5"))
    accepted = Settlement.accepted(7, result)  # an int client id: the store's text key
    assert type(accepted) is Settlement
    assert accepted == Settlement(
        client_id="7",
        state=TrackedState.ACCEPTED,
        message_id="42",
        part_ids=("42", "43"),
        parts=2,
        cost=Decimal("1.5"),
    )
    assert make_settlement("7", TrackedState.ACCEPTED, "42", ("42", "43"), 2, Decimal("1.5")) == (
        accepted
    )

    class Mine(Settlement):  # a subclass still gets its own class
        pass

    assert type(Mine.accepted("7", result)) is Mine
