"""The async HTTP client: :class:`HTTPClient`, over :class:`httpx.AsyncClient`.

All provider vocabulary lives in :mod:`smscenter.http._protocol`; this module moves its
:class:`~smscenter.http._protocol.Request` values over the wire:

* every request is a POST form (``multipart/form-data`` only when files are attached), so
  credentials never appear in a URL, with ``fmt=3`` and ``charset=utf-8``;
* at most :attr:`Limits.max_concurrent_requests` requests are in flight per client (the provider
  refuses 15 or more per login with error 9); waiting for a slot is bounded by
  :attr:`Timeouts.pool`;
* a connection failure or an empty answer moves on to the next mirror host (``www2`` .. ``www5``
  of the base host, as the official libraries do), after a jittered backoff;
* a retried send cannot be billed twice: it carries a client id, retries stay inside the
  provider's one-minute duplicate window, and if a retry is refused as a duplicate (error 9)
  the client asks status.php whether the first attempt went through; a send written but never
  answered ends with UnknownOutcomeError (see :mod:`smscenter.http._outcome`);
* httpx errors are mapped once, in :func:`map_httpx_error`, to smscenter's transport errors.
"""

from __future__ import annotations

import enum
import logging
import random
import re
import secrets
import ssl
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import date, tzinfo
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self
from urllib.parse import urlencode

import anyio
import attrs
import httpx

from smscenter import exceptions as exc
from smscenter._provider import MOSCOW, Transport
from smscenter._scrub import scrub_error
from smscenter._version import __version__
from smscenter.config import Credentials, Limits, RetryPolicy, Timeouts
from smscenter.http import _protocol as proto
from smscenter.http._account_calls import AccountCalls
from smscenter.http._decode import decode_json
from smscenter.http._mailing_calls import MailingCalls
from smscenter.http._outcome import SendAttempts, lookup, maybe_written
from smscenter.http._tracked_calls import send_tracked, settle_tracked
from smscenter.http.records import (
    CallToConfirm,
    DownloadTask,
    MegafonAccount,
    OperatorInfo,
    PriceList,
    ReceiveNumber,
    StatisticsRow,
)
from smscenter.models import (
    Balance,
    Cost,
    DeliveryReport,
    IncomingMessage,
    Message,
    SendResult,
)
from smscenter.store._protocol import MessageStore

if TYPE_CHECKING:
    from smscenter.fleet import Fleet

__all__ = ("HTTPClient", "map_httpx_error")

logger = logging.getLogger(__name__)

_FORM_HEADERS: Final = {"Content-Type": "application/x-www-form-urlencoded"}

#: The number of mirrors the official libraries try after the main host (www2..www5).
_DEFAULT_MIRRORS: Final = 4

# Every httpx exception class, mapped once to ours (the most specific match wins). A test checks
# that no httpx exception class is missing here.
_HTTPX_ERRORS: Final[dict[type[Exception], type[exc.SMSCenterError]]] = {
    httpx.ConnectTimeout: exc.ConnectTimeout,
    httpx.ReadTimeout: exc.ResponseTimeout,
    httpx.WriteTimeout: exc.ResponseTimeout,
    httpx.PoolTimeout: exc.PoolTimeout,
    httpx.TimeoutException: exc.ResponseTimeout,
    httpx.ConnectError: exc.ConnectError,
    httpx.ProxyError: exc.ConnectError,
    httpx.UnsupportedProtocol: exc.ConnectError,
    httpx.ReadError: exc.ConnectionLost,
    httpx.WriteError: exc.ConnectionLost,
    httpx.CloseError: exc.ConnectionLost,
    httpx.NetworkError: exc.ConnectionLost,
    httpx.RemoteProtocolError: exc.RemoteProtocolError,
    httpx.LocalProtocolError: exc.LocalProtocolError,
    httpx.ProtocolError: exc.RemoteProtocolError,
    httpx.DecodingError: exc.RemoteProtocolError,
    httpx.TooManyRedirects: exc.RemoteProtocolError,
    httpx.HTTPStatusError: exc.RemoteProtocolError,
    httpx.TransportError: exc.TransportError,
    httpx.RequestError: exc.TransportError,
    httpx.HTTPError: exc.TransportError,
    httpx.InvalidURL: exc.LocalProtocolError,
    httpx.CookieConflict: exc.LocalProtocolError,
    httpx.StreamConsumed: exc.LocalProtocolError,
    httpx.StreamClosed: exc.LocalProtocolError,
    httpx.ResponseNotRead: exc.LocalProtocolError,
    httpx.RequestNotRead: exc.LocalProtocolError,
    httpx.StreamError: exc.LocalProtocolError,
}


def _scrub(text: str, secrets_: Iterable[str]) -> str:
    for secret in secrets_:
        if secret:
            text = text.replace(secret, "***")
    return text


def map_httpx_error(
    error: Exception, *, host: str | None = None, secrets: Iterable[str] = ()
) -> exc.SMSCenterError:
    """Translate an httpx exception into the smscenter one (the single mapping point).

    The message names the failure and the host, never the URL's query or the request body; any
    of ``secrets`` that still appears in the text is replaced by ``***``.
    """
    target: type[exc.SMSCenterError] = exc.TransportError
    for cls in type(error).__mro__:
        if cls in _HTTPX_ERRORS:
            target = _HTTPX_ERRORS[cls]
            break
    if isinstance(error, httpx.RemoteProtocolError) and "disconnected" in str(error).lower():
        # httpcore reports a connection closed before any answer as a protocol error; it is a
        # lost connection (and worth a retry on the next mirror), not a malformed answer.
        target = exc.ConnectionLost
    detail = _scrub(str(error) or type(error).__name__, secrets)
    where = f" ({host})" if host else ""
    message = f"{type(error).__name__}{where}: {detail}"
    if issubclass(target, exc.TransportError):
        return target(message, host=host)
    return target(message)


class ClientState(enum.Enum):
    """Lifecycle of an :class:`HTTPClient` (as httpx's): it opens once and closes once."""

    UNOPENED = 1
    OPENED = 2
    CLOSED = 3


def _default_mirrors(base: httpx.URL) -> tuple[httpx.URL, ...]:
    # "www.smsc.ru" and "www1.smsc.kz" are the same site as "smsc.ru" / "smsc.kz".
    host = re.sub(r"^www\d*\.", "", base.host)
    if not host or host.replace(".", "").isdigit() or host == "localhost":
        return ()  # an IP address or localhost has no www2.. mirrors
    return tuple(base.copy_with(host=f"www{n}.{host}") for n in range(2, 2 + _DEFAULT_MIRRORS))


def _normalize_base(url: str | httpx.URL) -> httpx.URL:
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise exc.ValidationError(f"base URL must be http(s)://host[:port], got {str(url)!r}")
    if parsed.query or parsed.userinfo:
        raise exc.ValidationError("base URL must not carry a query or user info")
    return parsed.copy_with(path=parsed.path.rstrip("/") or "")


@attrs.define(eq=False, repr=False, init=False)
class HTTPClient(AccountCalls, MailingCalls):
    """Async client for the provider's HTTP API.

    Use it as an async context manager; it keeps connections open for reuse until it exits::

        async with HTTPClient(Credentials("acme", "s3cret")) as api:
            result = await api.send(Message(to="+79991234567", text="Hello"))

    :param credentials: login + password, login + MD5 of the password, or API key.
    :param base_url: the provider site the account lives on: ``https://smsc.ru`` (default),
        ``https://smscentre.com``, ``https://smsc.kz``, ``https://smsc.ua`` or any compatible
        base URL.
    :param mirrors: base URLs to try, in order, when the main host cannot be reached or answers
        empty. ``None`` (default) uses ``www2`` .. ``www5`` of the base host, as the provider's
        own libraries do; ``()`` turns failover off.
    :param timeouts: ``connect`` and ``http`` (one request attempt) apply per attempt; ``pool``
        bounds the wait for a free request slot.
    :param limits: ``max_concurrent_requests`` caps requests in flight (the provider refuses 15
        or more per login); ``max_keepalive_connections`` idle connections are kept.
    :param retry: attempts over the host list, and the backoff between them.
    :param transport: an httpx transport to use instead of the network one (passed through).
    :param verify: TLS verification: ``True`` (default), ``False``, or an
        :class:`ssl.SSLContext`.
    :param account_tz: the time zone of the account's settings, used for the dates the provider
        writes as text (Moscow unless the account says otherwise).
    :param store: a :class:`~smscenter.store.MessageStore` (opened by you) that tracks every
        :meth:`send`: each message then needs a ``client_id`` and one recipient; it is recorded
        ``sending`` before its request goes out and settled with the answer (or ``unknown``
        when none came; :meth:`settle` settles it once the provider tells). Callbacks update
        the same store through the FastAPI router's ``store=``.
    :param fleet: a :class:`~smscenter.fleet.Fleet` (entered; asyncio) shared with the login's
        other workers: every request also holds one of the fleet's HTTP slots, so fewer than 15
        are in flight across all of them (waiting for one counts against ``Timeouts.pool``).
    """

    _credentials: Credentials
    _base_url: httpx.URL
    _mirrors: tuple[httpx.URL, ...]
    _timeouts: Timeouts
    _limits: Limits
    _retry: RetryPolicy
    _account_tz: tzinfo
    _client: httpx.AsyncClient
    _slots: anyio.Semaphore
    _fleet: Any  # a smscenter.fleet.Fleet or None (its module needs redis: not named here)
    _state: ClientState
    _random: random.Random
    _store: MessageStore | None

    def __init__(
        self,
        credentials: Credentials,
        *,
        base_url: str | httpx.URL = "https://smsc.ru",
        mirrors: Sequence[str | httpx.URL] | None = None,
        timeouts: Timeouts | None = None,
        limits: Limits | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: ssl.SSLContext | str | bool = True,
        account_tz: tzinfo = MOSCOW,
        store: MessageStore | None = None,
        fleet: Fleet | None = None,
    ) -> None:
        if not isinstance(credentials, Credentials):
            raise TypeError("credentials must be a smscenter.Credentials")
        self._credentials = credentials
        self._base_url = _normalize_base(base_url)
        self._mirrors = (
            _default_mirrors(self._base_url)
            if mirrors is None
            else tuple(_normalize_base(m) for m in mirrors)
        )
        self._timeouts = timeouts if timeouts is not None else Timeouts()
        self._limits = limits if limits is not None else Limits()
        self._retry = retry if retry is not None else RetryPolicy()
        self._account_tz = account_tz
        self._store = store
        self._slots = anyio.Semaphore(self._limits.max_concurrent_requests)
        self._fleet: Fleet | None = fleet
        self._state = ClientState.UNOPENED
        self._random = random.Random()
        t = self._timeouts
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(t.http, connect=t.connect, pool=t.pool),
            limits=httpx.Limits(
                max_connections=self._limits.max_concurrent_requests,
                max_keepalive_connections=self._limits.max_keepalive_connections,
            ),
            transport=transport,
            verify=verify,
            headers={"User-Agent": f"smscenter/{__version__}"},
            follow_redirects=False,
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def __repr__(self) -> str:
        mirrors = len(self._mirrors)
        return (
            f"<HTTPClient {self._state.name.lower()} base_url={str(self._base_url)!r} "
            f"mirrors={mirrors} login={self._credentials.login!r} "
            f"auth={self._credentials.auth!r}>"
        )

    @property
    def base_url(self) -> str:
        """The main host's base URL."""
        return str(self._base_url)

    @property
    def hosts(self) -> tuple[str, ...]:
        """Every base URL tried, in order: the main one, then the mirrors."""
        return tuple(str(u) for u in (self._base_url, *self._mirrors))

    async def __aenter__(self) -> Self:
        if self._state is not ClientState.UNOPENED:
            raise RuntimeError(
                "an HTTPClient can be opened only once; "
                + ("it is already open" if self._state is ClientState.OPENED else "it is closed")
            )
        await self._client.__aenter__()
        self._state = ClientState.OPENED
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections. The client cannot be used afterwards."""
        if self._state is ClientState.CLOSED:
            return
        self._state = ClientState.CLOSED
        with anyio.CancelScope(shield=True):
            await self._client.aclose()

    # -- the request loop --------------------------------------------------------------------

    def _attempt_urls(self) -> list[httpx.URL]:
        hosts = [self._base_url, *self._mirrors]
        return [hosts[i % len(hosts)] for i in range(self._retry.attempts)]

    def _build(self, request: proto.Request, base: httpx.URL) -> httpx.Request:
        form = request.form(self._credentials.http_params())
        url = base.copy_with(path=base.path.rstrip("/") + request.path)
        if request.files:
            files = [
                (f"file{i}", (a.filename, a.content, a.content_type))
                for i, a in enumerate(request.files)
            ]
            return self._client.build_request("POST", url, data=dict(form), files=files)
        # Encoded here rather than by httpx: the same bytes, at a fraction of the per-request
        # cost, which matters when thousands of sends share one event loop.
        body = urlencode(form).encode("ascii")
        return self._client.build_request("POST", url, content=body, headers=_FORM_HEADERS)

    def _secrets(self, request: proto.Request) -> tuple[str, ...]:
        # The account's secrets and any the request carries (a sub-client's password).
        return (*self._credentials.secrets(), *request.secrets())

    def _open_implicitly(self) -> None:
        # Like httpx, a client used without `async with` opens on its first request (and must
        # then be closed with aclose()). Synchronous, so concurrent first calls cannot race.
        if self._state is ClientState.CLOSED:
            raise RuntimeError("the HTTPClient is closed")
        self._state = ClientState.OPENED

    @asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        fleet = self._fleet
        lease = None
        try:
            with anyio.fail_after(self._timeouts.pool):
                await self._slots.acquire()
                if fleet is not None:  # and one of the login's slots, fleet-wide
                    try:
                        lease = await fleet.http_slots.acquire()
                    except BaseException:
                        self._slots.release()
                        raise
        except TimeoutError:
            raise exc.PoolTimeout(
                f"no free request slot within {self._timeouts.pool} s "
                f"({self._limits.max_concurrent_requests} requests in flight"
                + (", or every fleet slot held)" if fleet is not None else ")")
            ) from None
        try:
            yield
        finally:
            if lease is not None:
                await lease.release()
            self._slots.release()

    async def _attempt(
        self, request: proto.Request, base: httpx.URL, sends: SendAttempts | None = None
    ) -> Any:
        """One attempt on one host. Returns the decoded JSON (``None`` for an empty answer).

        ``sends`` (a send request's attempts) learns whether a failed attempt may have been
        written, and stops an attempt that would reach the provider after its duplicate window.
        """
        host = base.netloc.decode("ascii")
        async with self._slot():
            started = anyio.current_time()
            if sends is not None:
                if not sends.may_start(started):
                    raise sends.too_late()
                sends.attempts += 1
            logger.debug("http.%s.started host=%s", request.action, host)
            try:
                response = await self._client.send(self._build(request, base))
            except httpx.HTTPError as error:
                logger.debug(
                    "http.%s.failed host=%s error=%s", request.action, host, type(error).__name__
                )
                if sends is not None:
                    sends.failed(started, written=maybe_written(error))
                raise map_httpx_error(error, host=host, secrets=self._secrets(request)) from None
        status = response.status_code
        if status != 200 and status < 500:
            # The provider answers 200 even for its errors: anything else is not the API (a
            # wrong base URL, a proxy's refusal); another mirror would not fix it.
            raise exc.RemoteProtocolError(
                f"{request.action}: unexpected HTTP status {status} from {host}"
            )
        if status != 200 or not response.content.strip():
            # A server error or an empty body: the official libraries try the next host
            # (the provider's official libraries). The request did reach a server.
            if sends is not None:
                sends.failed(started, written=True)
            logger.debug(
                "http.%s.empty host=%s status=%d", request.action, host, response.status_code
            )
            return None
        try:
            # In the charset the answer declares (windows-1251 unless asked otherwise).
            data = decode_json(response.content, response.headers.get("content-type"))
        except ValueError:
            raise exc.RemoteProtocolError(
                f"{request.action}: the answer from {host} is not JSON"
            ) from None
        logger.debug("http.%s.complete host=%s", request.action, host)
        return data

    async def _call(self, request: proto.Request) -> Any:
        """Send ``request`` over the host list; raise the typed error for an error answer.

        A request that acts (:attr:`~smscenter.http._protocol.Request.acts`) is not repeated
        once an attempt may have reached the provider; if none was answered, the call ends
        with UnknownOutcomeError.
        """
        if request.acts:
            attempts = SendAttempts(self._timeouts.connect, window=0.0)
            try:
                data, _ = await self._call_with_attempts(request, attempts)
            except (exc.TransportError, exc.RemoteProtocolError) as error:
                if not attempts.written:
                    raise  # never written: it did nothing
                logger.warning("http.%s.unknown", request.action)
                raise exc.UnknownOutcomeError(
                    f"{request.action}: the request was written but no answer came after "
                    f"{attempts.attempts} attempt(s); it may have taken effect: check before "
                    "repeating it",
                    cause=error,
                    transport=Transport.HTTP,
                ) from None
        else:
            data, _ = await self._call_with_attempts(request)
        try:
            return proto.check_answer(request, data)
        except exc.SMSCenterError as error:
            # The provider's error text may quote the request, password included.
            scrub_error(error, self._secrets(request))
            raise

    async def _call_with_attempts(
        self, request: proto.Request, sends: SendAttempts | None = None
    ) -> tuple[Any, int]:
        """Send ``request`` over the host list; return the decoded answer (not yet checked for
        an error) and the number of the attempt that got it.

        :param sends: for a send request: its attempts' bookkeeping (see :meth:`_attempt`).
        """
        self._open_implicitly()
        urls = self._attempt_urls()
        last: exc.SMSCenterError | None = None
        for number, base in enumerate(urls, start=1):
            if number > 1:
                pause = self._retry.delay(number - 1, self._random.random())
                if sends is not None and not sends.may_start(anyio.current_time() + pause):
                    raise sends.too_late()  # no pause for an attempt that cannot start
                logger.debug("http.%s.retry attempt=%d pause=%.3f", request.action, number, pause)
                await anyio.sleep(pause)
            try:
                data = await self._attempt(request, base, sends)
            except exc.PoolTimeout:
                raise  # not sent now; another host would not free a slot sooner
            except exc.TransportError as error:
                last = error
                continue
            if data is None:
                last = exc.RemoteProtocolError(
                    f"{request.action}: empty answer from {base.netloc.decode('ascii')}"
                )
                continue
            return data, number
        assert last is not None
        logger.warning("http.%s.gave_up attempts=%d", request.action, len(urls))
        raise scrub_error(last, self._secrets(request))

    # -- sending -----------------------------------------------------------------------------

    def _new_client_id(self) -> str:
        # A string id (up to 40 of [A-Za-z0-9._-], send.php on smscentre.com/api/http) with 128
        # random bits: unlike a random int it cannot collide with the account's other messages.
        return f"r{secrets.token_hex(16)}"

    def _with_client_id(self, message: Message) -> Message:
        # A retry may resend a request whose first copy was accepted, and an answer may be lost
        # for good; a client id lets status.php tell what happened (see settle()).
        if message.client_id is not None:
            return message
        return attrs.evolve(message, client_id=self._new_client_id())

    async def send(
        self, message: Message, *, per_recipient: bool = False, resend_unknown: bool = False
    ) -> SendResult:
        """Send a message (send.php with ``cost=3``, so the result has cost and balance).

        Every send carries a client id (yours, or a random one added here). A retried send is
        never billed twice: retries start only inside the provider's one-minute duplicate window
        of the first attempt that may have reached it, and if a retry is refused as a duplicate
        (error 9), status.php is asked by client id whether the first attempt got through; if it
        did, the result has :attr:`SendResult.confirmed_by_status` set.

        With a store (``HTTPClient(..., store=)``), the message needs a ``client_id`` and one
        recipient; it is recorded before the request and settled with its outcome. One the
        store holds as sent before is not sent again: an accepted one returns its stored ids, a
        refused one raises its :class:`~smscenter.APIError`, one of unknown outcome raises
        :class:`~smscenter.UnknownOutcomeError` unless ``resend_unknown``.

        :param per_recipient: ask for each recipient's status, operator and cost (``op=1``).
        :param resend_unknown: (with a store) send it even if the store holds it as
            ``unknown`` (written before and never answered: it may then arrive twice).
        :raises TypeError: the message is not a :class:`Message` (its own validation happens
            when it is built, before any request).
        :raises smscenter.ValidationError: (with a store) no ``client_id``, or several
            recipients.
        :raises smscenter.store.StoreError: (with a store) it could not be recorded, so it was
            not sent; or its outcome could not be recorded (the error says it).
        :raises smscenter.APIError: the provider refused (a subclass per error code).
        :raises smscenter.TransportError: the request never reached the provider whole (no
            connection, not written): nothing was sent, and sending again is safe.
        :raises smscenter.UnknownOutcomeError: the request was written and no answer came (or a
            retry was refused as a duplicate and the status check failed): it may have been
            sent. The error carries the client id; :meth:`settle` asks the provider.
        """
        if not isinstance(message, Message):
            raise TypeError("send() takes a smscenter.Message")
        if self._store is not None:
            tracked = message
            request = proto.send_request(tracked, per_recipient=per_recipient)
            return await send_tracked(
                self._store,
                tracked,
                lambda: self._send(request, tracked.client_id, tracked.to),
                resend_unknown=resend_unknown,
            )
        message = self._with_client_id(message)
        request = proto.send_request(message, per_recipient=per_recipient)
        return await self._send(request, message.client_id, message.to)

    async def send_list(
        self, messages: Sequence[Message], *, per_recipient: bool = False
    ) -> SendResult:
        """Send a different text to each recipient in one request (send.php ``list=``).

        All messages share kind, sender and options; only recipients, text and comment differ.

        :raises ValueError: for an empty list or messages whose options differ; with a store
            (a list send goes out under one client id, and a store keeps one record per client
            id and recipient: use :meth:`send` per message).
        """
        if self._store is not None:
            raise exc.ValidationError(
                "send_list() cannot be tracked by a store: the whole list goes out under one "
                "client id; send each message with send()"
            )
        messages = list(messages)
        if not messages or not all(isinstance(m, Message) for m in messages):
            raise exc.ValidationError("send_list() takes a non-empty sequence of smscenter.Message")
        if messages[0].client_id is None:
            cid = self._new_client_id()
            messages = [attrs.evolve(m, client_id=cid) for m in messages]
        request = proto.list_send_request(messages, per_recipient=per_recipient)
        return await self._send(request, messages[0].client_id, [p for m in messages for p in m.to])

    async def _send(
        self, request: proto.Request, client_id: int | str | None, phones: Sequence[str]
    ) -> SendResult:
        sends = SendAttempts(self._timeouts.connect)
        try:
            data, attempt = await self._call_with_attempts(request, sends)
        except (exc.TransportError, exc.RemoteProtocolError) as error:
            if sends.written:
                logger.warning("http.send.unknown client_id=%s", client_id)
                raise sends.unknown(error, client_id, phones) from None
            raise  # never written: nothing was sent
        try:
            proto.check_answer(request, data)
        except exc.DuplicateRequestError as error:
            scrub_error(error, self._secrets(request))
            # Error 9 on the first attempt is a real duplicate of an earlier call. On a retry it
            # usually means the attempt whose answer was lost did reach the provider.
            if attempt == 1 or client_id is None:
                raise
            return await self._reconcile(error, client_id, phones)
        except exc.SMSCenterError as error:
            scrub_error(error, self._secrets(request))
            raise
        return proto.parse_send(data, client_id=client_id)

    async def _reconcile(
        self, error: exc.DuplicateRequestError, client_id: int | str, phones: Sequence[str]
    ) -> SendResult:
        """After a retried send was refused as a duplicate: did the first attempt go out?"""
        logger.info("http.send.reconcile client_id=%s", client_id)
        try:
            result = await lookup(self, client_id, phones)
        except exc.UnknownOutcomeError as unknown:
            unknown.cause = error
            raise
        except (exc.TransportError, exc.RemoteProtocolError, exc.APIError) as failure:
            raise exc.UnknownOutcomeError(
                "a retried send was refused as a duplicate and the status check failed: the "
                f"first attempt (client id {client_id}) may or may not have gone out",
                cause=failure,
                client_id=client_id,
                recipients=tuple(phones),
                transport=Transport.HTTP,
            ) from None
        if result is None:
            raise exc.DuplicateRequestError(
                error.code,
                error.description
                + "; the retried send was refused as a duplicate and no message with client id "
                f"{client_id} exists, so nothing was sent",
                endpoint="send",
            ) from None
        return result

    async def settle(self, error: exc.UnknownOutcomeError) -> SendResult | None:
        """Settle a send whose outcome is unknown by asking the provider about its client id
        (status.php with each recipient).

        Returns the send's :class:`SendResult` (with :attr:`SendResult.confirmed_by_status`)
        when the provider holds the message, or None when it holds no message with that client
        id: it was not sent, and sending it again is safe. Ask once the connection trouble is
        over; the error's ``client_id`` and ``recipients`` say what is looked up::

            try:
                result = await api.send(message)
            except UnknownOutcomeError as unknown:
                result = await api.settle(unknown)
                if result is None:
                    result = await api.send(message)   # it never went out

        :raises ValueError: the error carries no client id (it did not come from an HTTP send).
        :raises smscenter.UnknownOutcomeError: the send went to contact groups only, which
            status.php cannot look up.
        With a store, the record of that client id is settled with what the provider said
        (accepted, or failed and safe to send again); a lookup that fails leaves it unknown.

        :raises smscenter.SMSCenterError: the status request failed; the outcome stays open.
        :raises smscenter.store.StoreError: (with a store) the answer could not be recorded.
        """
        if error.client_id is None or not error.recipients:
            raise exc.ValidationError(
                "this unknown outcome carries no client id and recipients to look up"
            )
        result = await lookup(self, error.client_id, error.recipients)
        if self._store is not None:
            await settle_tracked(self._store, error.client_id, result)
        return result

    async def cost(self, message: Message, *, per_recipient: bool = False) -> Cost:
        """What sending ``message`` would cost (send.php ``cost=1``); nothing is sent."""
        if not isinstance(message, Message):
            raise TypeError("cost() takes a smscenter.Message")
        return proto.parse_cost(
            await self._call(
                proto.send_request(message, price_only=True, per_recipient=per_recipient)
            )
        )

    async def cost_list(self, messages: Sequence[Message]) -> Cost:
        """What a :meth:`send_list` would cost; nothing is sent."""
        request = proto.list_send_request(list(messages), price_only=True)
        return proto.parse_cost(await self._call(request))

    # -- statuses ----------------------------------------------------------------------------

    async def status(self, message_id: str, phone: str, *, detail: int = 0) -> DeliveryReport:
        """The delivery status of one message (status.php).

        :param detail: 0 basic, 1 with text, cost and sender, 2 also country and operator.
            HLR results come back as :attr:`DeliveryReport.hlr`.
        :raises smscenter.NotFoundError: no such message.
        """
        request = proto.status_request(message_id, phone, detail=detail)
        return proto.parse_report(
            await self._call(request),
            tz=self._account_tz,
            message_id=str(message_id),
            phone=phone,
        )

    async def status_many(
        self, items: Iterable[tuple[str, str]], *, detail: int = 0
    ) -> list[DeliveryReport]:
        """Statuses of many ``(message_id, phone)`` pairs in one request.

        A message the provider does not know comes back with :attr:`MessageStatus.NOT_FOUND`.
        """
        pairs = [(str(i), p) for i, p in items]
        request = proto.status_many_request(pairs, detail=detail)
        return proto.parse_status_many(await self._call(request), pairs, tz=self._account_tz)

    async def delete(self, message_id: str, phone: str) -> None:
        """Delete a sent message from the history (status.php ``del=1``).

        :raises smscenter.OperationFailedError: the provider could not delete it.
        """
        data = await self._call(proto.delete_request(message_id, phone))
        if isinstance(data, dict) and "result" in data:
            proto.parse_ok(data, "delete")

    async def balance(self) -> Balance:
        """The account balance, with currency (balance.php ``cur=1``)."""
        return proto.parse_balance(await self._call(proto.balance_request()))

    # -- get.php / info.php -----------------------------------------------------------------

    async def history(
        self,
        *,
        start: date | None = None,
        end: date | None = None,
        phones: Sequence[str] | None = None,
        count: int | None = None,
        before_id: str | None = None,
    ) -> list[DeliveryReport]:
        """Sent-message history, newest first (get.php ``get_messages``, smscentre.com/api/http).

        Each row is a full :class:`DeliveryReport` (status, times, text, cost, operator). No
        matching message gives an empty list.

        :param count: at most 100 rows; page back with ``before_id`` = the last row's id.
        """
        request = proto.history_request(
            start=start, end=end, phones=phones, count=count, before_id=before_id
        )
        try:
            data = await self._call(request)
        except exc.NotFoundError:
            return []  # error 3 "message not found": an empty page, not a failure
        return proto.parse_history(data, tz=self._account_tz)

    async def incoming(
        self, *, hours: int | None = None, after_id: str | None = None, to_phone: str | None = None
    ) -> list[IncomingMessage]:
        """Messages subscribers sent you (get.php ``get_answers``, smscentre.com/api/http).

        :param hours: how far back, at most 168; ``after_id`` returns only newer ones.
        """
        request = proto.incoming_request(hours=hours, after_id=after_id, to_phone=to_phone)
        return proto.parse_incoming(await self._call(request), tz=self._account_tz)

    async def statistics(
        self,
        *,
        start: date,
        end: date | None = None,
        in_account_currency: bool = False,
        second_balance: bool = False,
    ) -> list[StatisticsRow]:
        """Sending statistics for a period (get.php ``get_stat``)."""
        request = proto.statistics_request(
            start=start,
            end=end,
            in_account_currency=in_account_currency,
            second_balance=second_balance,
        )
        return proto.parse_statistics(await self._call(request))

    async def prices(self) -> PriceList:
        """The account's tariffs (get.php ``get_price``)."""
        return proto.parse_prices(await self._call(proto.prices_request()))

    async def megafon_accounts(self, *, account: str | None = None) -> list[MegafonAccount]:
        """MegaFon personal-account statistics (get.php ``get_mega_accounts``).

        :raises smscenter.NotFoundError: the account has none.
        """
        request = proto.megafon_accounts_request(account=account)
        return proto.parse_megafon_accounts(await self._call(request))

    async def operator(self, phone: str) -> OperatorInfo:
        """The operator, country and region of a number (info.php ``get_operator``).

        :raises smscenter.NotFoundError: the operator is unknown.
        """
        return proto.parse_operator(await self._call(proto.operator_request(phone)), phone=phone)

    # -- receive numbers, wait_call, downloads ----------------------------------------------

    async def receive_numbers(self) -> list[ReceiveNumber]:
        """Dedicated numbers available to rent (receive_phones.php ``get``)."""
        return proto.parse_receive_numbers(await self._call(proto.receive_numbers_request()))

    async def buy_number(self, phone: str, *, renew: bool = True) -> Decimal:
        """Rent a dedicated number for the rest of the month; returns the amount charged.

        :raises smscenter.InsufficientFundsError: not enough money.
        """
        request = proto.buy_number_request(phone, renew=renew)
        return proto.parse_bought_number(await self._call(request))

    async def set_number_renewal(self, phone: str, *, renew: bool) -> None:
        """Switch a rented number's renewal for next month on or off."""
        request = proto.set_number_renewal_request(phone, renew=renew)
        proto.parse_ok(await self._call(request), "receive_phones.chg")

    async def wait_call(self, phone: str) -> CallToConfirm:
        """Start a confirm-by-call: the number ``phone`` must call within 15 minutes.

        :raises smscenter.BlacklistedError: ``phone`` is in the account's blacklist.
        """
        return proto.parse_wait_call(await self._call(proto.wait_call_request(phone)))

    async def downloads(
        self, *, count: int | None = None, after_id: str | None = None
    ) -> list[DownloadTask]:
        """Deferred export tasks (downloads.php ``get_list``)."""
        request = proto.downloads_request(count=count, after_id=after_id)
        return proto.parse_downloads(await self._call(request), tz=self._account_tz)

    @asynccontextmanager
    async def download(
        self, *, task_id: str | None = None, name: str | None = None, chunk_size: int = 65536
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """Stream a finished export's CSV file (downloads.php ``get_file``)::

            async with api.download(task_id=task.task_id) as chunks:
                async for chunk in chunks:
                    out.write(chunk)

        The file is not loaded into memory. Connection failures before the answer starts move
        on to the mirrors like any request.

        :raises smscenter.NotFoundError: no such task or file (error 5).
        """
        request = proto.download_file_request(task_id=task_id, name=name)
        self._open_implicitly()
        secrets_ = self._credentials.secrets()
        last: exc.SMSCenterError | None = None
        for number, base in enumerate(self._attempt_urls(), start=1):
            if number > 1:
                await anyio.sleep(self._retry.delay(number - 1, self._random.random()))
            host = base.netloc.decode("ascii")
            async with self._slot():
                try:
                    response = await self._client.send(self._build(request, base), stream=True)
                except httpx.HTTPError as error:
                    last = map_httpx_error(error, host=host, secrets=secrets_)
                    continue
                try:
                    content_type = response.headers.get("content-type", "")
                    if response.status_code != 200:
                        last = exc.RemoteProtocolError(
                            f"{request.action}: HTTP {response.status_code} from {host}"
                        )
                        continue
                    if "json" in content_type:
                        # An error answer instead of the file.
                        await response.aread()
                        if not response.content.strip():
                            # Empty, as in _attempt: the next mirror may answer.
                            last = exc.RemoteProtocolError(
                                f"{request.action}: empty answer from {host}"
                            )
                            continue
                        try:
                            answer = decode_json(response.content, content_type)
                        except ValueError:
                            raise exc.RemoteProtocolError(
                                f"{request.action}: the answer from {host} is not JSON"
                            ) from None
                        try:
                            proto.check_answer(request, answer)
                        except exc.SMSCenterError as error:
                            scrub_error(error, secrets_)
                            raise
                        raise exc.RemoteProtocolError(
                            f"{request.action}: a JSON answer instead of the file"
                        )
                    yield self._iter_body(response, host, chunk_size)
                    return
                finally:
                    await response.aclose()
        assert last is not None
        raise scrub_error(last, secrets_)

    async def _iter_body(
        self, response: httpx.Response, host: str, chunk_size: int
    ) -> AsyncIterator[bytes]:
        try:
            async for chunk in response.aiter_bytes(chunk_size):
                yield chunk
        except httpx.HTTPError as error:
            raise map_httpx_error(error, host=host, secrets=self._credentials.secrets()) from None

    async def download_bytes(self, *, task_id: str | None = None, name: str | None = None) -> bytes:
        """The whole export file at once (for small files; prefer :meth:`download`)."""
        parts = []
        async with self.download(task_id=task_id, name=name) as chunks:
            async for chunk in chunks:
                parts.append(chunk)
        return b"".join(parts)
