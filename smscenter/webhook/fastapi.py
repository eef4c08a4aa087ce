"""FastAPI integration: a callback router and a lifespan that owns a client (``fastapi`` extra).

::

    from fastapi import FastAPI
    from smscenter.webhook.fastapi import callback_router, smsc_lifespan

    async def on_event(event: CallbackEvent) -> None:
        ...  # store it, enqueue it; keep it quick

    app = FastAPI(lifespan=smsc_lifespan(lambda: HTTPClient(credentials)))
    app.include_router(callback_router(secret="s3cret", on_event=on_event))

Answer codes, chosen around the provider's retry rule (smscentre.com/api/http: anything but 200 or
404 is retried every 4 minutes, up to 50 times):

* **200** the event was handled, or it is a duplicate of one already handled.
* **403** the control value is missing or wrong. A forged request does not come from the
  provider, so its retry rule does not apply; a genuine callback failing the check means the
  secret is misconfigured, and the provider's bounded retries give about 3 hours to fix the
  configuration without losing events.
* **413** the body is over ``max_body`` (1 MiB by default; a callback is a few hundred bytes).
  It is read as it streams in and the reading stops at the cap, so a huge POST costs no memory.
* **404** (configurable) the payload is malformed. Re-sending the identical bytes cannot
  succeed, and 404 is the one error answer that stops the provider's retries. The reason is
  logged at WARNING.
* **500** ``on_event`` raised: a transient failure, so the provider's retry is wanted; the event
  is not recorded as seen.
* **503** (with ``store=``) the store could not record a status callback; the provider retries
  it (every 4 minutes, up to 50 times), and the store ignores a repeat it already holds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import tzinfo
from typing import Any, TypeVar

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.background import BackgroundTask

from smscenter.exceptions import MalformedCallback, SignatureMismatch, ValidationError
from smscenter.models import DeliveryReport
from smscenter.store._protocol import MessageStore
from smscenter.webhook._signature import _check_secret
from smscenter.webhook.dedupe import RecentEvents, callback_key
from smscenter.webhook.parse import (
    DEFAULT_ALGORITHMS,
    MOSCOW,
    CallbackEvent,
    SignatureAlgorithm,
    parse_callback,
)

__all__ = ("EventHandler", "callback_router", "smsc_dependency", "smsc_lifespan")

logger = logging.getLogger(__name__)

T = TypeVar("T")
#: The application's callback: receives each new event.
EventHandler = Callable[[CallbackEvent], Awaitable[object]]


def callback_router(
    path: str = "/smsc/callback",
    *,
    secret: str | None,
    on_event: EventHandler | None = None,
    store: MessageStore | None = None,
    dedupe: bool | RecentEvents = True,
    algorithms: Collection[SignatureAlgorithm] = DEFAULT_ALGORITHMS,
    account_tz: tzinfo = MOSCOW,
    methods: Sequence[str] = ("POST", "GET"),
    malformed_status: int = 404,
    background: bool = False,
    clock: Callable[[], float] = time.monotonic,
    max_body: int = 1 << 20,
) -> APIRouter:
    """A router with one route that verifies, parses and hands each callback to ``on_event``.

    :param path: the route's path (the handler URL set in the provider's account settings).
    :param secret: the secret string of the handler URL's ``md5=``/``sha1=``/``crc32=`` option.
        Required; pass ``None`` explicitly to accept unsigned callbacks.
    :param on_event: an async callable given each new
        :class:`~smscenter.models.DeliveryReport`, :class:`~smscenter.models.IncomingMessage` or
        :class:`~smscenter.models.CallConfirmation`. If it raises, the answer is 500 and the
        provider will retry. Required unless ``store`` is given.
    :param store: a :class:`~smscenter.store.MessageStore` (opened by you, e.g. in the app's
        lifespan) that each status callback's :class:`~smscenter.models.DeliveryReport` is
        recorded in before the 200 (and before ``on_event``). If the store fails, the answer
        is 503 and the provider retries; the store ignores repeats.
    :param dedupe: ``True`` drops re-deliveries with an in-memory :class:`RecentEvents`; pass
        your own instance to size it or share it, or ``False`` to see every delivery. Keys are
        :func:`~smscenter.webhook.callback_key` (signed fields only).
    :param algorithms: accepted control-value algorithms: sha1 and md5 by default; name
        ``"crc32"`` (e.g. ``ALGORITHMS``) to accept that weak one (see
        :func:`~smscenter.webhook.verify_signature`).
    :param account_tz: the account's time zone (for ``time`` strings without ``ts``).
    :param methods: HTTP methods to accept (the provider POSTs; a GET carries only the URL's
        ``!`` parameters).
    :param malformed_status: the answer to a malformed payload; 404 stops the provider's
        retries, 400 lets it retry up to 50 times.
    :param background: answer 200 before running ``on_event`` (Starlette background task). The
        provider then never retries a failure, so the handler must not lose events itself.
    :param clock: monotonic seconds for the dedupe memory (inject in tests).
    :param max_body: the largest body read, in bytes; a larger one is answered 413 as soon as
        its declared length or the bytes streamed so far pass it.
    :raises ValueError: an invalid ``secret`` or ``max_body``, or neither ``on_event`` nor
        ``store``.
    """
    if on_event is None and store is None:
        raise ValidationError("callback_router needs on_event=, store=, or both")
    if isinstance(max_body, bool) or not isinstance(max_body, int) or max_body < 1:
        raise ValidationError(f"max_body must be a positive int, got {max_body!r}")
    if secret is not None:
        _check_secret(secret)  # fail at start-up, not on the first callback
    recent: RecentEvents | None
    if isinstance(dedupe, RecentEvents):
        recent = dedupe
    else:
        recent = RecentEvents() if dedupe else None
    router = APIRouter()

    async def run_in_background(event: CallbackEvent) -> None:
        assert on_event is not None
        try:
            await on_event(event)
        except Exception:
            if recent is not None:
                recent.forget(callback_key(event))
            logger.exception("webhook.handler_failed key=%s (background)", callback_key(event))

    async def smsc_callback(request: Request) -> Response:
        body = await _read_capped(request, max_body)
        if body is None:
            logger.warning("webhook.rejected body over %d bytes", max_body)
            return PlainTextResponse("callback body too large", status_code=413)
        try:
            event = parse_callback(
                body,
                content_type=request.headers.get("content-type", ""),
                secret=secret,
                query=request.scope.get("query_string", b""),
                algorithms=algorithms,
                account_tz=account_tz,
            )
        except SignatureMismatch as exc:
            client = request.client.host if request.client else "?"
            logger.warning("webhook.rejected signature from %s: %s", client, exc)
            return PlainTextResponse("signature mismatch", status_code=403)
        except MalformedCallback as exc:
            logger.warning("webhook.rejected malformed: %s", exc)
            return PlainTextResponse(f"malformed callback: {exc}", status_code=malformed_status)
        key = callback_key(event)
        if recent is not None and recent.seen(key, now=clock()):
            logger.debug("webhook.duplicate key=%s", key)
            return PlainTextResponse("OK")
        if store is not None and isinstance(event, DeliveryReport):
            try:
                await store.record(event)
            except Exception as exc:  # a StoreError, or the backend's own failure
                if recent is not None:
                    recent.forget(key)
                logger.error("webhook.store_failed key=%s (answered 503): %s", key, exc)
                return PlainTextResponse("store unavailable", status_code=503)
        if on_event is None:
            return PlainTextResponse("OK")
        if background:
            return PlainTextResponse("OK", background=BackgroundTask(run_in_background, event))
        try:
            await on_event(event)
        except Exception:
            if recent is not None:
                recent.forget(key)
            logger.exception("webhook.handler_failed key=%s", key)
            return PlainTextResponse("handler failed", status_code=500)
        return PlainTextResponse("OK")

    for method in dict.fromkeys(m.upper() for m in methods):
        # One route per method, each with its own operation id: a route with several methods
        # shares one id between them, and FastAPI warns "Duplicate Operation ID" on
        # /openapi.json (OpenAPI 3.1 §4.8.10: operationId is unique among all operations).
        router.add_api_route(
            path,
            smsc_callback,
            methods=[method],
            response_class=PlainTextResponse,
            summary="SMS Center callback (statuses, incoming SMS, call confirmations)",
            name="smsc_callback",
            operation_id=f"smsc_callback_{method.lower()}",
        )
    return router


async def _read_capped(request: Request, cap: int) -> bytes | None:
    """The body, or ``None`` once it is known to be over ``cap`` bytes: by its declared length
    before anything is read, else as the chunks arrive (a chunked body declares none), so at
    most ``cap`` bytes plus one chunk are ever held."""
    declared = request.headers.get("content-length", "")
    if declared.isdecimal() and declared.isascii() and (len(declared) > 18 or int(declared) > cap):
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def smsc_lifespan(
    factory: Callable[[], AbstractAsyncContextManager[T]],
    *,
    state_name: str = "smsc",
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """A FastAPI ``lifespan`` that opens a client at start-up and closes it at shutdown.

    The client is stored as ``app.state.<state_name>``; read it in routes with
    :func:`smsc_dependency`. Works with any async context manager factory: an
    :class:`~smscenter.HTTPClient`, an SMPP pool, or several combined with
    :class:`contextlib.AsyncExitStack` in your own factory.

    :param factory: called once at start-up; its result is entered with ``async with``.
    :param state_name: the attribute name on ``app.state``.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with factory() as client:
            setattr(app.state, state_name, client)
            logger.info("lifespan: %s opened", state_name)
            try:
                yield
            finally:
                delattr(app.state, state_name)
                logger.info("lifespan: closing %s", state_name)

    return lifespan


def smsc_dependency(state_name: str = "smsc") -> Callable[[Request], Any]:
    """A FastAPI dependency returning the client :func:`smsc_lifespan` opened.

    ``client: HTTPClient = Depends(smsc_dependency())``

    :raises RuntimeError: (at request time) the lifespan is not running.
    """

    def dependency(request: Request) -> Any:
        try:
            return getattr(request.app.state, state_name)
        except AttributeError:
            raise RuntimeError(
                f"no {state_name!r} on app.state: is smsc_lifespan() the app's lifespan?"
            ) from None

    return dependency
