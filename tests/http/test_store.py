"""HTTPClient(..., store=SQLiteStore(...)) against the simulator: a send recorded before its
request and settled after it, the unknown-outcome path settled by HTTPClient.settle(), and
nothing sent twice on a second try."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from smscenter import (
    APIError,
    HTTPClient,
    Message,
    UnknownOutcomeError,
    ValidationError,
)
from smscenter.store import StoreError, TrackedState
from smscenter.store.sqlite import SQLiteStore
from smscenter.testing.simulator import SMSCSimulator

from .conftest import FAST_RETRY

PHONE = "79991234567"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    async with SQLiteStore(tmp_path / "messages.db") as opened:
        yield opened


def tracked_client(sim: SMSCSimulator, store: object) -> HTTPClient:
    return HTTPClient(
        sim.credentials,
        base_url=sim.base_url,
        retry=FAST_RETRY,
        store=store,  # type: ignore[arg-type]
    )


async def test_a_send_is_recorded_and_settled_and_not_sent_twice(
    sim: SMSCSimulator, store: SQLiteStore
) -> None:
    message = Message(to=PHONE, text="Order shipped", client_id="order-1")
    async with tracked_client(sim, store) as api:
        result = await api.send(message)
        record = await store.get("order-1")
        assert record.state is TrackedState.ACCEPTED
        assert record.message_id == result.message_id == str(sim.sent[0].id)
        again = await api.send(message)
    assert len(sim.sent) == 1  # accepted before: its ids, no second request
    assert again.message_id == result.message_id
    assert again.client_id == "order-1"


async def test_untrackable_messages_are_refused_before_any_request(
    sim: SMSCSimulator, store: SQLiteStore
) -> None:
    async with tracked_client(sim, store) as api:
        with pytest.raises(ValidationError, match="client_id"):
            await api.send(Message(to=PHONE, text="no id"))
        with pytest.raises(ValidationError, match="one recipient"):
            await api.send(Message(to=(PHONE, "79991234568"), text="two", client_id=5))
        with pytest.raises(ValidationError, match="send_list"):
            await api.send_list([Message(to=PHONE, text="a", client_id=6)])
    assert sim.sent == []
    assert await store.counts() == {}


async def test_a_refusal_of_the_account_is_failed_and_sent_again_after_a_top_up(
    sim: SMSCSimulator, store: SQLiteStore
) -> None:
    # "No money" refuses the account, not the message: nothing went out, so a resume sends it.
    sim.set_balance(None, 0)
    message = Message(to=PHONE, text="no money", client_id=9)
    async with tracked_client(sim, store) as api:
        with pytest.raises(APIError) as first:
            await api.send(message)
        record = await store.get(9)
        assert record.state is TrackedState.FAILED
        assert record.error_code == first.value.code
        assert sim.requests.get("send", 0) == 1
        sim.set_balance(None, 100)
        result = await api.send(message)
        assert sim.requests.get("send", 0) == 2
        record = await store.get(9)
        assert record.state is TrackedState.ACCEPTED
        assert record.message_id == result.message_id
        assert record.attempts == 2


async def test_an_unknown_send_is_settled_by_settle(sim: SMSCSimulator, store: SQLiteStore) -> None:
    # The provider stores the first attempt; every answer is lost on the way back.
    sim.behaviour.lose_answers = FAST_RETRY.attempts
    sim.behaviour.fault_endpoint = "send"
    message = Message(to=PHONE, text="answers lost", client_id="u1")
    async with tracked_client(sim, store) as api:
        with pytest.raises(UnknownOutcomeError) as info:
            await api.send(message)
        assert (await store.get("u1")).state is TrackedState.UNKNOWN
        # Not sent again while unknown...
        with pytest.raises(UnknownOutcomeError, match="resend_unknown"):
            await api.send(message)
        assert len(sim.sent) == 1
        # ... until the provider tells.
        result = await api.settle(info.value)
        assert result is not None
        record = await store.get("u1")
        assert record.state is TrackedState.ACCEPTED
        assert record.message_id == result.message_id == str(sim.sent[0].id)
        assert (await api.send(message)).message_id == result.message_id
    assert len(sim.sent) == 1


async def test_an_unknown_send_that_never_went_out_can_be_sent_again(
    sim: SMSCSimulator, store: SQLiteStore
) -> None:
    sim.behaviour.drop_connections = FAST_RETRY.attempts
    sim.behaviour.fault_endpoint = "send"
    message = Message(to=PHONE, text="never handled", client_id="u2")
    async with tracked_client(sim, store) as api:
        with pytest.raises(UnknownOutcomeError) as info:
            await api.send(message)
        assert await api.settle(info.value) is None
        assert (await store.get("u2")).state is TrackedState.FAILED
        result = await api.send(message)
    assert len(sim.sent) == 1
    record = await store.get("u2")
    assert record.state is TrackedState.ACCEPTED and record.message_id == result.message_id
    assert record.attempts == 2


async def test_resend_unknown_sends_an_unknown_one_again(
    sim: SMSCSimulator, store: SQLiteStore
) -> None:
    sim.behaviour.drop_connections = FAST_RETRY.attempts
    sim.behaviour.fault_endpoint = "send"
    message = Message(to=PHONE, text="again", client_id="u3")
    async with tracked_client(sim, store) as api:
        with pytest.raises(UnknownOutcomeError):
            await api.send(message)
        result = await api.send(message, resend_unknown=True)
    assert len(sim.sent) == 1
    assert (await store.get("u3")).message_id == result.message_id


class FailingStore:
    """Forwards to a real store, except prepare(), which fails (a full disk)."""

    def __init__(self, inner: SQLiteStore) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    async def prepare(self, *args: object, **kwargs: object) -> object:
        raise StoreError("the disk is full (test)")


async def test_a_store_that_cannot_record_stops_the_send(
    sim: SMSCSimulator, store: SQLiteStore
) -> None:
    async with tracked_client(sim, FailingStore(store)) as api:
        with pytest.raises(StoreError):
            await api.send(Message(to=PHONE, text="x", client_id=1))
    assert sim.requests.get("send", 0) == 0


async def test_a_send_cancelled_in_flight_is_left_unknown(
    sim: SMSCSimulator, store: SQLiteStore
) -> None:
    sim.behaviour.latency = 5.0  # the provider sits on the request
    async with tracked_client(sim, store) as api:
        with anyio.move_on_after(0.3):
            await api.send(Message(to=PHONE, text="slow", client_id="c1"))
    record = await store.get("c1")
    assert record.state is TrackedState.UNKNOWN  # it may have gone out: not safe to resend
