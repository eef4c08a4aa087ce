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

This module holds the client's lifecycle and its request loop; the calls are its base classes:
sends and their settling (:mod:`smscenter.http._send_calls`), the other core scripts
(:mod:`smscenter.http._core_calls`), the streamed export download
(:mod:`smscenter.http._download_calls`), the account's data and mailings
(:mod:`smscenter.http._account_calls`, :mod:`smscenter.http._mailing_calls`); the httpx error
mapping is :mod:`smscenter.http._httpx_errors`.
"""

from __future__ import annotations

import enum
import logging
import random
import re
import ssl
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import tzinfo
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
from smscenter.http._download_calls import DownloadCalls
from smscenter.http._httpx_errors import map_httpx_error
from smscenter.http._mailing_calls import MailingCalls
from smscenter.http._outcome import SendAttempts, maybe_written
from smscenter.http._send_calls import SendCalls
from smscenter.store._protocol import MessageStore

if TYPE_CHECKING:
    from smscenter.fleet import Fleet


__all__ = ("HTTPClient", "map_httpx_error")


logger = logging.getLogger(__name__)

_FORM_HEADERS: Final = {"Content-Type": "application/x-www-form-urlencoded"}

#: The number of mirrors the official libraries try after the main host (www2..www5).
_DEFAULT_MIRRORS: Final = 4


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
class HTTPClient(SendCalls, DownloadCalls, AccountCalls, MailingCalls):
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
