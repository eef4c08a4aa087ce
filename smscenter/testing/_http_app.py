"""The simulator's HTTP half: an ASGI app (starlette) serving the provider's ``/sys/*.php``.

It decodes requests the way the provider does (GET query or POST form / multipart, any mix;
``charset`` declares the encoding of the text parameters and of the answer, windows-1251 by
default), applies the provider's gates (concurrency, authentication, forced faults), calls
:class:`~smscenter.testing._state.SimulatorState` and writes the documented answers: ``fmt=3``
JSON everywhere, and the plain ``fmt=0``/``fmt=1`` forms for send, status and balance (what the
official libraries use). Errors use the envelopes of smscentre.com/api/http for every ``fmt``.

This module holds the app (decoding, gates, answers) and the table of handlers; the handlers
live by script: :mod:`~smscenter.testing._http_send` (send.php, status.php),
:mod:`~smscenter.testing._http_get` (balance.php, get.php, info.php),
:mod:`~smscenter.testing._http_services` (receive_phones, wait_call, downloads, jobs) and
:mod:`~smscenter.testing._http_phones` (phones.php) and :mod:`~smscenter.testing._http_calls`
(senders, templates, users and the rest).
"""

from __future__ import annotations

import json
import logging
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any
from urllib.parse import unquote_to_bytes

import anyio
import attrs
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smscenter.testing import _state as st
from smscenter.testing._http_base import _Answer, _Params
from smscenter.testing._http_calls import (
    CAPTCHA_IMAGE,
    handle_get_mnp,
    handle_ping,
    handle_senders,
    handle_templates,
    handle_tinyurls,
    handle_users,
)
from smscenter.testing._http_get import handle_balance, handle_get, handle_info
from smscenter.testing._http_phones import handle_phones
from smscenter.testing._http_send import handle_send, handle_status
from smscenter.testing._http_services import (
    handle_downloads,
    handle_jobs,
    handle_receive_phones,
    handle_wait_call,
)
from smscenter.testing._state import SimError, SimulatorState

__all__ = ("RequestRecord", "RequestStats", "SimulatorApp")

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_CHARSETS = {"utf-8": "utf-8", "utf8": "utf-8", "windows-1251": "cp1251", "koi8-r": "koi8_r"}
_SECRET_KEYS = frozenset({"psw", "apikey", "pswc"})  # pswc: a sub-client's password


@attrs.frozen(kw_only=True)
class RequestRecord:
    """One request as the simulator received it (for assertions in tests).

    :ivar endpoint: the script name without ``.php`` (``"send"``, ``"status"``, ...).
    :ivar query: parameters that came in the URL query string.
    :ivar form: parameters that came in the body (form or multipart).
    :ivar files: names of the uploaded files (multipart).
    :ivar login: the login the request authenticated as (``None`` when it did not).
    """

    endpoint: str
    method: str
    query: Mapping[str, str]
    form: Mapping[str, str]
    files: tuple[str, ...] = ()
    login: str | None = None
    at: float = 0.0

    @property
    def params(self) -> dict[str, str]:
        """Query and body parameters merged (body wins, as with the provider's PHP)."""
        return {**self.query, **self.form}

    def __repr__(self) -> str:
        def scrub(d: Mapping[str, str]) -> dict[str, str]:
            return {k: ("***" if k in _SECRET_KEYS else v) for k, v in d.items()}

        return (
            f"RequestRecord(endpoint={self.endpoint!r}, method={self.method!r}, "
            f"query={scrub(self.query)!r}, form={scrub(self.form)!r}, login={self.login!r})"
        )


@attrs.define
class RequestStats:
    """Counters a test can assert on.

    :ivar requests: requests per endpoint (``"send"``, ``"status"``, ...), faults included.
    :ivar in_flight: requests of each login being handled right now.
    :ivar max_in_flight: the most requests of each login ever in flight at once.
    :ivar refused_concurrency: requests of each login refused for too many at once (error 9).
    :ivar records: the last requests received (bounded to ``max_records``), oldest first.
    """

    requests: Counter[str] = attrs.field(factory=Counter)
    in_flight: Counter[str] = attrs.field(factory=Counter)
    max_in_flight: Counter[str] = attrs.field(factory=Counter)
    refused_concurrency: Counter[str] = attrs.field(factory=Counter)
    max_records: int = 10_000
    records: deque[RequestRecord] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.records = deque(maxlen=self.max_records)

    def reset(self) -> None:
        """Forget every counter and record (in-flight counts stay, they are live)."""
        self.requests.clear()
        self.max_in_flight.clear()
        self.refused_concurrency.clear()
        self.records.clear()

    def for_endpoint(self, endpoint: str) -> list[RequestRecord]:
        """The recorded requests of one endpoint."""
        return [r for r in self.records if r.endpoint == endpoint]


def _parse_qs_bytes(data: bytes) -> list[tuple[bytes, bytes]]:
    """Split a urlencoded string into raw byte pairs; decoding waits until ``charset`` is known."""
    pairs: list[tuple[bytes, bytes]] = []
    for chunk in data.split(b"&"):
        if not chunk:
            continue
        key, _, value = chunk.partition(b"=")
        pairs.append(
            (unquote_to_bytes(key.replace(b"+", b" ")), unquote_to_bytes(value.replace(b"+", b" ")))
        )
    return pairs


Handler = Callable[["SimulatorApp", st.Account, _Params], _Answer]


class SimulatorApp:
    """The ASGI application. Mount it under any ASGI server; the simulator runs it in uvicorn.

    :param state: the shared simulator state.
    :param stats: where to count requests (a fresh :class:`RequestStats` by default).
    """

    def __init__(self, state: SimulatorState, stats: RequestStats | None = None) -> None:
        self.state = state
        self.stats = stats if stats is not None else RequestStats()
        self._starlette = Starlette(
            routes=[
                Route("/sys/{name}.php", self._endpoint, methods=["GET", "POST"]),
                # The JSON variant: POST /rest/send/ with a JSON object of send.php parameters.
                Route("/rest/{name}/", self._endpoint, methods=["POST"]),
            ]
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope.get("path", "")
            if path.startswith("/sys/") and path.endswith(".php"):
                behaviour = self.state.behaviour
                endpoint = path[5:-4]
                if behaviour.drop_connections > 0 and behaviour.fault_applies(endpoint):
                    behaviour.drop_connections -= 1
                    self.stats.requests[endpoint] += 1
                    await self._drop(send)
                    return

                async def send_or_lose(message: Message) -> None:
                    # The handler marks the scope when the answer is to be lost after handling.
                    if scope.get("smsc.lose_answer"):
                        if message["type"] == "http.response.start":
                            await self._drop(send)
                        return
                    await send(message)

                await self._starlette(scope, receive, send_or_lose)
                return
        await self._starlette(scope, receive, send)

    async def _drop(self, send: Send) -> None:
        # Cut the TCP connection without an answer, as a crashed front end would. uvicorn's
        # `send` is a bound method of its request cycle, which holds the transport.
        cycle = getattr(send, "__self__", None)
        transport = getattr(cycle, "transport", None)
        if transport is not None:
            transport.abort()
            with anyio.move_on_after(1):
                while not getattr(cycle, "disconnected", True):  # noqa: ASYNC110 (no event to wait on)
                    await anyio.sleep(0.001)
            if getattr(cycle, "disconnected", False):
                return
        # Another server: the nearest thing is an answer without a body.
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    # ---- request decoding --------------------------------------------------------------

    async def _read_params(
        self, request: Request
    ) -> tuple[dict[str, str], dict[str, str], tuple[str, ...], str, dict[str, bytes]]:
        query_string: bytes = request.scope.get("query_string", b"")
        raw_query = _parse_qs_bytes(query_string)
        raw_form: list[tuple[bytes, bytes]] = []
        form_text: dict[str, str] = {}
        files: list[str] = []
        if request.method == "POST":
            ctype = request.headers.get("content-type", "")
            if ctype.startswith("application/json"):
                try:
                    decoded = json.loads(await request.body())
                except ValueError:
                    decoded = None
                if isinstance(decoded, dict):
                    for field, item in decoded.items():
                        if isinstance(item, bool):
                            form_text[str(field)] = "1" if item else "0"
                        elif item is not None:
                            form_text[str(field)] = str(item)
                if "charset" not in form_text:
                    form_text["charset"] = "utf-8"  # JSON is UTF-8 by definition
            elif ctype.startswith("multipart/form-data"):
                async with request.form(max_files=100, max_fields=10_000) as multipart:
                    for field, item in multipart.multi_items():
                        if isinstance(item, UploadFile):
                            files.append(item.filename or field)
                        else:
                            form_text[field] = item
            else:
                body = await request.body()
                raw_form = _parse_qs_bytes(body)
        charset_name = "windows-1251"
        for pairs in (raw_query, raw_form):
            for key, value in pairs:
                if key == b"charset":
                    charset_name = value.decode("latin-1").lower()
        if "charset" in form_text:
            charset_name = form_text["charset"].lower()
        codec = _CHARSETS.get(charset_name, "cp1251")

        def decode(pairs: list[tuple[bytes, bytes]]) -> dict[str, str]:
            return {k.decode(codec, "replace"): v.decode(codec, "replace") for k, v in pairs}

        body_params = decode(raw_form)
        body_params.update(form_text)
        raw = {k.decode("latin-1"): v for pairs in (raw_query, raw_form) for k, v in pairs}
        return decode(raw_query), body_params, tuple(files), codec, raw

    # ---- the endpoint ------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> Response:
        name: str = request.path_params["name"]
        state = self.state
        stats = self.stats
        stats.requests[name] += 1
        if name == "imgcode":  # the captcha image: public, no parameters
            return Response(CAPTCHA_IMAGE, media_type="image/gif")
        query, form, files, codec, raw = await self._read_params(request)
        params = _Params({**query, **form}, raw)
        fmt = params.get("fmt", "0").strip()
        if request.url.path.startswith("/rest/"):
            fmt = "3"  # the JSON variant always answers JSON
        behaviour = state.behaviour
        login = params.get("login") or None
        if login is None and params.get("apikey"):
            login = state.login_for_api_key(params.get("apikey"))
        stats.records.append(
            RequestRecord(
                endpoint=name,
                method=request.method,
                query=query,
                form=form,
                files=files,
                login=login,
                at=state.now(),
            )
        )
        if behaviour.empty_responses > 0 and behaviour.fault_applies(name):
            behaviour.empty_responses -= 1
            return Response(b"", media_type="text/plain")
        if behaviour.lose_answers > 0 and behaviour.fault_applies(name):
            behaviour.lose_answers -= 1
            request.scope["smsc.lose_answer"] = True
        key = login or "<anonymous>"
        stats.in_flight[key] += 1
        try:
            if stats.in_flight[key] > stats.max_in_flight[key]:
                stats.max_in_flight[key] = stats.in_flight[key]
            # The provider refuses the request that makes 15 (by default) in flight for one
            # login; it is judged on arrival, so the latecomers are the ones refused.
            too_many = stats.in_flight[key] >= behaviour.concurrency_limit
            if behaviour.latency > 0:
                await anyio.sleep(behaviour.latency)
            try:
                if too_many:
                    stats.refused_concurrency[key] += 1
                    raise SimError(9, "too many concurrent requests")
                handler = _HANDLERS.get(name)
                if handler is None:
                    return Response(b"Not Found", status_code=404, media_type="text/plain")
                state.poll()
                forced = behaviour.take_forced_error(name)
                account = state.authenticate(
                    params.get("login") or None,
                    params.get("psw") or None,
                    params.get("apikey") or None,
                )
                if forced is not None:
                    raise SimError(forced, _DEFAULT_TEXTS.get(forced, "error"))
                answer = handler(self, account, params)
            except SimError as exc:
                return _error_response(exc, fmt, codec)
            return _answer_response(answer, fmt, codec)
        finally:
            stats.in_flight[key] -= 1


_DEFAULT_TEXTS = {
    1: "parameters error",
    2: "authorise error",
    3: "not enough money",
    4: "IP address is temporarily blocked",
    5: "invalid time format",
    6: "message is denied",
    7: "invalid number",
    8: "can't deliver sms",
    9: "duplicate request, wait a minute",
    10: "invalid image code",
    11: "invalid code",
}


def _encode(text: str, codec: str) -> bytes:
    return text.encode(codec, "replace")


def _error_response(exc: SimError, fmt: str, codec: str) -> Response:
    charset = "utf-8" if codec == "utf-8" else ("windows-1251" if codec == "cp1251" else "koi8-r")
    if fmt == "3":
        body: dict[str, object] = {"error": exc.text, "error_code": exc.code}
        if exc.message_id is not None:
            body["id"] = exc.message_id
        return Response(
            _encode(json.dumps(body, ensure_ascii=False), codec),
            media_type=f"application/json; charset={charset}",
        )
    if fmt == "1":
        text = f"{exc.message_id or 0},-{exc.code}"
    elif fmt == "2":
        text = (
            f"<result><error>{exc.text}</error><error_code>{exc.code}</error_code>"
            + (f"<id>{exc.message_id}</id>" if exc.message_id is not None else "")
            + "</result>"
        )
    else:
        text = f"ERROR = {exc.code} ({exc.text})"
        if exc.message_id is not None:
            text += f", ID - {exc.message_id}"
    return Response(_encode(text, codec), media_type=f"text/plain; charset={charset}")


def _answer_response(answer: _Answer, fmt: str, codec: str) -> Response:
    charset = "utf-8" if codec == "utf-8" else ("windows-1251" if codec == "cp1251" else "koi8-r")
    if answer.raw is not None:
        return Response(answer.raw, media_type=answer.raw_type)
    if fmt in ("0", "") and answer.plain is not None:
        return Response(_encode(answer.plain, codec), media_type=f"text/plain; charset={charset}")
    if fmt == "1" and answer.csv is not None:
        return Response(_encode(answer.csv, codec), media_type=f"text/plain; charset={charset}")
    return Response(
        _encode(json.dumps(answer.json, ensure_ascii=False), codec),
        media_type=f"application/json; charset={charset}",
    )


_HANDLERS: dict[str, Handler] = {
    "send": handle_send,
    "status": handle_status,
    "balance": handle_balance,
    "get": handle_get,
    "info": handle_info,
    "receive_phones": handle_receive_phones,
    "wait_call": handle_wait_call,
    "downloads": handle_downloads,
    "senders": handle_senders,
    "phones": handle_phones,
    "templates": handle_templates,
    "users": handle_users,
    "tinyurls": handle_tinyurls,
    "ping": handle_ping,
    "get_mnp": handle_get_mnp,
    "jobs": handle_jobs,
}
