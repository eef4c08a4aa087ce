""":class:`HTTPClient`'s streamed download of an export file (downloads.php ``get_file``).

:class:`DownloadCalls` is a base class of :class:`~smscenter.http.client.HTTPClient`. The file
comes as a stream, not a JSON answer, so it has its own attempt loop over the mirrors beside
the client's request loop: same hosts, backoff, request slots and error mapping.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING

import anyio
import httpx

from smscenter import exceptions as exc
from smscenter._scrub import scrub_error
from smscenter.config import Credentials, RetryPolicy
from smscenter.http import _protocol as proto
from smscenter.http._decode import decode_json
from smscenter.http._httpx_errors import map_httpx_error

__all__ = ("DownloadCalls",)


class DownloadCalls:
    """downloads.php ``get_file``: stream a finished export, or read it whole."""

    __slots__ = ()

    if TYPE_CHECKING:
        _credentials: Credentials
        _retry: RetryPolicy
        _random: random.Random
        _client: httpx.AsyncClient

        def _open_implicitly(self) -> None: ...

        def _attempt_urls(self) -> list[httpx.URL]: ...

        def _build(self, request: proto.Request, base: httpx.URL) -> httpx.Request: ...

        def _slot(self) -> AbstractAsyncContextManager[None]: ...

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
