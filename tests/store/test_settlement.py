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
