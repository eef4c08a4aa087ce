"""httpx's exceptions mapped to smscenter's, in one place: :func:`map_httpx_error`.

Every request of :class:`~smscenter.http.HTTPClient` (and the streamed download) turns a failed
httpx call into the :class:`~smscenter.SMSCenterError` subclass it stands for here, with the
host named and any secret masked, so no httpx type leaks to the caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import httpx

from smscenter import exceptions as exc

__all__ = ("map_httpx_error",)

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
