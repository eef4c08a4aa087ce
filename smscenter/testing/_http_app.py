"""The simulator's HTTP half: an ASGI app (starlette) serving the provider's ``/sys/*.php``.

It decodes requests the way the provider does (GET query or POST form / multipart, any mix;
``charset`` declares the encoding of the text parameters and of the answer, windows-1251 by
default), applies the provider's gates (concurrency, authentication, forced faults), calls
:class:`~smscenter.testing._state.SimulatorState` and writes the documented answers: ``fmt=3``
JSON everywhere, and the plain ``fmt=0``/``fmt=1`` forms for send, status and balance (what the
official libraries use). Errors use the envelopes of smscentre.com/api/http for every ``fmt``.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import unquote_to_bytes

import anyio
import attrs
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smscenter._provider import COMMENT_SEPARATOR, MOSCOW
from smscenter.testing import _state as st
from smscenter.testing._http_base import _OK, _Answer, _limit, _Params, _split_phones
from smscenter.testing._http_calls import (
    CAPTCHA_IMAGE,
    check_send_options,
    handle_get_mnp,
    handle_phones,
    handle_ping,
    handle_senders,
    handle_templates,
    handle_tinyurls,
    handle_users,
    mailing_options,
    shorten_links,
)
from smscenter.testing._state import SimError, SimulatorState, format_date, format_money

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


# ---- send.php --------------------------------------------------------------------------

_TYPE_FLAGS = (
    ("flash", st.TYPE_FLASH),
    ("push", st.TYPE_PUSH),
    ("hlr", st.TYPE_HLR),
    ("ping", st.TYPE_PING),
    ("mms", st.TYPE_MMS),
    ("mail", st.TYPE_MAIL),
    ("call", st.TYPE_CALL),
    ("viber", st.TYPE_VIBER),
    ("soc", st.TYPE_SOC),
    ("tg", st.TYPE_SOC),
)


def _message_type(params: _Params) -> tuple[int, bool]:
    chosen = [key for key, _t in _TYPE_FLAGS if params.flag(key)]
    bin_mode = params.int("bin", 0, low=0, high=2)
    if bin_mode:
        chosen.append("bin")
    if params.get("bot"):
        chosen.append("bot")
    if len(chosen) > 1:
        raise SimError(1, "conflicting message type flags")
    types = dict(_TYPE_FLAGS, bin=st.TYPE_BIN, bot=st.TYPE_SOC)
    return (types[chosen[0]] if chosen else st.TYPE_SMS), bin_mode == 2


def _message_kind(params: _Params) -> str | None:
    """The kind a type number cannot say: a Telegram code or a chat-bot message."""
    if params.flag("tg"):
        return "telegram"
    if params.get("bot"):
        return "bot"
    return None


def _binary_payload(params: _Params, hex_binary: bool) -> bytes | None:
    """The bytes of a binary message: ``bin=2`` hex digits, or ``bin=1`` the urlencoded bytes
    themselves (not decoded by ``charset``). The comment suffix is not part of the payload."""
    if params.get("list"):
        return None
    if hex_binary:
        digits = st.split_comment(params.get("mes"))[0]
        try:
            return bytes.fromhex(digits)
        except ValueError:
            raise SimError(1, "invalid hex in mes") from None
    raw = params.raw.get("mes")
    if raw is None:
        return params.get("mes").encode("utf-8")  # a multipart or JSON body: already text
    return raw.split(COMMENT_SEPARATOR.encode("ascii"))[0]


def _send_request(app: SimulatorApp, params: _Params, *, price_only: bool) -> list[st.SendRequest]:
    state = app.state
    check_send_options(params)
    type_, hex_binary = _message_type(params)
    payload = _binary_payload(params, hex_binary) if type_ == st.TYPE_BIN else None
    client_id = params.get("id").strip() or None
    if client_id is not None:
        if client_id.isdigit():
            if not 1 <= int(client_id) <= 2147483647:
                raise SimError(1, "invalid id")
        elif len(client_id) > 40 or not all(c.isalnum() or c in ".-_" for c in client_id):
            raise SimError(1, "invalid id")
    sender = params.get("sender") if params.has("sender") else None
    too_long = sender is not None and (
        len(sender) > 15 or (not sender.isdigit() and len(sender) > 11)
    )
    if too_long and type_ != st.TYPE_MAIL:
        raise SimError(1, "invalid sender")
    start_at = None
    if params.get("time"):
        tz = params.int("tz", 0, low=-24, high=24)
        start_at = st.parse_schedule(params.get("time"), state.now(), tz)
    valid = st.parse_validity(params.get("valid")) if params.get("valid") else None
    max_parts = params.int("maxsms", 0, low=0) or None
    translit = params.int("translit", 0, low=0, high=2)
    common = {
        "type": type_,
        "sender": sender,
        "client_id": client_id,
        "translit": translit,
        "max_parts": max_parts,
        "start_at": start_at,
        "valid_seconds": valid,
        "price_only": price_only,
        "hex_binary": hex_binary,
        "payload": payload,
        "kind": _message_kind(params),
    }
    if params.get("list"):
        out = []
        lines = [ln for ln in params.get("list").splitlines() if ln.strip()]
        for line in lines:
            phones, sep, text = line.partition(":")
            if not sep:
                raise SimError(1, "invalid list line")
            out.append(
                st.SendRequest(
                    phones=_split_phones(phones),
                    text=text.replace("\\n", "\n"),
                    **common,  # type: ignore[arg-type]
                )
            )
        return out
    if not params.get("phones").strip():
        raise SimError(1, "phones is empty")
    text = params.get("mes")
    if type_ == st.TYPE_MAIL and not params.get("subj"):
        raise SimError(1, "subj is required for e-mail")
    return [
        st.SendRequest(
            phones=_split_phones(params.get("phones")),
            text=text,
            **common,  # type: ignore[arg-type]
        )
    ]


def _recipient_rows(rows: tuple[st.SimRecipientOutcome, ...]) -> list[dict[str, object]]:
    return [
        {
            "phone": r.phone,
            "mccmnc": r.mccmnc,
            "cost": format_money(r.cost),
            "status": str(r.status),
            "error": str(r.err),
        }
        for r in rows
    ]


def _handle_send(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    state = app.state
    cost_mode = params.int("cost", 0, low=0, high=3)
    requests = _send_request(app, params, price_only=cost_mode == 1)
    # "Identical" means the same parameter set (credentials, fmt and all), checked once for the
    # whole request; only accepted requests count, so a retry after an error goes through.
    dup_key = ("cost" if cost_mode == 1 else "send", params.fingerprint())
    state.check_duplicate(account.login, dup_key, 5 if cost_mode == 1 else 1)
    if len(requests) > 1:
        # ``list``: check the whole batch fits the balance before sending any of it.
        priced = [state.send(account.login, attrs.evolve(r, price_only=True)) for r in requests]
        total = sum((p.cost for p in priced), Decimal(0))
        if cost_mode != 1 and total > account.balance + (account.credit or Decimal(0)):
            raise SimError(3, "not enough money", priced[0].id)
    outcomes: list[st.SimSendOutcome] = []
    shared_id: int | None = None
    for req in requests:
        if shared_id is not None and req.client_id is None:
            req = attrs.evolve(req, client_id=str(shared_id))
        outcome = state.send(account.login, req)
        shared_id = outcome.id
        outcomes.append(outcome)
    state.remember(account.login, dup_key)
    if params.flag("tinyurl") and cost_mode != 1:
        for req in requests:
            shorten_links(app, account, req.text)
    first = outcomes[0]
    parts = sum(o.parts for o in outcomes)
    cost = sum((o.cost for o in outcomes), Decimal(0))
    balance = account.balance
    rows = tuple(r for o in outcomes for r in o.recipients)
    if cost_mode == 1:
        body: dict[str, object] = {"cost": format_money(cost), "cnt": parts}
        csv = f"{format_money(cost)},{parts}"
        plain = f"OK - {parts} SMS, COST - {format_money(cost)}"
    else:
        body = {"id": first.id, "cnt": parts}
        csv = f"{first.id},{parts}"
        plain = f"OK - {parts} SMS, ID - {first.id}"
        if cost_mode >= 2:
            body["cost"] = format_money(cost)
            csv += f",{format_money(cost)}"
            plain += f", COST - {format_money(cost)}"
        if cost_mode == 3:
            body["balance"] = format_money(balance)
            csv += f",{format_money(balance)}"
            plain += f", BALANCE - {format_money(balance)}"
    if params.flag("op") or params.flag("err"):
        selected = rows if params.flag("op") else tuple(r for r in rows if r.status in (22, 23))
        body["phones"] = _recipient_rows(selected)
    return _Answer(body, plain=plain, csv=csv)


# ---- status.php ------------------------------------------------------------------------


def _status_fields(message: st.SentMessage, level: int) -> dict[str, object]:
    fields: dict[str, object] = {
        "status": message.status,
        "last_date": format_date(message.changed_at),
        "last_timestamp": int(message.changed_at),
        "flag": message.flag,
        "err": message.err,
    }
    untyped = message.reported_type is None
    if untyped:
        del fields["flag"]  # no type number to put in bits 0-3
    if message.hlr is not None and message.status == st.ST_DELIVERED:
        fields.update(message.hlr.as_dict())
    if level >= 1:
        text = message.text
        fields.update(
            {
                "send_date": format_date(message.submitted_at),
                "send_timestamp": int(message.submitted_at),
                "phone": message.phone,
                "cost": format_money(message.cost),
                "sender_id": message.sender or "",
                "status_name": st.STATUS_NAMES.get(message.status, ""),
                "message": text,
                "comment": message.comment or "",
                "type": message.type,
                "sms_cnt": message.parts,
            }
        )
        if untyped:
            del fields["type"]
    if level >= 2:
        info = st.lookup_operator(message.phone)
        fields.update(
            {
                "country": info[0] if info else "",
                "operator": info[1] if info else "",
                "region": info[2] if info else "",
            }
        )
    return fields


def _handle_status(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    state = app.state
    raw_ids = params.get("id")
    raw_phones = params.get("phone")
    if not raw_ids.strip():
        raise SimError(1, "id is empty")
    level = params.int("all", 0, low=0, high=2)
    bulk = "," in raw_ids
    ids = [i.strip() for i in raw_ids.split(",")]
    phones = [p.strip() for p in raw_phones.split(",")] if raw_phones else []
    if bulk:
        ids = [i for i in ids if i]
        phones = phones[: len(ids)]
        if phones and len(phones) != len(ids):
            raise SimError(1, "id and phone lists differ in length")
        if state.behaviour.rate_limits and not state.hit(account.login, ("status-bulk",), 1):
            raise SimError(9, "duplicate request, wait a minute")
    if params.flag("del"):
        deleted = 0
        for index, mid in enumerate(ids):
            message = state.find(account.login, mid, phones[index] if index < len(phones) else None)
            if message is not None:
                state.delete(message)
                deleted += 1
        if not deleted:
            raise SimError(3, "message not found")
        return _Answer(_OK, plain="OK", csv="OK")
    results: list[dict[str, object]] = []
    for index, mid in enumerate(ids):
        phone = phones[index] if index < len(phones) and phones[index] else None
        message = state.find(account.login, mid, phone)
        if message is None:
            if not bulk:
                raise SimError(3, "message not found")
            results.append(
                {
                    "status": st.ST_NOT_FOUND,
                    "id": int(mid) if mid.isdigit() else mid,
                    "phone": phone or "",
                }
            )
            continue
        if (
            not bulk
            and state.behaviour.rate_limits
            and not state.hit(account.login, ("status", message.id, message.phone), 5)
        ):
            raise SimError(9, "duplicate request, wait a minute")
        fields = _status_fields(message, level)
        if bulk:
            fields = {"id": message.id, "phone": message.phone, **fields}
        results.append(fields)
    if bulk:
        csv = "\n".join(_status_csv(r, level, bulk=True) for r in results)
        return _Answer(results, csv=csv)
    only = results[0]
    plain = f"Status = {only['status']}, check_time = {only['last_date']}, err = {only['err']}"
    return _Answer(only, plain=plain, csv=_status_csv(only, level, bulk=False))


_HLR_KEYS = ("imsi", "msc", "mcc", "mnc", "cn", "net", "rcn", "rnet")


def _status_csv(row: Mapping[str, object], level: int, *, bulk: bool) -> str:
    """One fmt=1 status line in the official libraries' column order (the provider's official
    libraries): status, time, err, [HLR fields], [all>=1: send time, phone, cost, sender, status
    name, [all=2: country, operator, region], message]; a bulk line adds id (and phone at all=0)."""
    if row["status"] == st.ST_NOT_FOUND and "last_timestamp" not in row:
        return f"{st.ST_NOT_FOUND},0,0,{row['id']},{row['phone']}"
    cols: list[object] = [row["status"], row["last_timestamp"], row["err"]]
    if "imsi" in row:
        cols += [row[k] for k in _HLR_KEYS]
    if level >= 1:
        cols += [row[k] for k in ("send_timestamp", "phone", "cost", "sender_id", "status_name")]
        if level >= 2:
            cols += [row["country"], row["operator"], row["region"]]
        cols.append(row["message"])
    if bulk:
        cols += [row["id"], row["phone"]] if level == 0 else [row["id"]]
    return ",".join(str(c) for c in cols)


# ---- balance.php -----------------------------------------------------------------------


def _handle_balance(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    state = app.state
    if state.behaviour.rate_limits and not state.hit(account.login, ("balance",), 10):
        raise SimError(9, "too many requests, wait a minute")
    body: dict[str, object] = {"balance": format_money(account.balance)}
    if params.flag("cur"):
        body["currency"] = account.currency
    if account.credit is not None:
        body["credit"] = format_money(account.credit)
    text = format_money(account.balance)
    return _Answer(
        body, plain=text, csv=text + (f",{account.currency}" if params.flag("cur") else "")
    )


def _parse_day(value: str, *, end: bool = False) -> float | None:
    """``dd.mm.yyyy`` (account time zone) as Unix seconds: the day's start, or its end."""
    if not value:
        return None
    try:
        day = datetime.strptime(value.strip(), "%d.%m.%Y").replace(tzinfo=MOSCOW)
    except ValueError:
        raise SimError(1, "invalid date") from None
    return (day + timedelta(days=1)).timestamp() if end else day.timestamp()


# ---- get.php ---------------------------------------------------------------------------


def _handle_get(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    _limit(app, account, ("get", params.fingerprint()), 3)
    if params.flag("get_messages"):
        return _get_messages(app, account, params)
    if params.flag("get_answers"):
        return _get_answers(app, account, params)
    if params.flag("get_stat"):
        return _get_stat(app, account, params)
    if params.flag("get_mega_accounts"):
        rows = [
            r
            for r in account.mega_accounts
            if not params.get("account") or str(r.get("account")) == params.get("account")
        ]
        if not rows:
            raise SimError(3, "accounts not found")
        return _Answer(rows)
    if params.flag("get_price"):
        return _get_price(app)
    raise SimError(1, "unknown get.php command")


def _get_messages(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    start = _parse_day(params.get("start"))
    end = _parse_day(params.get("end"), end=True)
    wanted = {st.normalize_phone(p) or p for p in _split_phones(params.get("phone"))}
    # format=8: the e-mail history, filtered by address (``email``) instead of phone.
    emails_only = params.get("format").strip() == "8"
    if emails_only:
        wanted = {e.lower() for e in _split_phones(params.get("email"))}
    count = params.int("cnt", 100, low=1, high=100)
    prev_id = params.int("prev_id", 0, low=0)
    rows: list[dict[str, object]] = []
    for message in reversed(app.state.sent_messages(account.login)):
        if message.deleted:
            continue
        if start is not None and message.submitted_at < start:
            continue
        if end is not None and message.submitted_at >= end:
            continue
        if emails_only and message.type != st.TYPE_MAIL:
            continue
        if wanted and (message.phone.lower() if emails_only else message.phone) not in wanted:
            continue
        if prev_id and message.id >= prev_id:
            continue
        fields = _status_fields(message, 2)
        row = {
            key: fields[key]
            for key in (
                "status",
                "last_date",
                "last_timestamp",
                "err",
                "send_date",
                "send_timestamp",
                "phone",
                "cost",
                "sender_id",
                "status_name",
                "message",
                "country",
                "operator",
                "region",
            )
        }
        row["id"] = message.id
        rows.append(row)
        if len(rows) >= count:
            break
    if not rows:
        raise SimError(3, "messages not found")
    return _Answer(rows)


def _get_answers(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    hours = params.int("hour", 24, low=1, high=168)
    after = params.int("after_id", 0, low=0) or None
    to_phone = st.normalize_phone(params.get("to_phone")) if params.get("to_phone") else None
    rows = []
    for record in app.state.answers(account.login, hours=hours, after_id=after):
        if to_phone is not None and record.to_phone != to_phone:
            continue
        row: dict[str, object] = {
            "id": record.id,
            "received": format_date(record.received_at),
            "phone": record.phone,
            "message": record.text,
            "to_phone": record.to_phone,
            "sent": format_date(record.sent_at),
        }
        if record.answer_to is not None:
            row["sms_id"] = record.answer_to
        rows.append(row)
    csv = "\n".join(
        f"{r['id']},{r['received']},{r['phone']},{r['to_phone']},{r['sent']},{r['message']}"
        for r in rows
    )
    return _Answer(rows, csv=csv)


def _get_stat(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    start = _parse_day(params.get("start"))
    end = _parse_day(params.get("end"), end=True)
    parts = 0
    spent = Decimal(0)
    for message in app.state.sent_messages(account.login):
        if start is not None and message.submitted_at < start:
            continue
        if end is not None and message.submitted_at >= end:
            continue
        parts += message.parts
        spent += message.cost
    row = {
        "login": account.login,
        "sms": str(parts),
        "credit": format_money(spent),
        "debit": format_money(account.debit),
        "currency": account.currency,
    }
    return _Answer([row])


def _get_price(app: SimulatorApp) -> _Answer:
    state = app.state
    zones = []
    seen: set[str] = set()
    for index, (_prefix, info) in enumerate(st.OPERATORS, start=1):
        if info[0] in seen:
            continue
        seen.add(info[0])
        sms = format_money(state.price(st.TYPE_SMS))
        zones.append(
            {
                "zone": str(index),
                "name": info[0],
                "api": sms,
                "mass": sms,
                "mms": format_money(state.price(st.TYPE_MMS)),
                "hlr": format_money(state.price(st.TYPE_HLR)),
                "call": format_money(state.price(st.TYPE_CALL)),
            }
        )
    return _Answer({"zones": zones, "codes": [], "mail": format_money(state.price(st.TYPE_MAIL))})


# ---- info.php --------------------------------------------------------------------------


def _operator_row(phone: str) -> dict[str, str]:
    norm = st.normalize_phone(phone)
    info = st.lookup_operator(norm) if norm else None
    if info is None:
        raise SimError(3, "operator not found")
    country, operator, region, mcc, mnc, tz = info
    return {
        "country": country,
        "operator": operator,
        "region": region,
        "mcc": mcc,
        "mnc": mnc,
        "tz": tz,
    }


def _handle_info(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    _limit(app, account, ("info", params.fingerprint()), 3)
    if not params.flag("get_operator"):
        raise SimError(1, "unknown info.php command")
    phones = _split_phones(params.get("phone"))
    if not phones:
        raise SimError(1, "phone is empty")
    if len(phones) == 1 and "," not in params.get("phone"):
        row = _operator_row(phones[0])
        return _Answer(row, plain=", ".join(f"{k} = {v}" for k, v in row.items()))
    rows: list[dict[str, str]] = []
    for phone in phones:
        try:
            rows.append({"phone": phone, **_operator_row(phone)})
        except SimError:
            rows.append({"phone": phone, "error": "operator not found"})
    return _Answer(rows)


# ---- receive_phones.php ----------------------------------------------------------------


def _current_cost(now: float, full: Decimal) -> Decimal:
    """The rent for the rest of the current month (the provider charges the remaining days)."""
    today = datetime.fromtimestamp(now, MOSCOW)
    first_next = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    days_in_month = (first_next - timedelta(days=1)).day
    remaining = days_in_month - today.day + 1
    return (full * remaining / days_in_month).quantize(Decimal("0.01"))


def _handle_receive_phones(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    state = app.state
    _limit(app, account, ("receive_phones", params.fingerprint()), 2)
    if params.flag("get") or params.flag("gets"):
        rows = [
            {
                "phone": p.phone,
                "type": p.type,
                "cost": format_money(p.cost),
                "current_cost": format_money(_current_cost(state.now(), p.cost)),
                "info": p.info,
            }
            for p in state.receive_phones.values()
            if p.owner is None
        ]
        return _Answer(rows)
    phone = st.normalize_phone(params.get("phone")) if params.get("phone") else None
    if phone is None:
        raise SimError(1, "phone is empty")
    number = state.receive_phones.get(phone)
    if params.flag("buy"):
        if number is None or number.owner is not None:
            raise SimError(1, "phone is not available")
        cost = _current_cost(state.now(), number.cost)
        if cost > account.balance:
            raise SimError(3, "not enough money")
        account.balance -= cost
        number.owner = account.login
        number.noprolong = params.flag("noprolong")
        return _Answer({"cost": format_money(cost)}, plain=f"cost = {format_money(cost)}")
    if params.flag("chg"):
        if number is None or number.owner != account.login:
            raise SimError(1, "phone is not yours")
        number.noprolong = params.flag("noprolong")
        return _Answer(_OK, plain="OK", csv="OK")
    raise SimError(1, "unknown receive_phones.php command")


# ---- wait_call.php ---------------------------------------------------------------------


def _handle_wait_call(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    state = app.state
    _limit(app, account, ("wait_call", params.fingerprint()), 50)
    phone = st.normalize_phone(params.get("phone")) if params.get("phone") else None
    if phone is None:
        raise SimError(1, "invalid phone")
    if phone in account.blacklist:
        raise SimError(5, "phone is in the black list")
    number = state.register_wait_call(account.login, phone)
    return _Answer(
        {"phone": number, "all_phones": list(state.wait_call_numbers)},
        plain=f"phone = {number}, all_phones = {','.join(state.wait_call_numbers)}",
        csv=",".join(state.wait_call_numbers),
    )


# ---- downloads.php ---------------------------------------------------------------------


def _handle_downloads(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    _limit(app, account, ("downloads", params.fingerprint()), 3)
    if params.flag("get_list"):
        after = params.int("after_id", 0, low=0)
        count = params.int("cnt", 0, low=0)
        tasks = [t for t in sorted(account.downloads.values(), key=lambda t: t.id) if t.id > after]
        if count:
            tasks = tasks[:count]
        rows = [
            {
                "id": t.id,
                "name": t.name,
                "status": str(t.status),
                "created": format_date(t.created_at),
                "time": format_date(t.started_at),
                "file": t.file,
            }
            for t in tasks
        ]
        return _Answer(rows)
    if params.flag("get_file"):
        task: st.SimDownloadTask | None = None
        if params.get("id"):
            task = account.downloads.get(params.int("id", 0))
        elif params.get("name"):
            name = params.get("name")
            task = next((t for t in account.downloads.values() if name in (t.name, t.file)), None)
        else:
            raise SimError(1, "id or name is required")
        if task is None or task.status != 2:
            raise SimError(5, "task or file not found")
        return _Answer(raw=task.content, raw_type="text/csv")
    raise SimError(1, "unknown downloads.php command")


# ---- jobs.php --------------------------------------------------------------------------


def _job_row(job: st.SimMailing) -> dict[str, object]:
    return {
        "id": job.id,
        "name": job.name,
        "status": job.status,
        "created": format_date(job.created_at),
        "cost": format_money(job.cost),
        "phones": job.phones,
        "mes": job.text,
        "sms_id": job.message_id,
        **job.options,
    }


def _handle_jobs(app: SimulatorApp, account: st.Account, params: _Params) -> _Answer:
    state = app.state
    if params.flag("add"):
        dup_key = ("jobs", params.fingerprint())
        state.check_duplicate(account.login, dup_key, 1)
        name = params.get("name").strip()
        if not name:
            raise SimError(1, "name is empty")
        price_only = params.flag("cost")
        params, job_options = mailing_options(account, params)
        requests = _send_request(app, params, price_only=price_only)
        outcomes = [state.send(account.login, r) for r in requests]
        cost = sum((o.cost for o in outcomes), Decimal(0))
        state.remember(account.login, dup_key)
        job = st.SimMailing(
            id=state.next_misc_id(),
            name=name,
            message_id=None if price_only else outcomes[0].id,
            created_at=state.now(),
            cost=cost,
            phones=params.get("phones"),
            text=params.get("mes"),
            status="priced" if price_only else "active",
            options=job_options,
        )
        if not price_only:
            for outcome in outcomes:
                for message in outcome.messages:
                    message.job_id = job.id
            account.jobs[job.id] = job
        body: dict[str, object] = {"id": job.id}
        if price_only:
            body["cost"] = format_money(cost)
        return _Answer(body, plain=f"OK, ID - {job.id}", csv=str(job.id))
    if params.flag("get_all"):
        return _Answer([_job_row(j) for j in sorted(account.jobs.values(), key=lambda j: j.id)])
    job_id = params.int("id", 0)
    found = account.jobs.get(job_id)
    if params.flag("get"):
        if found is None:
            raise SimError(3, "job not found")
        return _Answer(_job_row(found))
    if params.flag("del") or params.flag("cancel"):
        if found is None:
            raise SimError(3, "job not found")
        if params.flag("del"):
            del account.jobs[job_id]
        else:
            found.status = "cancelled"
            for message in app.state.sent_messages(account.login):
                if message.job_id == job_id and message.status == st.ST_QUEUED:
                    message.status, message.changed_at = -2, state.now()
        return _Answer(_OK, plain="OK", csv="OK")
    raise SimError(1, "unknown jobs.php command")


def _decimal(value: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        raise SimError(1, "invalid number value") from None


_HANDLERS: dict[str, Handler] = {
    "send": _handle_send,
    "status": _handle_status,
    "balance": _handle_balance,
    "get": _handle_get,
    "info": _handle_info,
    "receive_phones": _handle_receive_phones,
    "wait_call": _handle_wait_call,
    "downloads": _handle_downloads,
    "senders": handle_senders,
    "phones": handle_phones,
    "templates": handle_templates,
    "users": handle_users,
    "tinyurls": handle_tinyurls,
    "ping": handle_ping,
    "get_mnp": handle_get_mnp,
    "jobs": _handle_jobs,
}
