"""The FastAPI callback router and lifespan, through a real app and httpx.ASGITransport."""

from __future__ import annotations

import urllib.parse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI

from smscenter import CallConfirmation, DeliveryReport, IncomingMessage, MessageStatus
from smscenter.webhook import CallbackEvent, RecentEvents
from smscenter.webhook.fastapi import callback_router, smsc_dependency, smsc_lifespan

from ._provider import SECRET, as_json, as_xml, digest, form, signed

FORM = "application/x-www-form-urlencoded"
STATUS = {"id": "42", "phone": "79991234567", "status": "1", "ts": "1763800000", "cnt": "1"}
INCOMING = {"id": "7", "phone": "79991234567", "mes": "Привет", "to": "79030000000",
            "time": "1763800000"}  # fmt: skip


class Recorder:
    def __init__(self, fail_times: int = 0) -> None:
        self.events: list[CallbackEvent] = []
        self.calls = 0
        self.fail_times = fail_times

    async def __call__(self, event: CallbackEvent) -> None:
        self.calls += 1
        if self.calls <= self.fail_times:
            raise RuntimeError("database down")
        self.events.append(event)


def make_app(recorder: Recorder, **options: Any) -> FastAPI:
    app = FastAPI()
    options.setdefault("secret", SECRET)
    app.include_router(callback_router(on_event=recorder, **options))
    return app


@asynccontextmanager
async def client_for(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_signed_status_form_windows1251() -> None:
    recorder = Recorder()
    async with client_for(make_app(recorder)) as client:
        body = form(signed(dict(STATUS, cmt="Заказ"), "md5", encoding="cp1251"), "cp1251")
        response = await client.post("/smsc/callback", content=body, headers={"content-type": FORM})
    assert response.status_code == 200
    assert response.text == "OK"
    [event] = recorder.events
    assert isinstance(event, DeliveryReport)
    assert event.status is MessageStatus.DELIVERED and event.comment == "Заказ"


async def test_all_three_kinds_and_formats() -> None:
    recorder = Recorder()
    async with client_for(make_app(recorder)) as client:
        r1 = await client.post(
            "/smsc/callback",
            content=as_json(signed(INCOMING, "sha1")),
            headers={"content-type": "application/json"},
        )
        call = {"waitcall": "1", "phone": "79991234567", "ts": "1763800001"}
        r2 = await client.post(
            "/smsc/callback",
            content=as_xml(signed(call, "sha1")),
            headers={"content-type": "text/xml"},
        )
        r3 = await client.post(
            "/smsc/callback",
            content=form(signed(STATUS, "md5", encoding="koi8_r"), "koi8_r"),
            headers={"content-type": f"{FORM}; charset=koi8-r"},
        )
    assert [r.status_code for r in (r1, r2, r3)] == [200, 200, 200]
    kinds = [type(e) for e in recorder.events]
    assert kinds == [IncomingMessage, CallConfirmation, DeliveryReport]
    assert isinstance(recorder.events[0], IncomingMessage)
    assert recorder.events[0].text == "Привет"


async def test_duplicate_delivery_processed_once() -> None:
    recorder = Recorder()
    async with client_for(make_app(recorder)) as client:
        body = form(signed(STATUS), "cp1251")
        answers = [
            (await client.post("/smsc/callback", content=body, headers={"content-type": FORM}))
            for _ in range(3)
        ]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert len(recorder.events) == 1


async def test_dedupe_disabled_sees_every_delivery() -> None:
    recorder = Recorder()
    async with client_for(make_app(recorder, dedupe=False)) as client:
        body = form(signed(STATUS), "cp1251")
        for _ in range(2):
            await client.post("/smsc/callback", content=body, headers={"content-type": FORM})
    assert len(recorder.events) == 2


async def test_shared_dedupe_with_injected_clock() -> None:
    recorder = Recorder()
    now = [0.0]
    recent = RecentEvents(max_size=10, ttl=100)
    app = make_app(recorder, dedupe=recent, clock=lambda: now[0])
    async with client_for(app) as client:
        body = form(signed(STATUS), "cp1251")
        await client.post("/smsc/callback", content=body, headers={"content-type": FORM})
        now[0] = 150.0  # past the TTL: processed again
        await client.post("/smsc/callback", content=body, headers={"content-type": FORM})
    assert len(recorder.events) == 2
    assert len(recent) == 1


async def test_forged_and_unsigned_get_403() -> None:
    recorder = Recorder()
    async with client_for(make_app(recorder)) as client:
        forged = form(signed(STATUS, "md5", secret="guessed"), "cp1251")
        r1 = await client.post("/smsc/callback", content=forged, headers={"content-type": FORM})
        r2 = await client.post(
            "/smsc/callback", content=form(STATUS, "cp1251"), headers={"content-type": FORM}
        )
        tampered = signed(STATUS, "sha1")
        tampered["phone"] = "79990000000"
        r3 = await client.post(
            "/smsc/callback", content=form(tampered, "cp1251"), headers={"content-type": FORM}
        )
    assert [r.status_code for r in (r1, r2, r3)] == [403, 403, 403]
    assert recorder.events == []


async def test_malformed_gets_404_by_default_or_configured_code() -> None:
    recorder = Recorder()
    bad = form(signed({"phone": "79991234567", "status": "1"}), "cp1251")  # no id, signed
    async with client_for(make_app(recorder)) as client:
        r1 = await client.post("/smsc/callback", content=bad, headers={"content-type": FORM})
        r2 = await client.post(
            "/smsc/callback", content=b"hello", headers={"content-type": "text/plain"}
        )
    assert (r1.status_code, r2.status_code) == (404, 404)
    assert "'id'" in r1.text and "text/plain" in r2.text
    async with client_for(make_app(recorder, malformed_status=400)) as client:
        r3 = await client.post("/smsc/callback", content=bad, headers={"content-type": FORM})
    assert r3.status_code == 400
    assert recorder.events == []


async def test_handler_failure_gives_500_and_the_retry_is_processed() -> None:
    recorder = Recorder(fail_times=1)
    async with client_for(make_app(recorder)) as client:
        body = form(signed(STATUS), "cp1251")
        first = await client.post("/smsc/callback", content=body, headers={"content-type": FORM})
        retry = await client.post("/smsc/callback", content=body, headers={"content-type": FORM})
    assert (first.status_code, retry.status_code) == (500, 200)
    assert recorder.calls == 2 and len(recorder.events) == 1


async def test_background_mode_answers_then_handles() -> None:
    recorder = Recorder(fail_times=1)
    async with client_for(make_app(recorder, background=True)) as client:
        body = form(signed(STATUS), "cp1251")
        first = await client.post("/smsc/callback", content=body, headers={"content-type": FORM})
        again = await client.post("/smsc/callback", content=body, headers={"content-type": FORM})
    # Both answered 200; the failed background run forgot the key, so the second was handled.
    assert (first.status_code, again.status_code) == (200, 200)
    assert recorder.calls == 2 and len(recorder.events) == 1


async def test_get_parameters_after_bang_are_merged() -> None:
    recorder = Recorder()
    app = make_app(recorder, path="/hooks/smsc")
    async with client_for(app) as client:
        query = urllib.parse.urlencode({"md5": digest(STATUS, "md5"), "tenant": "7"})
        response = await client.post(
            f"/hooks/smsc?{query}", content=form(STATUS, "cp1251"), headers={"content-type": FORM}
        )
        only_get = await client.get(
            "/hooks/smsc?" + form(signed({"waitcall": "1", "phone": "7999123", "ts": "5"}), "utf-8")
            .decode()
        )  # fmt: skip
    assert response.status_code == 200, response.text
    assert only_get.status_code == 200, only_get.text
    assert isinstance(recorder.events[1], CallConfirmation)


async def test_unsigned_router_when_secret_is_none() -> None:
    recorder = Recorder()
    async with client_for(make_app(recorder, secret=None)) as client:
        response = await client.post(
            "/smsc/callback", content=form(STATUS, "cp1251"), headers={"content-type": FORM}
        )
    assert response.status_code == 200 and len(recorder.events) == 1


def test_invalid_secret_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="secret"):
        callback_router(secret="bad secret", on_event=Recorder())


# --- lifespan ---------------------------------------------------------------------------------


class FakeService:
    """A real (tiny) async context manager standing in for a client."""

    def __init__(self) -> None:
        self.history: list[str] = []

    async def __aenter__(self) -> FakeService:
        self.history.append("open")
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.history.append("close")

    async def send(self, to: str) -> str:
        assert self.history == ["open"]
        return f"sent to {to}"


async def test_lifespan_opens_and_closes_the_client() -> None:
    service = FakeService()
    app = FastAPI(lifespan=smsc_lifespan(lambda: service, state_name="sms"))

    @app.post("/send/{to}")
    async def send(to: str, client: Annotated[FakeService, Depends(smsc_dependency("sms"))]) -> str:
        return await client.send(to)

    async with app.router.lifespan_context(app):
        assert service.history == ["open"]
        assert app.state.sms is service
        async with client_for(app) as client:
            response = await client.post("/send/79991234567")
        assert response.json() == "sent to 79991234567"
    assert service.history == ["open", "close"]
    assert not hasattr(app.state, "sms")


async def test_dependency_without_lifespan_says_why() -> None:
    app = FastAPI()

    @app.get("/x")
    async def route(client: Annotated[object, Depends(smsc_dependency())]) -> str:
        return "unreachable"

    async with client_for(app) as client:
        with pytest.raises(RuntimeError, match="smsc_lifespan"):
            await client.get("/x")
