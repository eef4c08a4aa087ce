"""The FastAPI callback router with ``store=``: a status callback is recorded in a real
SQLiteStore before its 200; a store failure answers 503 so the provider retries; end to end
with a send through HTTPClient(store=) on the simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from smscenter import HTTPClient, Message, RetryPolicy, ValidationError
from smscenter.models import DeliveryReport
from smscenter.store import StoreError, TrackedState
from smscenter.store.sqlite import SQLiteStore
from smscenter.testing.simulator import SMSCSimulator
from smscenter.webhook import CallbackEvent
from smscenter.webhook.fastapi import callback_router

from ._provider import SECRET, form, signed

FORM = "application/x-www-form-urlencoded"
PHONE = "79991234567"


@pytest.fixture
async def sim() -> AsyncIterator[SMSCSimulator]:
    async with SMSCSimulator() as simulator:
        yield simulator


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    async with SQLiteStore(tmp_path / "messages.db") as opened:
        yield opened


class Flaky:
    """Forwards to a real store; record() fails the first ``failures`` times."""

    def __init__(self, inner: SQLiteStore, failures: int) -> None:
        self.inner = inner
        self.failures = failures

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def record(self, *reports: DeliveryReport) -> None:
        if self.failures:
            self.failures -= 1
            raise StoreError("database is locked (test)")
        await self.inner.record(*reports)


@asynccontextmanager
async def client_for(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def app_with(**options: Any) -> FastAPI:
    app = FastAPI()
    app.include_router(callback_router(secret=SECRET, **options))
    return app


def status_body(message_id: str, status: str = "1") -> bytes:
    fields = {"id": message_id, "phone": PHONE, "status": status, "ts": "1763800000", "cnt": "1"}
    return form(signed(fields, "md5"), "utf-8")


async def sent_and_tracked(sim: SMSCSimulator, store: SQLiteStore, client_id: str) -> str:
    async with HTTPClient(
        sim.credentials,
        base_url=sim.base_url,
        retry=RetryPolicy(attempts=1),
        store=store,  # type: ignore[arg-type]
    ) as api:
        result = await api.send(Message(to=PHONE, text="Order shipped", client_id=client_id))
    assert result.message_id is not None
    return result.message_id


async def test_a_status_callback_is_recorded_before_its_200(
    sim: SMSCSimulator, store: SQLiteStore
) -> None:
    message_id = await sent_and_tracked(sim, store, "c1")
    seen: list[TrackedState] = []

    async def on_event(event: CallbackEvent) -> None:
        # The store has it by the time the application hears of it.
        seen.append((await store.get("c1")).state)

    async with client_for(app_with(store=store, on_event=on_event)) as client:
        response = await client.post(
            "/smsc/callback", content=status_body(message_id), headers={"content-type": FORM}
        )
        assert response.status_code == 200
        record = await store.get("c1")
        assert record.state is TrackedState.DELIVERED
        assert seen == [TrackedState.DELIVERED]
        # The provider repeats it (an answer it did not get): one history entry.
        again = await client.post(
            "/smsc/callback", content=status_body(message_id), headers={"content-type": FORM}
        )
        assert again.status_code == 200
    assert len((await store.get("c1")).reports) == 1


async def test_a_store_failure_answers_503_and_the_retry_lands(
    sim: SMSCSimulator, store: SQLiteStore
) -> None:
    message_id = await sent_and_tracked(sim, store, "c2")
    flaky = Flaky(store, failures=1)
    async with client_for(app_with(store=flaky)) as client:
        first = await client.post(
            "/smsc/callback", content=status_body(message_id), headers={"content-type": FORM}
        )
        assert first.status_code == 503  # the provider retries (anything but 200/404)
        assert (await store.get("c2")).state is TrackedState.ACCEPTED
        # The retry is not dropped as a duplicate: it was not handled the first time.
        retry = await client.post(
            "/smsc/callback", content=status_body(message_id), headers={"content-type": FORM}
        )
        assert retry.status_code == 200
    assert (await store.get("c2")).state is TrackedState.DELIVERED


async def test_a_callback_for_a_send_not_settled_yet_is_kept(store: SQLiteStore) -> None:
    async with client_for(app_with(store=store)) as client:
        response = await client.post(
            "/smsc/callback", content=status_body("777"), headers={"content-type": FORM}
        )
    assert response.status_code == 200  # kept by the store, matched when 777 is settled
    assert await store.find("777") is None


def test_a_router_needs_a_store_or_a_handler() -> None:
    with pytest.raises(ValidationError, match="on_event"):
        callback_router(secret=SECRET)


async def test_background_handlers_still_see_the_report_recorded_first(
    sim: SMSCSimulator, store: SQLiteStore
) -> None:
    message_id = await sent_and_tracked(sim, store, "c3")
    seen: list[TrackedState] = []

    async def on_event(event: CallbackEvent) -> None:
        seen.append((await store.get("c3")).state)

    async with client_for(app_with(store=store, on_event=on_event, background=True)) as client:
        response = await client.post(
            "/smsc/callback", content=status_body(message_id), headers={"content-type": FORM}
        )
    assert response.status_code == 200
    # Recorded before the 200, even though the handler runs after it.
    assert (await store.get("c3")).state is TrackedState.DELIVERED
    assert seen == [TrackedState.DELIVERED]
