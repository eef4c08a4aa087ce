"""A FastAPI app that sends SMS through :class:`~smscenter.http.HTTPClient` and receives the
provider's callbacks (delivery statuses, incoming SMS, call confirmations).

Run it (needs the ``fastapi`` extra and uvicorn)::

    export SMSC_LOGIN=acme SMSC_PASSWORD=... SMSC_CALLBACK_SECRET=my-secret_1
    uvicorn --factory examples.fastapi_app:app_from_env

and set the handler URL in the account settings ("User settings") to::

    https://your.host/smsc/callback?md5=my-secret_1&charset=utf-8

The provider replaces ``my-secret_1`` by the md5 of ``id:phone:status:my-secret_1`` (for a
status) and POSTs the fields; the router verifies, parses, drops re-deliveries and calls
``on_event``. Then::

    curl -X POST localhost:8000/messages -H 'content-type: application/json' \\
         -d '{"to": "+79991234567", "text": "Hello"}'
    curl localhost:8000/messages/<id>      # the latest status the callback reported
    curl localhost:8000/inbox              # incoming SMS

State is kept in memory to stay short; a real app writes events to its database (keyed by
``event.event_key`` to stay idempotent across workers).
"""

from __future__ import annotations

import logging
import os
from typing import Annotated

import attrs
import httpx
from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel

from smscenter import (
    CallConfirmation,
    Credentials,
    DeliveryReport,
    IncomingMessage,
    Message,
)
from smscenter.http import HTTPClient
from smscenter.webhook import CallbackEvent
from smscenter.webhook.fastapi import callback_router, smsc_dependency, smsc_lifespan

logger = logging.getLogger(__name__)


#: The client the lifespan opened, as a route parameter.
ClientDep = Annotated[HTTPClient, Depends(smsc_dependency())]


class SendIn(BaseModel):
    to: str
    text: str


class SendOut(BaseModel):
    message_id: str
    parts: int
    cost: str | None


class StatusOut(BaseModel):
    message_id: str
    status: str
    delivered: bool
    final: bool
    error: str


class IncomingOut(BaseModel):
    phone: str
    text: str
    to: str | None


@attrs.define
class Store:
    """What the callbacks told us, in memory."""

    reports: dict[str, DeliveryReport] = attrs.field(factory=dict)
    inbox: list[IncomingMessage] = attrs.field(factory=list)
    confirmed_phones: set[str] = attrs.field(factory=set)

    async def on_event(self, event: CallbackEvent) -> None:
        # Keep this quick: the provider waits for the answer, and retries when it is slow.
        match event:
            case DeliveryReport():
                self.reports[event.message_id] = event
            case IncomingMessage():
                self.inbox.append(event)
            case CallConfirmation():
                self.confirmed_phones.add(event.phone)


def create_app(
    credentials: Credentials,
    *,
    callback_secret: str | None,
    base_url: str = "https://smsc.ru",
    transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """Build the app. ``transport`` lets tests point the client at a fake provider."""
    store = Store()
    app = FastAPI(
        title="smscenter example",
        lifespan=smsc_lifespan(
            lambda: HTTPClient(credentials, base_url=base_url, transport=transport)
        ),
    )
    app.state.store = store
    app.include_router(
        callback_router("/smsc/callback", secret=callback_secret, on_event=store.on_event)
    )

    @app.post("/messages")
    async def send(body: SendIn, client: ClientDep) -> SendOut:
        try:
            message = Message(to=body.to, text=body.text)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc
        result = await client.send(message)
        return SendOut(
            message_id=result.message_id,
            parts=result.parts,
            cost=None if result.cost is None else str(result.cost),
        )

    @app.get("/messages/{message_id}")
    async def status(message_id: str) -> StatusOut:
        report = store.reports.get(message_id)
        if report is None:
            raise HTTPException(404, "no status reported yet")
        return StatusOut(
            message_id=report.message_id,
            status=report.status.value,
            delivered=report.status.is_delivered,
            final=report.is_final,
            error=report.error.name,
        )

    @app.get("/inbox")
    async def inbox() -> list[IncomingOut]:
        return [IncomingOut(phone=m.phone, text=m.text, to=m.to) for m in store.inbox]

    return app


def app_from_env() -> FastAPI:
    """The app configured from ``SMSC_LOGIN``, ``SMSC_PASSWORD``, ``SMSC_CALLBACK_SECRET`` and
    optionally ``SMSC_BASE_URL`` (for ``uvicorn --factory``)."""
    credentials = Credentials(os.environ["SMSC_LOGIN"], os.environ["SMSC_PASSWORD"])
    return create_app(
        credentials,
        callback_secret=os.environ["SMSC_CALLBACK_SECRET"],
        base_url=os.environ.get("SMSC_BASE_URL", "https://smsc.ru"),
    )
