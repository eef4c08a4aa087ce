"""The byte stream under one bind: connecting (TCP or TLS, TCP_NODELAY on) and the ONE place
where the stream's own errors (anyio's, the OS's, TLS's) become the project's.

Every read, write, connect and close of a bind goes through :class:`Link`, so the list of
"the link broke" exceptions is written once (httpcore's anyio backend does the same):

- **connect**: :class:`~smscenter.exceptions.ConnectTimeout` /
  :class:`~smscenter.exceptions.ConnectError`;
- **write**: :class:`~smscenter.exceptions.ConnectionLost`;
- **read**: a broken link reads as its end (``b""``): the sans-IO connection then reports
  ``ConnectionClosed`` like any other end of the link, and the session decides what it means
  (a lost link, or the goodbye after our unbind);
- **close**: never raises.

``connect=`` is the seam for tests and unusual networks: any callable ``(host, port) ->``
:class:`anyio.abc.ByteStream` (a memory stream pair, a SOCKS tunnel, ...).
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from types import TracebackType

import anyio
import anyio.abc

from smscenter.exceptions import ConnectError, ConnectionLost, ConnectTimeout, SMSCenterError

__all__ = ("Connector", "Link", "hosts", "make_ssl_context", "map_errors", "tcp_connector")

#: Opens the byte stream to ``(host, port)``.
Connector = Callable[[str, int], Awaitable[anyio.abc.ByteStream]]

#: What a broken, closed or refused link raises below us (``ssl.SSLError`` is an ``OSError``).
STREAM_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
    anyio.EndOfStream,
)

_READ_SIZE = 1 << 18


class map_errors:
    """``with map_errors(to): ...`` raises ``to(exc)`` for the stream's own errors; with
    ``to=None`` it swallows them (the code after the ``with`` runs).

    A small class rather than a generator: a bind enters it once per read and per write.
    """

    __slots__ = ("_to",)

    def __init__(self, to: Callable[[BaseException], SMSCenterError] | None) -> None:
        self._to = to

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if exc is None or not isinstance(exc, STREAM_ERRORS):
            return False
        if self._to is None:
            return True
        raise self._to(exc) from exc


def make_ssl_context(tls: bool | ssl.SSLContext) -> ssl.SSLContext | None:
    """``True``: the system's verifying context; a context: as given; ``False``: plain TCP."""
    if isinstance(tls, ssl.SSLContext):
        return tls
    return ssl.create_default_context() if tls else None


def tcp_connector(tls: bool | ssl.SSLContext = False) -> Connector:
    """The default :data:`Connector`: TCP, or TLS when ``tls`` says so."""
    context = make_ssl_context(tls)

    async def connect(host: str, port: int) -> anyio.abc.ByteStream:
        if context is None:
            return await anyio.connect_tcp(host, port)
        return await anyio.connect_tcp(
            host, port, ssl_context=context, tls_standard_compatible=False
        )

    return connect


def hosts(
    host: str, port: int, backups: Iterable[str | tuple[str, int]]
) -> tuple[tuple[str, int], ...]:
    """The primary and the backup hosts (a bare backup name takes the primary's port)."""
    out = [(host, port)]
    for backup in backups:
        out.append((backup, port) if isinstance(backup, str) else (backup[0], int(backup[1])))
    return tuple(out)


class Link:
    """One connected byte stream of a bind, whose errors are the project's (module docstring).

    :param stream: the connected stream.
    :param name: the bind's name, for messages.
    """

    __slots__ = ("_quiet", "_write_errors", "name", "stream")

    def __init__(self, stream: anyio.abc.ByteStream, name: str) -> None:
        self.stream = stream
        self.name = name
        self._quiet = map_errors(None)
        self._write_errors = map_errors(self._lost)

    def _lost(self, exc: BaseException) -> SMSCenterError:
        return ConnectionLost(f"writing to {self.name} failed: {exc!r}", host=self.name)

    @classmethod
    async def open(
        cls, connect: Connector, host: str, port: int, *, connect_timeout: float | None, name: str
    ) -> Link:
        """Connect within ``connect_timeout`` seconds and turn TCP_NODELAY on.

        :raises ConnectTimeout: / :raises ConnectError: as the module docstring says.
        """

        def refused(exc: BaseException) -> SMSCenterError:
            return ConnectError(f"could not connect to {name}: {exc}", host=name)

        try:
            with anyio.fail_after(connect_timeout), map_errors(refused):
                stream = await connect(host, port)
        except TimeoutError:
            raise ConnectTimeout(
                f"could not connect to {name} within {connect_timeout} s", host=name
            ) from None
        sock = stream.extra(anyio.abc.SocketAttribute.raw_socket, None)
        if sock is not None:
            # Batched writes go out at once (docs/performance.md); asyncio sets it already,
            # trio and TLS wrappers may not.
            with map_errors(None):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(stream, name)

    async def receive(self) -> bytes:
        """The next chunk; ``b""`` when the peer closed or the link broke."""
        with self._quiet:
            return await self.stream.receive(_READ_SIZE)
        return b""

    async def send(self, data: bytes) -> None:
        """Write ``data``.

        :raises ConnectionLost: the link broke.
        """
        with self._write_errors:
            await self.stream.send(data)

    async def send_quietly(self, data: bytes) -> None:
        """Write ``data`` if the link still takes it (a goodbye nobody waits for)."""
        with self._quiet:
            await self.stream.send(data)

    async def aclose(self) -> None:
        """Close the stream (at most a second, even when cancelled); never raises."""
        with anyio.move_on_after(1, shield=True), self._quiet:
            await self.stream.aclose()
